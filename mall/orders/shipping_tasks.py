"""Beat tasks of shipping. Beat sends the ``…_everywhere`` task (public schema); it fans out one
task per store, each running in that store's schema (tenant-schemas-celery takes the schema
from the connection when the task is sent)."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from mall.orders import shipping


@shared_task(name="orders.complete_delivered_orders")
def complete_delivered_orders() -> int:
    return shipping.complete_delivered_orders()


@shared_task(name="orders.complete_delivered_orders_everywhere")
def complete_delivered_orders_everywhere() -> int:
    from tenants.models import Tenant

    schemas = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    for schema in schemas:
        with schema_context(schema):
            complete_delivered_orders.apply_async()
    return len(schemas)


@shared_task(name="orders.requery_tracking")
def requery_tracking() -> int:
    from mall.orders.shipping_effects import requery_silent_shipments

    return requery_silent_shipments()


@shared_task(name="orders.requery_tracking_everywhere")
def requery_tracking_everywhere() -> int:
    from tenants.models import Tenant

    schemas = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    for schema in schemas:
        with schema_context(schema):
            requery_tracking.apply_async()
    return len(schemas)
