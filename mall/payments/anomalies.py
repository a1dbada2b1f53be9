"""Payments WeChat reported that do not simply pay an order. Called by
``mall.orders.actions.record_payment`` only, inside its transaction with the order locked; each
is recorded as a ``PaymentAnomaly`` with an order event and shown to the merchant (the console's
支付异常 screen and a warning on the order), never only logged.

* ``flag_amount_mismatch``: an unpaid order paid with another amount than its total. The order
  is not marked paid. The notify is still acknowledged (``mall.payments.views``): WeChat's
  retries for a day would carry the same amount and change nothing; the anomaly is what the
  merchant acts on (contact the shopper, refund in WeChat Pay's merchant platform).
* ``record_extra_payment``: a successful payment of an order already paid (another transaction
  id) or already cancelled. It is recorded (``Payment.is_duplicate``: the order's status and paid
  amount do not change) and refunded in full at once: a system refund of *that* payment, sent to
  WeChat through the outbox (``mall.payments.effects.submit_refund``), idempotent on the
  transaction id (the notify replayed gives the same payment, no second refund).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from mall.orders.actions import log_event
from mall.orders.models import Order, OrderEventKind, OrderStatus
from mall.payments.models import AnomalyKind, Payment, PaymentAnomaly, Refund, RefundSource, RefundStatus


def _tenant_id() -> int:
    from mall.payments.actions import current_tenant_id

    return current_tenant_id()


def new_out_refund_no() -> str:
    return f"{_tenant_id()}_R{timezone.localtime():%y%m%d%H%M%S}{secrets.randbelow(10**6):06d}"


def _require_lock() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("payment anomalies are recorded inside record_payment's transaction")


def flag_amount_mismatch(*, order: Order, transaction_id: str, amount_fen: int) -> PaymentAnomaly:
    """Record (once per transaction id) that ``order`` was paid ``amount_fen`` instead of its total."""
    _require_lock()
    anomaly, created = PaymentAnomaly.objects.get_or_create(
        kind=AnomalyKind.AMOUNT_MISMATCH,
        transaction_id=transaction_id,
        defaults={
            "order": order,
            "order_no": order.order_no,
            "amount_fen": amount_fen,
            "expected_fen": order.total_fen,
        },
    )
    if created:
        log_event(
            order=order,
            kind=OrderEventKind.PAYMENT_ANOMALY,
            note=_("支付金额不符：实付 %(paid)s 分，应付 %(total)s 分，未确认付款（%(tid)s）")
            % {"paid": amount_fen, "total": order.total_fen, "tid": transaction_id},
        )
    return anomaly


def record_extra_payment(*, order: Order, transaction_id: str, amount_fen: int, paid_at: datetime) -> Payment:
    """A payment ``order`` does not take (it is paid already, or cancelled): recorded and
    refunded in full automatically. The caller made sure ``transaction_id`` is new."""
    _require_lock()
    cancelled = order.status == OrderStatus.CANCELLED
    payment = Payment.objects.create(
        order=order, transaction_id=transaction_id, amount_fen=amount_fen, paid_at=paid_at, is_duplicate=True
    )
    reason = _("订单已取消，自动退款") if cancelled else _("重复支付，自动退款")
    refund = Refund.objects.create(
        order=order,
        payment=payment,
        out_refund_no=new_out_refund_no(),
        amount_fen=amount_fen,
        reason=reason,
        source=RefundSource.SYSTEM,
        status=RefundStatus.REQUESTED,
    )
    PaymentAnomaly.objects.create(
        kind=AnomalyKind.PAID_AFTER_CANCEL if cancelled else AnomalyKind.DUPLICATE_PAYMENT,
        order=order,
        order_no=order.order_no,
        transaction_id=transaction_id,
        amount_fen=amount_fen,
        expected_fen=order.total_fen,
        refund=refund,
    )
    log_event(
        order=order,
        kind=OrderEventKind.PAYMENT_ANOMALY,
        note=_("%(what)s：%(tid)s 支付 %(paid)s 分，已自动退款（%(no)s）")
        % {
            "what": _("取消后支付") if cancelled else _("重复支付"),
            "tid": transaction_id,
            "paid": amount_fen,
            "no": refund.out_refund_no,
        },
    )
    log_event(
        order=order,
        kind=OrderEventKind.REFUND_REQUESTED,
        note=f"{refund.out_refund_no} {amount_fen} {reason}",
    )
    outbox.record("mall.payments.effects.submit_refund", refund_id=refund.pk)
    return payment
