from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from mall.catalog import storefront_cache
from mall.catalog.models import Product, ProductKind, ProductSku
from mall.catalog.shipping import ShippableLine, shipping_fee
from mall.customers.models import Address, Customer
from mall.orders.models import (
    ORDER_FSM,
    CartItem,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderSettings,
    OrderStatus,
)
from mall.promoters.models import Promoter

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser as User

    from mall.payments.models import Payment

MAX_LINES = 50
MAX_QUANTITY = 999


def new_verify_code() -> str:
    """A 10-digit redemption code for a paid service order (unique among open ones)."""
    while True:
        code = f"{secrets.randbelow(10**10):010d}"
        if not Order.objects.filter(verify_code=code, redeemed_at__isnull=True).exists():
            return code


def _order_no() -> str:
    return timezone.localtime().strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


def _wanted(items, skus) -> tuple[Counter, Counter]:
    """Validate the requested quantities: ``items`` by product id (a product sold as one SKU),
    ``skus`` by SKU id. Returns (by product, by sku)."""
    by_product: Counter = Counter()
    by_sku: Counter = Counter()
    for target, pairs in ((by_product, items or []), (by_sku, skus or [])):
        for ident, quantity in pairs:
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0 or quantity > MAX_QUANTITY:
                raise ValidationError({"items": _("购买数量须为 1–%(max)s。") % {"max": MAX_QUANTITY}})
            target[int(ident)] += quantity
    return by_product, by_sku


def _resolve_products(by_product: Counter, by_sku: Counter) -> Counter:
    """A product id stands for its only active SKU; a product with several must name one."""
    if not by_product:
        return by_sku
    found: dict[int, list[int]] = {}
    for sku_id, product_id in ProductSku.objects.filter(product_id__in=by_product, is_active=True).values_list(
        "pk", "product_id"
    ):
        found.setdefault(product_id, []).append(sku_id)
    for product_id, quantity in by_product.items():
        ids = found.get(product_id, [])
        if not ids:
            raise ValidationError({"items": _("商品 %(id)s 不存在或已下架。") % {"id": product_id}})
        if len(ids) > 1:
            raise ValidationError({"items": _("商品 %(id)s 有多个规格，请选择规格。") % {"id": product_id}})
        by_sku[ids[0]] += quantity
    return by_sku


def place_order(
    *,
    customer: Customer,
    items: list[tuple[int, int]] | None = None,
    skus: list[tuple[int, int]] | None = None,
    address: Address | None = None,
    promoter: Promoter | None = None,
    remark: str = "",
    idempotency_key: str = "",
    clear_cart: bool = False,
) -> Order:
    """Create an order. ``skus``: (SKU id, quantity); ``items``: (product id, quantity) for
    products sold as one SKU. In one transaction: the SKUs are locked (in id order), shelf and
    stock checked and the stock taken; prices, shipping and the total are computed here in fen
    (a client's totals are never read); each line copies what was sold (title, SKU, price,
    image). Physical goods need ``address`` (its receiver is copied, encrypted). A service
    product with an e-contract needs the shopper's acceptance of its newest version.

    ``idempotency_key`` (the API's ``Idempotency-Key`` header): the same key of the same
    shopper returns the order it made the first time, however often it is retried."""
    by_product, by_sku = _wanted(items, skus)
    if not by_product and not by_sku:
        raise ValidationError({"items": _("请至少选择一件商品。")})
    idempotency_key = (idempotency_key or "").strip()[:64]
    remark = (remark or "").strip()
    if len(remark) > 200:
        raise ValidationError({"remark": _("留言最多 200 字。")})
    if address is not None and address.customer_id != customer.pk:
        raise ValidationError({"address_id": _("收货地址不存在。")})
    with transaction.atomic():
        if idempotency_key:
            # One checkout per (shopper, key) at a time; a retry finds the first one's order.
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [customer.pk, idempotency_key])
            existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        wanted = _resolve_products(by_product, by_sku)
        if len(wanted) > MAX_LINES:
            raise ValidationError({"items": _("一个订单最多 %(max)s 种商品。") % {"max": MAX_LINES}})
        locked = {
            s.pk: s
            for s in ProductSku.objects.select_for_update(of=("self",))
            .select_related("product")
            .filter(pk__in=wanted)
            .order_by("pk")
        }
        lines: list[OrderLine] = []
        shippable: list[ShippableLine] = []
        taken: Counter = Counter()
        contracts_needed: list = []
        for sku_id, quantity in sorted(wanted.items()):
            sku = locked.get(sku_id)
            if sku is None or not sku.is_active or not sku.product.on_shelf:
                raise ValidationError({"items": _("商品规格 %(id)s 不存在或已下架。") % {"id": sku_id}})
            product = sku.product
            if sku.stock < quantity:
                raise ValidationError(
                    {
                        "items": _("“%(title)s %(sku)s”库存不足（剩余 %(stock)s）。")
                        % {"title": product.title, "sku": sku.name, "stock": sku.stock}
                    }
                )
            sku.stock -= quantity
            taken[product.pk] += quantity
            amount = sku.price_fen * quantity
            lines.append(
                OrderLine(
                    product=product,
                    sku=sku,
                    kind=product.kind,
                    title=product.title,
                    sku_name=sku.name,
                    image=product.cover.name if product.cover else "",
                    weight_g=product.weight_g,
                    unit_price_fen=sku.price_fen,
                    quantity=quantity,
                    amount_fen=amount,
                )
            )
            if product.kind == ProductKind.PHYSICAL:
                shippable.append(ShippableLine(product.shipping_template_id, product.weight_g * quantity, amount))
            else:
                contracts_needed.append(product)
        has_physical = bool(shippable)
        if has_physical and address is None:
            raise ValidationError({"address_id": _("请选择收货地址。")})
        _check_contracts(customer=customer, products=contracts_needed)
        # One UPDATE for every SKU's stock, then the products' totals in id order (the SKU
        # locks above are taken first, always in id order: no deadlock between checkouts).
        ProductSku.objects.bulk_update([locked[pk] for pk in sorted(wanted)], ["stock"])
        now = timezone.now()
        for product_id in sorted(taken):
            Product.objects.filter(pk=product_id).update(stock=F("stock") - taken[product_id], updated=now)
        goods = sum(line.amount_fen for line in lines)
        shipping = shipping_fee(shippable, province=address.province if address else "")
        settings_row = OrderSettings.current()
        order = Order.objects.create(
            order_no=_order_no(),
            customer=customer,
            promoter=promoter,
            goods_fen=goods,
            shipping_fen=shipping,
            total_fen=goods + shipping,
            has_physical=has_physical,
            has_service=bool(contracts_needed) or any(line.kind == ProductKind.SERVICE for line in lines),
            receiver=address.receiver if has_physical else "",
            receiver_phone=address.phone if has_physical else "",
            receiver_region=address.region if has_physical else "",
            receiver_province=address.province if has_physical else "",
            receiver_detail=address.detail if has_physical else "",
            remark=remark,
            idempotency_key=idempotency_key,
            expires_at=now + timedelta(minutes=settings_row.auto_cancel_minutes),
        )
        for line in lines:
            line.order = order
        OrderLine.objects.bulk_create(lines)
        if clear_cart:
            CartItem.objects.filter(customer=customer, sku_id__in=list(wanted)).delete()
        log_event(order=order, kind=OrderEventKind.PLACED, to_status=order.status)
        storefront_cache.bump_after_commit()  # stock changed: cached storefront reads are stale
    return order


def _check_contracts(*, customer: Customer, products: list[Product]) -> None:
    """Every service product with an e-contract needs the shopper's acceptance of the newest
    version before it is bought."""
    if not products:
        return
    from mall.catalog.models import ContractAcceptance, ProductContract

    for product in products:
        newest = ProductContract.objects.filter(product=product).order_by("-version").first()
        if newest is None:
            continue
        if not ContractAcceptance.objects.filter(contract=newest, customer=customer).exists():
            raise ValidationError(
                {
                    "contract": ValidationError(
                        _("请先阅读并同意“%(title)s”的电子合同（第 %(v)s 版）。")
                        % {"title": product.title, "v": newest.version},
                        code="contract_required",
                    )
                }
            )


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
        _release_stock(locked)
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
        log_event(
            order=locked,
            kind=OrderEventKind.CANCELLED,
            from_status=before,
            to_status=OrderStatus.CANCELLED,
            actor=actor,
            note=reason,
        )
    return locked


def _release_stock(order: Order) -> None:
    """Give an unpaid order's stock back (cancel, auto-cancel): SKUs in id order, then products."""
    rows = list(order.lines.values_list("sku_id", "product_id", "quantity"))
    by_sku: Counter = Counter()
    by_product: Counter = Counter()
    for sku_id, product_id, quantity in rows:
        if sku_id:
            by_sku[sku_id] += quantity
        by_product[product_id] += quantity
    for sku_id in sorted(by_sku):
        ProductSku.objects.filter(pk=sku_id).update(stock=F("stock") + by_sku[sku_id])
    for product_id in sorted(by_product):
        Product.objects.filter(pk=product_id).update(stock=F("stock") + by_product[product_id])
    storefront_cache.bump_after_commit()  # stock is back on the shelf


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
        if order.has_service and not order.verify_code:
            order.verify_code = new_verify_code()
        order.save(update_fields=["status", "paid_at", "paid_fen", "verify_code"])
        log_event(
            order=order, kind=OrderEventKind.PAID, from_status=before, to_status=OrderStatus.PAID, note=transaction_id
        )
        outbox.record("mall.orders.effects.count_sales", order_id=order.pk)
    return payment
