"""Wagtail's migrations create the CMS groups "Editors" and "Moderators" (page editing and
moderation) in every schema. Neither console edits pages, and console roles are groups defined
in code: remove the two while they have no members, so no English CMS role is offered."""

from django.db import migrations

WAGTAIL_DEFAULT_GROUPS = ["Editors", "Moderators"]


def remove_default_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=WAGTAIL_DEFAULT_GROUPS, user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "__latest__"),
        ("wagtailcore", "__latest__"),
        ("wagtailadmin", "__latest__"),
        ("wagtailimages", "__latest__"),
        ("wagtaildocs", "__latest__"),
        ("wagtailsearch", "__latest__"),
    ]
    operations = [migrations.RunPython(remove_default_groups, migrations.RunPython.noop)]
