"""Stores that existed before 订单设置 had a screen: their owner group gains
``orders.change_ordersettings`` (new stores get it from ``ensure_merchant_roles``). The group
name is ``saas_platform.accounts.roles.group_name("owner")``, written out here because mall
imports nothing of saas_platform."""

from django.db import migrations

OWNER_GROUP = "role:owner"


def forwards(apps, schema_editor):
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name=OWNER_GROUP).first()
    if group is None:
        return  # a new schema (template, spare): the roles are made at provisioning
    create_permissions(global_apps.get_app_config("orders"), verbosity=0, using=schema_editor.connection.alias)
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(content_type__app_label="orders", codename="change_ordersettings").first()
    if perm is not None:
        group.permissions.add(perm)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_shipment_checked_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
