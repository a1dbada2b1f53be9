"""Stores that existed before the distribution console had screens: their role groups gain the
distribution permissions that ``saas_platform.accounts.roles`` now gives each role (new stores
get them from ``ensure_merchant_roles``). Group names are ``roles.group_name(role)``, written out
here because mall imports nothing of saas_platform. Only adds: nothing a group holds is removed.

Named 0005 as the console work was planned; it runs after 0006_profit_sharing_payout so the
app keeps a single leaf."""

from django.db import migrations

GRANTS = {
    "role:owner": [
        "view_promoter",
        "review_promoter",
        "freeze_promoter",
        "override_promoter_rate",
        "adjust_commission",
        "change_binding",
        "change_distributionsettings",
        "view_commissionentry",
        "export_commissionentry",
        "view_withdrawal",
        "review_withdrawal",
    ],
    "role:customer_service": ["view_promoter", "review_promoter", "freeze_promoter", "view_commissionentry"],
    "role:finance": [
        "view_commissionentry",
        "export_commissionentry",
        "view_withdrawal",
        "review_withdrawal",
        "adjust_commission",
    ],
}


def forwards(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    groups = {g.name: g for g in Group.objects.filter(name__in=GRANTS)}
    if not groups:
        return  # a new schema (template, spare): the roles are made at provisioning
    create_permissions(global_apps.get_app_config("promoters"), verbosity=0, using=schema_editor.connection.alias)
    Permission = apps.get_model("auth", "Permission")
    perms = {p.codename: p for p in Permission.objects.filter(content_type__app_label="promoters")}
    for name, group in groups.items():
        group.permissions.add(*[perms[c] for c in GRANTS[name] if c in perms])


class Migration(migrations.Migration):
    dependencies = [
        ("promoters", "0006_profit_sharing_payout"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
