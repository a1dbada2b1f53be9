"""Paying and refunding a store's orders through WeChat Pay (``integrations.wechat.pay``).

* ``start_miniprogram_payment`` / ``start_native_payment`` ask WeChat for a prepay (no state
  changes here: the order is marked paid only by ``mall.orders.actions.record_payment``, from
  the notify or from ``sync_payment``).
* After-sales: ``request_after_sales`` (the shopper asks: a refund pending the merchant's
  review, with its lines), ``add_return_tracking``, ``approve_refund`` / ``decline_refund``
  (the merchant's review). ``request_refund`` is the merchant's (or the system's) refund with
  no review. What may still be refunded is computed in ``mall.payments.refundable``.
* An approved or merchant refund is submitted to WeChat by an outbox message recorded in the
  same transaction (``effects.submit_refund``); if WeChat is down the message stays pending
  and is retried, nothing is lost.
* ``record_refund_result`` applies WeChat's verdict (notify or query), idempotently; the move
  into SUCCESS publishes ``mall.orders.hooks.order_line_refunded`` once per refund line.

The tenant of every WeChat number is encoded in it: ``out_trade_no = "<tenant id>_<order no>"``.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core import outbox
from core.money import allocate, format_yuan
from integrations.wechat.errors import WeChatPayError
from integrations.wechat.pay import PayClient, trade_no_for
from mall.catalog.models import ProductKind
from mall.customers.models import Customer
from mall.orders import hooks, shipping
from mall.orders.actions import log_event, move_order, record_payment
from mall.orders.models import Order, OrderEventKind, OrderStatus
from mall.payments.models import (
    FINISHED_REFUND_STATES,
    OPEN_REFUND_STATES,
    REFUND_FSM,
    Payment,
    Refund,
    RefundKind,
    RefundLine,
    RefundSource,
    RefundStatus,
)
from mall.payments.refundable import LineRest, OrderRest, order_rest

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser as User

log = logging.getLogger(__name__)

# Orders whose money may be asked back: paid (awaiting shipment), shipped, completed.
REFUNDABLE_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
RETURN_TRACKING_NO = re.compile(r"[0-9A-Z-]{6,40}")

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
        profit_sharing=profit_sharing or order.profit_sharing,  # the store splits it at settlement
    )


def start_native_payment(*, order: Order, profit_sharing: bool = False) -> str:
    """Native (PC QR) prepay: returns the code_url to show as a QR code."""
    order = _payable(order)
    return PayClient().prepay_native(
        out_trade_no=out_trade_no(order),
        description=_description(order),
        amount_fen=order.total_fen,
        profit_sharing=profit_sharing or order.profit_sharing,  # the store splits it at settlement
    )


def start_h5_payment(*, order: Order, client_ip: str, profit_sharing: bool = False) -> str:
    """H5 prepay (a phone browser): returns the URL of WeChat's cashier page to open."""
    order = _payable(order)
    return PayClient().prepay_h5(
        out_trade_no=out_trade_no(order),
        description=_description(order),
        amount_fen=order.total_fen,
        payer_client_ip=client_ip,
        profit_sharing=profit_sharing or order.profit_sharing,  # the store splits it at settlement
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


def _new_refund_no() -> str:
    return f"{current_tenant_id()}_R{timezone.localtime():%y%m%d%H%M%S}{secrets.randbelow(10**6):06d}"


def _is_fen(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean_lines(*, lines: list[dict], rest: OrderRest, kind: str) -> list[tuple[LineRest, int, int]]:
    """Check the requested lines against what each can still give back. Errors name the
    field path (``lines[0].amount_fen``), all of them at once."""
    errors: dict[str, list] = {}
    picked: list[tuple[LineRest, int, int]] = []
    seen: set[int] = set()
    if not isinstance(lines, list) or not lines:
        raise ValidationError({"lines": ValidationError(_("请选择要退款的商品。"), code="required")})
    if len(lines) > len(rest.lines):
        raise ValidationError({"lines": ValidationError(_("退款商品多于订单商品。"), code="too_many")})
    for i, item in enumerate(lines):
        where = f"lines[{i}]"
        if not isinstance(item, dict):
            errors[where] = [_("格式不正确。")]
            continue
        line_id, amount, quantity = item.get("line_id"), item.get("amount_fen"), item.get("quantity", 0)
        if quantity is None:
            quantity = 0
        if not _is_fen(line_id) or line_id not in rest.lines:
            errors[f"{where}.line_id"] = [_("订单中没有这件商品。")]
            continue
        if line_id in seen:
            errors[f"{where}.line_id"] = [_("同一件商品只能出现一次。")]
            continue
        seen.add(line_id)
        line_rest = rest.lines[line_id]
        if amount is None:
            amount = line_rest.rest_fen
        if not _is_fen(amount) or amount <= 0:
            errors[f"{where}.amount_fen"] = [_("退款金额须为正整数（分）。")]
        elif amount > line_rest.rest_fen:
            errors[f"{where}.amount_fen"] = [
                _("“%(title)s”最多还能退 %(left)s（%(fen)s 分）。")
                % {"title": line_rest.line.title, "left": format_yuan(line_rest.rest_fen), "fen": line_rest.rest_fen}
            ]
        if not _is_fen(quantity) or quantity < 0:
            errors[f"{where}.quantity"] = [_("数量须为不小于 0 的整数。")]
        elif quantity > line_rest.rest_quantity:
            errors[f"{where}.quantity"] = [
                _("“%(title)s”最多还能退 %(n)s 件。") % {"title": line_rest.line.title, "n": line_rest.rest_quantity}
            ]
        elif kind == RefundKind.RETURN_REFUND and quantity == 0:
            errors[f"{where}.quantity"] = [_("退货退款须填写退回的件数。")]
        if kind == RefundKind.RETURN_REFUND and line_rest.line.kind == ProductKind.SERVICE:
            errors.setdefault(f"{where}.line_id", []).append(_("服务类商品无需退货，请选择“仅退款”。"))
        picked.append((line_rest, amount, quantity))
    if errors:
        raise ValidationError(errors)
    return picked


def _clean_tracking(carrier: str, tracking_no: str) -> tuple[str, str]:
    carrier, tracking_no = (carrier or "").strip(), (tracking_no or "").strip().upper()
    errors = {}
    if tracking_no and not RETURN_TRACKING_NO.fullmatch(tracking_no):
        errors["return_tracking_no"] = [_("运单号须为 6–40 位字母、数字或短横线。")]
    if tracking_no and not carrier:
        errors["return_carrier"] = [_("请填写退货快递公司。")]
    if len(carrier) > 20:
        errors["return_carrier"] = [_("快递公司最多 20 个字。")]
    if errors:
        raise ValidationError(errors)
    return carrier, tracking_no


def request_after_sales(
    *,
    order: Order,
    customer: Customer,
    lines: list[dict] | None,
    reason: str,
    kind: str,
    return_carrier: str = "",
    return_tracking_no: str = "",
) -> Refund:
    """A shopper asks for money back (``source=shopper``; the merchant reviews it:
    ``approve_refund`` / ``decline_refund``).

    ``lines``: ``[{"line_id", "amount_fen", "quantity"}, …]`` (``amount_fen`` omitted: the
    line's whole rest; ``quantity``: pieces given back, 0 for money only), or ``None`` for the
    whole order: every line's refundable rest, plus the shipping rest only while the order has
    not shipped (status paid: nothing left the warehouse, so the postage is owed back too; once
    shipped, the postage was spent and a shopper's refund covers goods only — the merchant can
    still give it back with ``request_refund``). Amounts are exact fen: never more than a line
    paid minus its open or done refunds, never more than the order's rest in all
    (``mall.payments.refundable``).

    ``kind``: refund only, or return and refund (physical lines of a shipped order, with the
    pieces returned; the return tracking number now or later with ``add_return_tracking``).

    One open after-sales case per order at a time: a second request waits until the first is
    finished (approved and refunded, or declined). Only paid, shipped or completed orders."""
    reason = (reason or "").strip()
    errors: dict[str, list] = {}
    if not reason:
        errors["reason"] = [_("请填写退款原因。")]
    elif len(reason) > 80:
        errors["reason"] = [_("退款原因最多 80 个字。")]
    if kind not in RefundKind.values:
        errors["kind"] = [_("请选择售后类型：仅退款或退货退款。")]
    if errors:
        raise ValidationError(errors)
    if (return_tracking_no or "").strip() and kind != RefundKind.RETURN_REFUND:
        raise ValidationError({"return_tracking_no": [_("仅退款无需填写退货运单号。")]})
    carrier, tracking_no = _clean_tracking(return_carrier, return_tracking_no)
    with transaction.atomic():
        locked = Order.objects.select_for_update().filter(pk=order.pk, customer_id=customer.pk).first()
        if locked is None:
            raise ValidationError({"order": ValidationError(_("订单不存在。"), code="unknown_order")})
        if locked.status not in REFUNDABLE_ORDER_STATUSES:
            raise ValidationError(
                {
                    "order": ValidationError(
                        _("订单状态为“%(s)s”，不能申请售后。") % {"s": locked.get_status_display()},
                        code="not_refundable",
                    )
                }
            )
        if kind == RefundKind.RETURN_REFUND and locked.status == OrderStatus.PAID:
            raise ValidationError({"kind": [_("订单尚未发货，请选择“仅退款”。")]})
        if locked.refunds.filter(status__in=OPEN_REFUND_STATES).exclude(source=RefundSource.SYSTEM).exists():
            raise ValidationError(
                {"order": ValidationError(_("这笔订单已有处理中的售后，请等处理完再申请。"), code="case_open")}
            )
        rest = order_rest(locked)
        if rest.payment is None:
            raise ValidationError({"order": ValidationError(_("订单未支付，不能退款。"), code="not_paid")})
        shipping = 0
        if lines is None:
            picked = [(r, r.rest_fen, r.rest_quantity) for r in rest.lines.values() if r.rest_fen > 0]
            if kind == RefundKind.RETURN_REFUND:
                picked = [p for p in picked if p[0].line.kind != ProductKind.SERVICE]
            if locked.status == OrderStatus.PAID:
                shipping = rest.shipping_rest_fen
        else:
            picked = _clean_lines(lines=lines, rest=rest, kind=kind)
        total = sum(amount for _r, amount, _q in picked) + shipping
        if total <= 0:
            raise ValidationError({"lines": ValidationError(_("这笔订单已没有可退的金额。"), code="nothing_left")})
        if total > rest.rest_fen:
            raise ValidationError(
                {
                    "lines": ValidationError(
                        _("退款合计 %(want)s 超过订单可退金额 %(left)s。")
                        % {"want": format_yuan(total), "left": format_yuan(rest.rest_fen)},
                        code="over_order",
                    )
                }
            )
        refund = Refund.objects.create(
            order=locked,
            payment=rest.payment,
            out_refund_no=_new_refund_no(),
            amount_fen=total,
            reason=reason,
            kind=kind,
            source=RefundSource.SHOPPER,
            return_carrier=carrier,
            return_tracking_no=tracking_no,
            status=RefundStatus.PENDING_REVIEW,
        )
        RefundLine.objects.bulk_create(
            [RefundLine(refund=refund, line=r.line, amount_fen=amount, quantity=qty) for r, amount, qty in picked]
        )
        log_event(
            order=locked,
            kind=OrderEventKind.REFUND_REQUESTED,
            note=f"{refund.out_refund_no} {refund.get_kind_display()} {format_yuan(total)} {reason}",
        )
    return refund


def add_return_tracking(*, refund: Refund, customer: Customer, return_carrier: str, return_tracking_no: str) -> Refund:
    """The shopper sent the goods back: the carrier and tracking number of a return-and-refund
    case still waiting for the merchant's review."""
    carrier, tracking_no = _clean_tracking(return_carrier, return_tracking_no)
    if not tracking_no:
        raise ValidationError({"return_tracking_no": [_("请填写退货运单号。")]})
    with transaction.atomic():
        locked = Refund.objects.select_for_update().filter(pk=refund.pk, order__customer_id=customer.pk).first()
        if locked is None:
            raise ValidationError({"refund": ValidationError(_("退款单不存在。"), code="unknown_refund")})
        if locked.kind != RefundKind.RETURN_REFUND:
            raise ValidationError({"return_tracking_no": [_("仅退款无需填写退货运单号。")]})
        if locked.status != RefundStatus.PENDING_REVIEW:
            raise ValidationError(
                {"status": [_("退款单状态为“%(s)s”，不能再修改退货运单。") % {"s": locked.get_status_display()}]}
            )
        locked.return_carrier, locked.return_tracking_no = carrier, tracking_no
        locked.save(update_fields=["return_carrier", "return_tracking_no"])
        log_event(
            order=locked.order,
            kind=OrderEventKind.REFUND_REQUESTED,
            note=_("%(no)s 退货运单：%(c)s %(t)s") % {"no": locked.out_refund_no, "c": carrier, "t": tracking_no},
        )
    return locked


def withdraw_after_sales(*, refund: Refund, customer: Customer) -> Refund:
    """The shopper takes back a request the merchant has not reviewed yet (撤销申请): the case
    is closed, the money it held is free again and the shopper may ask anew. Once approved the
    refund is with WeChat Pay and can no longer be withdrawn."""
    with transaction.atomic():
        locked = (
            Refund.objects.select_for_update()
            .select_related("order")
            .filter(pk=refund.pk, order__customer_id=customer.pk, source=RefundSource.SHOPPER)
            .first()
        )
        if locked is None:
            raise ValidationError({"refund": ValidationError(_("退款单不存在。"), code="unknown_refund")})
        if locked.status != RefundStatus.PENDING_REVIEW:
            raise ValidationError(
                {
                    "status": ValidationError(
                        _("退款单状态为“%(s)s”，只有待审核的申请可以撤销。") % {"s": locked.get_status_display()},
                        code="not_withdrawable",
                    )
                }
            )
        REFUND_FSM.move(locked, RefundStatus.CLOSED)
        locked.finished_at = timezone.now()
        locked.failure = _("顾客撤销申请")
        locked.save(update_fields=["status", "finished_at", "failure"])
        log_event(
            order=locked.order,
            kind=OrderEventKind.REFUND_FINISHED,
            note=_("%(no)s 顾客撤销申请") % {"no": locked.out_refund_no},
        )
    return locked


def approve_refund(*, refund: Refund, actor: User | None) -> Refund:
    """The merchant agrees: the refund is submitted to WeChat Pay (outbox, after commit) and
    completes on WeChat's notify (``record_refund_result``). A return-and-refund case waits for
    the shopper's return tracking number first."""
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("order").get(pk=refund.pk)
        if locked.status == RefundStatus.PENDING_REVIEW and (
            locked.kind == RefundKind.RETURN_REFUND and not locked.return_tracking_no
        ):
            raise ValidationError(
                {"return_tracking_no": ValidationError(_("顾客尚未填写退货运单号。"), code="return_missing")}
            )
        REFUND_FSM.move(locked, RefundStatus.REQUESTED)
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["status", "reviewed_at"])
        log_event(
            order=locked.order,
            kind=OrderEventKind.REFUND_APPROVED,
            actor=actor,
            note=f"{locked.out_refund_no} {format_yuan(locked.amount_fen)}",
        )
        outbox.record("mall.payments.effects.submit_refund", refund_id=locked.pk)
    return locked


def decline_refund(*, refund: Refund, reason: str, actor: User | None) -> Refund:
    """The merchant refuses, with a reason the shopper sees. The case is finished; the money it
    held is free again (the shopper may ask anew)."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写拒绝原因。"), code="required")})
    if len(reason) > 200:
        raise ValidationError({"reason": [_("拒绝原因最多 200 个字。")]})
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("order").get(pk=refund.pk)
        REFUND_FSM.move(locked, RefundStatus.DECLINED)
        now = timezone.now()
        locked.decline_reason, locked.reviewed_at, locked.finished_at = reason, now, now
        locked.save(update_fields=["status", "decline_reason", "reviewed_at", "finished_at"])
        log_event(
            order=locked.order,
            kind=OrderEventKind.REFUND_DECLINED,
            actor=actor,
            note=f"{locked.out_refund_no} {reason}",
        )
    return locked


def request_refund(
    *,
    order: Order,
    amount_fen: int | None = None,
    reason: str = "",
    lines: list[dict] | None = None,
    actor: User | None = None,
) -> Refund:
    """The merchant (or the system) gives money back, with no review: the refund is requested
    at once and submitted to WeChat through the outbox.

    Its refund lines: ``lines`` as for ``request_after_sales`` (``amount_fen``, if also given,
    may exceed their sum by at most the shipping rest: that part is postage), or, without
    ``lines``, ``amount_fen`` spread over the lines in proportion to their refundable rests
    (exact to the fen, never beyond a line's rest), any excess over the goods being postage."""
    if amount_fen is not None and (not _is_fen(amount_fen) or amount_fen <= 0):
        raise ValidationError({"amount_fen": _("退款金额须为正整数（分）。")})
    if amount_fen is None and lines is None:
        raise ValidationError({"amount_fen": _("请填写退款金额。")})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        rest = order_rest(locked)
        if rest.payment is None:
            raise ValidationError({"order": _("订单未支付，不能退款。")})
        if lines is not None:
            picked = _clean_lines(lines=lines, rest=rest, kind=RefundKind.REFUND_ONLY)
            goods = sum(amount for _r, amount, _q in picked)
            amount_fen = goods if amount_fen is None else amount_fen
            if amount_fen < goods:
                raise ValidationError({"amount_fen": _("退款金额不能少于所选商品的退款合计。")})
        if amount_fen > rest.rest_fen:
            raise ValidationError({"amount_fen": _("最多还能退 %(left)s 分。") % {"left": rest.rest_fen}})
        if lines is None:
            open_lines = [r for r in rest.lines.values() if r.rest_fen > 0]
            goods = min(amount_fen, sum(r.rest_fen for r in open_lines))
            shares = allocate(goods, [r.rest_fen for r in open_lines]) if open_lines else []
            picked = [(r, share, 0) for r, share in zip(open_lines, shares, strict=True) if share > 0]
        if amount_fen - goods > rest.shipping_rest_fen:
            raise ValidationError(
                {"amount_fen": _("最多还能退 %(left)s 分。") % {"left": goods + rest.shipping_rest_fen}}
            )
        refund = Refund.objects.create(
            order=locked,
            payment=rest.payment,
            out_refund_no=_new_refund_no(),
            amount_fen=amount_fen,
            reason=(reason or "")[:80],
            source=RefundSource.MERCHANT,
        )
        RefundLine.objects.bulk_create(
            [RefundLine(refund=refund, line=r.line, amount_fen=amount, quantity=qty) for r, amount, qty in picked]
        )
        log_event(
            order=locked,
            kind=OrderEventKind.REFUND_REQUESTED,
            actor=actor,
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
        if status == RefundStatus.SUCCESS:
            # Only on the move into SUCCESS (a repeated notify returned above): once per line.
            for part in refund.lines.order_by("pk"):
                hooks.order_line_refunded(
                    line_id=part.line_id, refund_id=refund.pk, amount_fen=part.amount_fen, quantity=part.quantity
                )
            _after_refund(refund)
    return refund


def _after_refund(refund: Refund) -> None:
    """A refund of a paid, not yet shipped order succeeded: the order keeps its place in its
    lifecycle unless the refund took away the rest of it.

    * Every physical unit is now shipped or refunded, and some shipped: the order is shipped
      (its parcels carry the rest; it completes after delivery as usual).
    * Its whole payment is refunded and nothing shipped: the order is closed (cancelled, with
      an event saying why). The refunded goods never left the shelf, but their stock is not put
      back automatically: the merchant decides (a damaged or perished lot stays off).
    Runs inside ``_set_refund``'s transaction; the original payment only (a duplicate
    payment's refund gives back another transaction, not this order)."""
    if refund.source == RefundSource.SYSTEM:
        return
    order = Order.objects.select_for_update().get(pk=refund.order_id)
    if order.status != OrderStatus.PAID:
        return
    if not order.shipments.exists():
        refunded_all = (
            Refund.objects.filter(order=order, payment__is_duplicate=False, status=RefundStatus.SUCCESS).aggregate(
                n=Sum("amount_fen")
            )["n"]
            or 0
        )
        if order.paid_fen and refunded_all >= order.paid_fen:
            move_order(
                order, OrderStatus.CANCELLED, kind=OrderEventKind.CANCELLED, cancelled_at=timezone.now(),
                note=_("全额退款，订单关闭（%(no)s）") % {"no": refund.out_refund_no},
            )  # fmt: skip
        return
    if not any(shipping.units_to_ship(order).values()):
        move_order(
            order, OrderStatus.SHIPPED, kind=OrderEventKind.SHIPPED, shipped_at=order.shipped_at or timezone.now(),
            note=_("其余商品已退款，订单已全部发出（%(no)s）") % {"no": refund.out_refund_no},
        )  # fmt: skip


def _parse_time(value: str | None) -> datetime:
    parsed = parse_datetime(value) if value else None
    return parsed or timezone.now()


parse_wechat_time = _parse_time
