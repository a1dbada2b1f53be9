"""Beat tasks of shipping. Beat sends the ``…_everywhere`` task (public schema); it fans out one
task per store, each running in that store's schema (tenant-schemas-celery takes the schema
from the connection when the task is sent)."""

from __future__ import annotations

from celery import shared_task

from mall.orders import shipping
from tenants.tasks import send_to_every_store


@shared_task(name="orders.complete_delivered_orders")
def complete_delivered_orders() -> int:
    return shipping.complete_delivered_orders()


@shared_task(name="orders.complete_delivered_orders_everywhere")
def complete_delivered_orders_everywhere() -> int:
    return send_to_every_store(complete_delivered_orders)


@shared_task(name="orders.requery_tracking")
def requery_tracking() -> int:
    from mall.orders.shipping_effects import requery_silent_shipments

    return requery_silent_shipments()


@shared_task(name="orders.requery_tracking_everywhere")
def requery_tracking_everywhere() -> int:
    return send_to_every_store(requery_tracking)
