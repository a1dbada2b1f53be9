"""Hooks other apps subscribe to (through the outbox, never a Django signal: house rule 10).

``order_paid``: an order became paid. Called by ``record_payment`` inside the transaction that
marks it paid; every handler in ``settings.ORDER_PAID_HANDLERS`` gets one outbox message with
``order_id`` (the distribution engine's commission at payment).

``order_line_refunded``: an order line gave money back. Called by ``mall.payments`` once per
refund line when a refund reaches SUCCESS, inside the transaction that records the success
(so the messages exist exactly when the success does, and a repeated notify, which changes
nothing, publishes nothing). Every handler named in ``settings.ORDER_LINE_REFUNDED_HANDLERS``
(dotted names of ``@outbox.handler`` functions, e.g. the distribution issue's commission
claw-back) gets one outbox message with the keyword arguments
``line_id, refund_id, amount_fen, quantity``."""

from __future__ import annotations

from django.conf import settings

from core import outbox


def order_line_refunded_handlers() -> list[str]:
    return list(getattr(settings, "ORDER_LINE_REFUNDED_HANDLERS", []) or [])


def order_line_refunded(*, line_id: int, refund_id: int, amount_fen: int, quantity: int) -> int:
    """Publish one refunded line to every subscriber; returns how many messages were recorded.
    Must run inside the caller's transaction (``outbox.record`` refuses otherwise)."""
    names = order_line_refunded_handlers()
    for name in names:
        outbox.record(name, line_id=line_id, refund_id=refund_id, amount_fen=amount_fen, quantity=quantity)
    return len(names)


def order_paid(*, order_id: int) -> int:
    names = list(getattr(settings, "ORDER_PAID_HANDLERS", []) or [])
    for name in names:
        outbox.record(name, order_id=order_id)
    return len(names)
