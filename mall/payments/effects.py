"""Outbox handlers of the payments app (run once each, in the tenant's schema)."""

from core import outbox
from mall.payments import actions


@outbox.handler
def submit_refund(*, refund_id: int) -> None:
    actions.submit_refund(refund_id=refund_id)
