"""Outbox handlers of the tenants app."""

from core import outbox
from tenants import provisioning


@outbox.handler
def refill_pool() -> None:
    provisioning.refill_spare_pool()
