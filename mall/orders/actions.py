from __future__ import annotations

import secrets
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from mall.catalog.models import Product
from mall.customers.models import Customer
from mall.orders.models import ORDER_TRANSITIONS, Order, OrderLine, OrderStatus
from mall.promoters.models import Promoter

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
            product.save(update_fields=["stock", "updated"])
            lines.append(
                OrderLine(
                    product=product,
                    title=product.title,
                    unit_price_fen=product.price_fen,
                    quantity=quantity,
                    amount_fen=product.price_fen * quantity,
                )
            )
        order = Order.objects.create(
            order_no=_order_no(),
            customer=customer,
            promoter=promoter,
            total_fen=sum(line.amount_fen for line in lines),
        )
        for line in lines:
            line.order = order
        OrderLine.objects.bulk_create(lines)
    return order


def transition_order(*, order: Order, to: str) -> Order:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if to not in ORDER_TRANSITIONS[locked.status]:
            raise ValidationError(
                {
                    "status": _("订单不能从“%(a)s”变为“%(b)s”。")
                    % {"a": locked.get_status_display(), "b": OrderStatus(to).label}
                }
            )
        locked.status = to
        fields = ["status"]
        if to == OrderStatus.PAID and locked.paid_at is None:
            locked.paid_at = timezone.now()
            locked.paid_fen = locked.total_fen
            fields += ["paid_at", "paid_fen"]
            outbox.record("mall.orders.effects.count_sales", order_id=locked.pk)
        if to == OrderStatus.CANCELLED:  # an unpaid order gives its stock back
            for product_id, quantity in locked.lines.values_list("product_id", "quantity"):
                Product.objects.filter(pk=product_id).update(stock=F("stock") + quantity)
        locked.save(update_fields=fields)
    return locked
