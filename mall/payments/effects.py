"""Outbox handlers of the payments app (run in the tenant's schema)."""

from core import outbox
from mall.payments import actions


@outbox.handler(external=True)
def submit_refund(*, refund_id: int) -> None:
    """Calls WeChat: runs with no transaction open (no row lock during the call); idempotent on
    ``out_refund_no``, so a repeated run after a crash asks WeChat again and records the same."""
    actions.submit_refund(refund_id=refund_id)
