from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from mall.catalog.models import Product
from mall.customers.models import Customer
from mall.orders.models import ORDER_FSM, Order, OrderEvent, OrderEventKind, OrderLine, OrderStatus
from mall.promoters.models import Promoter

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser as User

    from mall.payments.models import Payment

MAX_LINES = 50
MAX_QUANTITY = 999


def _order_no() -> str:
    return timezone.localtime().strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


def place_order(*, customer: Customer, items: list[tuple[int, int]], promoter: Promoter | None = None) -> Order:
    """Create an order for ``items`` (product id, quantity): checks shelf and stock and takes
    the stock under row locks, in one transaction."""
    wanted = Counter()
    for product_id, quantity in items:
        if not isinstance(quantity, int) or quantity <= 0 or quantity > MAX_QUANTITY:
            raise ValidationError({"items": _("购买数量须为 1–%(max)s。") % {"max": MAX_QUANTITY}})
        wanted[int(product_id)] += quantity
    if not wanted:
        raise ValidationError({"items": _("请至少选择一件商品。")})
    if len(wanted) > MAX_LINES:
        raise ValidationError({"items": _("一个订单最多 %(max)s 种商品。") % {"max": MAX_LINES}})
    with transaction.atomic():
        products = {p.pk: p for p in Product.objects.select_for_update().filter(pk__in=wanted).order_by("pk")}
        lines = []
        now = timezone.now()
        for product_id, quantity in sorted(wanted.items()):
            product = products.get(product_id)
            if product is None or not product.on_shelf:
                raise ValidationError({"items": _("商品 %(id)s 不存在或已下架。") % {"id": product_id}})
            if product.stock < quantity:
                raise ValidationError(
                    {
                        "items": _("“%(title)s”库存不足（剩余 %(stock)s）。")
                        % {"title": product.title, "stock": product.stock}
                    }
                )
            product.stock -= quantity
            product.updated = now
            lines.append(
                OrderLine(
                    product=product,
                    title=product.title,
                    unit_price_fen=product.price_fen,
                    quantity=quantity,
                    amount_fen=product.price_fen * quantity,
                )
            )
        # One UPDATE for every line's stock (a save per product cost five statements a line,
        # Wagtail's reference index included: tests/api/test_query_counts.py).
        Product.objects.bulk_update([products[pk] for pk in sorted(wanted)], ["stock", "updated"])
        order = Order.objects.create(
            order_no=_order_no(),
            customer=customer,
            promoter=promoter,
            total_fen=sum(line.amount_fen for line in lines),
        )
        for line in lines:
            line.order = order
        OrderLine.objects.bulk_create(lines)
        log_event(order=order, kind=OrderEventKind.PLACED, to_status=order.status)
    return order


def log_event(
    *,
    order: Order,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    actor: User | None = None,
    note: str = "",
) -> OrderEvent:
    """One line of the order's timeline. Called by the actions that change the order (or open
    and close its after-sales records), inside their transaction."""
    return OrderEvent.objects.create(
        order=order, kind=kind, from_status=from_status, to_status=to_status, actor=actor, note=(note or "")[:200]
    )


def transition_order(*, order: Order, to: str, actor: User | None = None, note: str = "") -> Order:
    """Move an order along its lifecycle (``ORDER_FSM``). Paying is not a transition anyone can
    ask for: only ``record_payment`` makes an order paid, with its Payment. Cancelling goes
    through ``cancel_order`` (it needs a reason and gives the stock back)."""
    if to == OrderStatus.PAID:
        raise ValidationError(
            {"status": ValidationError(_("订单只能由一笔已记录的支付标记为已付款。"), code="payment_required")}
        )
    if to == OrderStatus.CANCELLED:
        raise ValidationError({"status": ValidationError(_("取消订单须填写原因。"), code="reason_required")})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        before = ORDER_FSM.move(locked, to)
        locked.save(update_fields=["status"])
        log_event(order=locked, kind=OrderEventKind.STATUS, from_status=before, to_status=to, actor=actor, note=note)
    return locked


def cancel_order(*, order: Order, reason: str, actor: User | None = None) -> Order:
    """Cancel an unpaid order, with a reason; its stock goes back on the shelf."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写取消原因。"), code="required")})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        before = ORDER_FSM.move(locked, OrderStatus.CANCELLED)
        for product_id, quantity in locked.lines.values_list("product_id", "quantity"):
            Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)
        locked.save(update_fields=["status"])
        log_event(
            order=locked,
            kind=OrderEventKind.CANCELLED,
            from_status=before,
            to_status=OrderStatus.CANCELLED,
            actor=actor,
            note=reason,
        )
    return locked


def record_payment(*, order_no: str, transaction_id: str, amount_fen: int, paid_at: datetime) -> Payment:
    """Mark an order paid from WeChat Pay's word (its notify, or a query). Idempotent: the
    same transaction id again returns the payment already recorded (unique constraint, same
    transaction as the status change). The amount must equal the order's total."""
    from mall.payments.models import Payment

    if not transaction_id:
        raise ValidationError({"transaction_id": _("缺少微信支付单号。")})
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError({"amount_fen": _("金额须为正整数（分）。")})
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(order_no=order_no).first()
        if order is None:
            raise ValidationError({"order_no": ValidationError(_("订单不存在。"), code="unknown_order")})
        existing = Payment.objects.filter(transaction_id=transaction_id).first()
        if existing is not None:
            if existing.order_id != order.pk:
                raise ValidationError({"transaction_id": _("该微信支付单号已记在另一个订单上。")})
            return existing
        if amount_fen != order.total_fen:
            raise ValidationError(
                {
                    "amount_fen": ValidationError(
                        _("支付金额 %(paid)s 分与订单应付 %(total)s 分不一致。")
                        % {"paid": amount_fen, "total": order.total_fen},
                        code="amount_mismatch",
                    )
                }
            )
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise ValidationError(
                {
                    "status": ValidationError(
                        _("订单状态为“%(s)s”，不能再记一笔支付。") % {"s": order.get_status_display()},
                        code="not_payable",
                    )
                }
            )
        payment = Payment.objects.create(
            order=order, transaction_id=transaction_id, amount_fen=amount_fen, paid_at=paid_at
        )
        before = ORDER_FSM.move(order, OrderStatus.PAID)
        order.paid_at = paid_at
        order.paid_fen = amount_fen
        order.save(update_fields=["status", "paid_at", "paid_fen"])
        log_event(
            order=order, kind=OrderEventKind.PAID, from_status=before, to_status=OrderStatus.PAID, note=transaction_id
        )
        outbox.record("mall.orders.effects.count_sales", order_id=order.pk)
    return payment
