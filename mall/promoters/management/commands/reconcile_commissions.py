"""``manage.py reconcile_commissions``: recompute every promoter balance from the ledger and
every line commission from its order and refunds, across all stores; print a summary and exit
non-zero on any drift (``mall.promoters.reconcile``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from tenants.models import Tenant


class Command(BaseCommand):
    help = "Check the commission ledger of every store against its orders and refunds."

    def add_arguments(self, parser):
        parser.add_argument("--schema", help="only this store's schema")

    def handle(self, *args, **opts):
        from mall.promoters.reconcile import reconcile

        tenants = Tenant.objects.exclude(schema_name="public")
        if opts.get("schema"):
            tenants = tenants.filter(schema_name=opts["schema"])
        total_drift = 0
        stores = promoters = entries = lines = 0
        for t in tenants.order_by("pk"):
            with schema_context(t.schema_name):
                rep = reconcile()
            stores += 1
            promoters += rep.promoters
            entries += rep.entries
            lines += rep.lines
            for d in rep.drift:
                self.stderr.write(f"[{t.schema_name}] {d}")
            total_drift += len(rep.drift)
        self.stdout.write(
            f"stores={stores} promoters={promoters} entries={entries} line_commissions={lines} drift={total_drift}"
        )
        if total_drift:
            raise CommandError(f"{total_drift} difference(s) between the ledger and a recomputation")
