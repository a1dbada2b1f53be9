"""Paying and refunding a store's orders through WeChat Pay (``integrations.wechat.pay``).

* ``start_miniprogram_payment`` / ``start_native_payment`` ask WeChat for a prepay (no state
  changes here: the order is marked paid only by ``mall.orders.actions.record_payment``, from
  the notify or from ``sync_payment``).
* ``request_refund`` records the refund and, in the same transaction, an outbox message that
  submits it to WeChat (``effects.submit_refund``); if WeChat is down the message stays
  pending and is retried, nothing is lost.
* ``record_refund_result`` applies WeChat's verdict (notify or query), idempotently.

The tenant of every WeChat number is encoded in it: ``out_trade_no = "<tenant id>_<order no>"``.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core import outbox
from integrations.wechat.errors import WeChatPayError
from integrations.wechat.pay import PayClient, trade_no_for
from mall.orders.actions import log_event, record_payment
from mall.orders.models import Order, OrderEventKind, OrderStatus
from mall.payments.models import FINISHED_REFUND_STATES, OPEN_OR_DONE, REFUND_FSM, Payment, Refund, RefundStatus

log = logging.getLogger(__name__)

WECHAT_REFUND_STATUS = {
    "SUCCESS": RefundStatus.SUCCESS,
    "ABNORMAL": RefundStatus.ABNORMAL,
    "CLOSED": RefundStatus.CLOSED,
    "PROCESSING": RefundStatus.PROCESSING,
}


def current_tenant_id() -> int:
    from tenants.models import Tenant

    tenant = getattr(connection, "tenant", None)
    if getattr(tenant, "pk", None):
        return tenant.pk
    return Tenant.objects.only("pk").get(schema_name=connection.schema_name).pk


def out_trade_no(order: Order) -> str:
    return trade_no_for(tenant_id=current_tenant_id(), order_no=order.order_no)


def _description(order: Order) -> str:
    titles = list(order.lines.values_list("title", flat=True)[:2])
    text = "、".join(titles) or _("订单 %(no)s") % {"no": order.order_no}
    return text[:120]


def _payable(order: Order) -> Order:
    """The order, fresh, if it may still be paid: unpaid and not past ``expires_at``."""
    fresh = Order.objects.get(pk=order.pk)
    if fresh.status != OrderStatus.PENDING_PAYMENT:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("订单状态为“%(s)s”，不能支付。") % {"s": fresh.get_status_display()}, code="not_payable"
                )
            }
        )
    if fresh.expires_at and fresh.expires_at <= timezone.now():
        raise ValidationError({"status": ValidationError(_("订单已超时，不能支付。"), code="expired")})
    return fresh


def start_miniprogram_payment(*, order: Order, openid: str, appid: str, profit_sharing: bool = False) -> dict:
    """Prepay for ``wx.requestPayment``: returns ``{"prepay_id", "pay_params"}``."""
    order = _payable(order)
    return PayClient().prepay_miniprogram(
        out_trade_no=out_trade_no(order),
        description=_description(order),
        amount_fen=order.total_fen,
        openid=openid,
        appid=appid,
        profit_sharing=profit_sharing,
    )


def start_native_payment(*, order: Order, profit_sharing: bool = False) -> str:
    """Native (PC QR) prepay: returns the code_url to show as a QR code."""
    order = _payable(order)
    return PayClient().prepay_native(
        out_trade_no=out_trade_no(order),
        description=_description(order),
        amount_fen=order.total_fen,
        profit_sharing=profit_sharing,
    )


def start_h5_payment(*, order: Order, client_ip: str, profit_sharing: bool = False) -> str:
    """H5 prepay (a phone browser): returns the URL of WeChat's cashier page to open."""
    order = _payable(order)
    return PayClient().prepay_h5(
        out_trade_no=out_trade_no(order),
        description=_description(order),
        amount_fen=order.total_fen,
        payer_client_ip=client_ip,
        profit_sharing=profit_sharing,
    )


def sync_payment(*, order: Order) -> Payment | None:
    """Ask WeChat about an order (when notifies stop) and record the payment if it succeeded."""
    data = PayClient().query(out_trade_no=out_trade_no(order))
    if data.get("trade_state") not in ("SUCCESS", "REFUND"):
        return None
    return record_payment(
        order_no=order.order_no,
        transaction_id=data["transaction_id"],
        amount_fen=int(data["amount"]["total"]),
        paid_at=_parse_time(data.get("success_time")),
    )


def request_refund(*, order: Order, amount_fen: int, reason: str = "") -> Refund:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError({"amount_fen": _("退款金额须为正整数（分）。")})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        payment = locked.payments.filter(is_duplicate=False).order_by("paid_at").first()
        if payment is None:
            raise ValidationError({"order": _("订单未支付，不能退款。")})
        # What this payment still holds (a duplicate payment's automatic refund is its own).
        held = Refund.objects.filter(payment=payment, status__in=OPEN_OR_DONE).aggregate(s=Sum("amount_fen"))["s"] or 0
        if amount_fen > payment.amount_fen - held:
            raise ValidationError({"amount_fen": _("最多还能退 %(left)s 分。") % {"left": payment.amount_fen - held}})
        refund = Refund.objects.create(
            order=locked,
            payment=payment,
            out_refund_no=f"{current_tenant_id()}_R{timezone.localtime():%y%m%d%H%M%S}{secrets.randbelow(10**6):06d}",
            amount_fen=amount_fen,
            reason=(reason or "")[:80],
        )
        log_event(
            order=locked,
            kind=OrderEventKind.REFUND_REQUESTED,
            note=f"{refund.out_refund_no} {amount_fen} {refund.reason}".strip(),
        )
        outbox.record("mall.payments.effects.submit_refund", refund_id=refund.pk)
    return refund


def submit_refund(*, refund_id: int) -> Refund:
    """Send a requested refund to WeChat. ``WeChatUnavailable`` propagates (the outbox retries
    with backoff); a refusal by WeChat is recorded on the refund. Runs with no transaction open:
    the call holds no row lock, and the result is recorded in its own short locked transaction
    (``_set_refund``). Idempotent on ``out_refund_no``: a repeated run records the same."""
    if connection.in_atomic_block:
        raise RuntimeError("submit_refund calls WeChat: it must not run inside a transaction")
    refund = Refund.objects.select_related("order").get(pk=refund_id)
    if refund.status != RefundStatus.REQUESTED:
        return refund
    try:
        data = PayClient().refund(
            out_trade_no=out_trade_no(refund.order),
            out_refund_no=refund.out_refund_no,
            refund_fen=refund.amount_fen,
            total_fen=refund.payment.amount_fen,
            reason=refund.reason,
            transaction_id=refund.payment.transaction_id,  # this payment (an order may have two)
        )
    except WeChatPayError as exc:
        log.warning("refund %s refused by WeChat: %s", refund.out_refund_no, exc)
        return _set_refund(refund.out_refund_no, RefundStatus.REJECTED, failure=f"{exc.code}: {exc.message}")
    return _set_refund(
        refund.out_refund_no,
        WECHAT_REFUND_STATUS.get(data.get("status"), RefundStatus.PROCESSING),
        refund_id=data.get("refund_id", ""),
    )


def record_refund_result(*, out_refund_no: str, refund_id: str, wechat_status: str, amount_fen: int) -> Refund:
    """Apply WeChat's result for a refund (its notify or a query). Idempotent."""
    status = WECHAT_REFUND_STATUS.get(wechat_status)
    if status is None:
        raise ValidationError({"status": _("未知的退款状态：%(s)s") % {"s": wechat_status}})
    refund = Refund.objects.filter(out_refund_no=out_refund_no).first()
    if refund is None:
        raise ValidationError({"out_refund_no": ValidationError(_("退款单不存在。"), code="unknown_refund")})
    if refund.amount_fen != amount_fen:
        raise ValidationError({"amount_fen": ValidationError(_("退款金额与申请不一致。"), code="amount_mismatch")})
    return _set_refund(out_refund_no, status, refund_id=refund_id)


def _set_refund(out_refund_no: str, status: str, *, refund_id: str = "", failure: str = "") -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(out_refund_no=out_refund_no)
        if refund.status == status:
            return refund  # an idempotent repeat of the same word (a second notify, a re-query)
        REFUND_FSM.move(refund, status)  # anything else about a finished refund raises
        refund.refund_id = refund_id or refund.refund_id
        refund.failure = failure[:200]
        if status in FINISHED_REFUND_STATES:
            refund.finished_at = timezone.now()
        refund.save(update_fields=["status", "refund_id", "failure", "finished_at"])
        if status in FINISHED_REFUND_STATES:
            log_event(
                order=refund.order,
                kind=OrderEventKind.REFUND_FINISHED,
                note=f"{refund.out_refund_no} {refund.get_status_display()}",
            )
    return refund


def _parse_time(value: str | None) -> datetime:
    parsed = parse_datetime(value) if value else None
    return parsed or timezone.now()


parse_wechat_time = _parse_time
