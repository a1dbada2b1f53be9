"""Every deploy: migrate public, the template, every tenant (one schema per transaction)
and every spare schema, then top the spare pool up."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants import provisioning


class Command(BaseCommand):
    help = "Migrate public, template, tenants and spare schemas; refill the spare pool."

    def add_arguments(self, parser):
        parser.add_argument("--no-refill", action="store_true", help="do not clone spare schemas")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
        provisioning.ensure_template(verbosity)
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=verbosity)
        provisioning.migrate_spares(verbosity)
        if not options["no_refill"]:
            made = provisioning.refill_spare_pool()
            self.stdout.write(f"spare pool: {provisioning.valid_spares().count()} ready ({made} new)")
