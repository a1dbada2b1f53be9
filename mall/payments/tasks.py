"""Beat tasks of the payments app. ``settle_unpaid_orders`` (beat, public schema) fans out one
``settle_unpaid_orders_of_store`` per store, each run in that store's schema
(tenant-schemas-celery takes the schema from the connection the task is sent from)."""

from __future__ import annotations

import logging

from celery import shared_task

from mall.payments import unpaid
from tenants.tasks import send_to_every_store

log = logging.getLogger(__name__)


@shared_task(name="payments.settle_unpaid_orders")
def settle_unpaid_orders() -> int:
    return send_to_every_store(settle_unpaid_orders_of_store)


@shared_task(name="payments.settle_unpaid_orders_of_store")
def settle_unpaid_orders_of_store() -> dict:
    """Cancel the expired unpaid orders (after asking WeChat), then ask WeChat about the late ones."""
    expired = unpaid.expire_unpaid_orders()
    queried = unpaid.query_unpaid_orders()
    if expired["cancelled"] or expired["paid"] or queried["paid"]:
        log.info("unpaid orders: expired %s, queried %s", expired, queried)
    return {"expired": expired, "queried": queried}
