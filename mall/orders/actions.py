from __future__ import annotations

import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from core.money import format_yuan
from mall.catalog import storefront_cache
from mall.catalog.models import Product, ProductKind, ProductSku
from mall.catalog.shipping import ShippableLine, shipping_fee
from mall.customers.models import Address, Customer
from mall.orders import hooks
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
from mall.promoters.binding import holder_for_checkout
from mall.promoters.commission import self_purchase_discount, wants_profit_sharing
from mall.promoters.models import DistributionSettings, Promoter

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
    ds = DistributionSettings.current()
    if promoter is None:
        promoter = holder_for_checkout(customer, ds=ds)  # the sale's distribution source (binding rule)
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
        priced = price_lines(wanted=wanted, skus=locked, address=address)
        priced.discount_fen = self_purchase_discount(customer=customer, lines=priced.lines, ds=ds)
        _check_contracts(customer=customer, products=priced.service_products)
        lines = priced.lines
        taken: Counter = Counter()
        for line in lines:
            line.sku.stock -= line.quantity
            taken[line.product_id] += line.quantity
        has_physical = priced.has_physical
        # One UPDATE for every SKU's stock, then the products' totals in id order (the SKU
        # locks above are taken first, always in id order: no deadlock between checkouts).
        ProductSku.objects.bulk_update([locked[pk] for pk in sorted(wanted)], ["stock"])
        now = timezone.now()
        _add_product_stock({pk: -q for pk, q in taken.items()})
        goods, shipping = priced.goods_fen, priced.shipping_fen
        settings_row = OrderSettings.current()
        order = Order.objects.create(
            order_no=_order_no(),
            customer=customer,
            promoter=promoter,
            goods_fen=goods,
            shipping_fen=shipping,
            adjust_fen=-priced.discount_fen,
            profit_sharing=wants_profit_sharing(customer=customer, promoter=promoter, ds=ds),
            total_fen=priced.total_fen,
            has_physical=has_physical,
            has_service=priced.has_service,
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
        log_event(
            order=order,
            kind=OrderEventKind.PLACED,
            to_status=order.status,
            note=_("自购立减 %(d)s") % {"d": format_yuan(priced.discount_fen)} if priced.discount_fen else "",
        )
        storefront_cache.bump_after_commit()  # stock changed: cached storefront reads are stale
    return order


@dataclass
class Priced:
    lines: list[OrderLine]
    goods_fen: int
    shipping_fen: int
    has_physical: bool
    has_service: bool
    service_products: list[Product]
    discount_fen: int = 0  # a promoter's own purchase in the store's "discount" mode (U6)

    @property
    def total_fen(self) -> int:
        return self.goods_fen + self.shipping_fen - self.discount_fen


def price_lines(*, wanted: Counter, skus: dict[int, ProductSku], address: Address | None) -> Priced:
    """The lines of a checkout as they would be sold now (SKUs with their products, by id):
    shelf and stock checked, each line's snapshot, the goods total and the shipping fee in fen.
    ``place_order`` calls it on locked SKUs; the checkout quote on a plain read."""
    lines: list[OrderLine] = []
    shippable: list[ShippableLine] = []
    service_products: list[Product] = []
    for sku_id, quantity in sorted(wanted.items()):
        sku = skus.get(sku_id)
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
            service_products.append(product)
    if shippable and address is None:
        raise ValidationError({"address_id": _("请选择收货地址。")})
    return Priced(
        lines=lines,
        goods_fen=sum(line.amount_fen for line in lines),
        shipping_fen=shipping_fee(shippable, province=address.province if address else ""),
        has_physical=bool(shippable),
        has_service=bool(service_products),
        service_products=service_products,
    )


def quote_checkout(
    *,
    customer: Customer,
    items: list[tuple[int, int]] | None = None,
    skus: list[tuple[int, int]] | None = None,
    address: Address | None = None,
) -> Priced:
    """What ``place_order`` would charge now (the checkout page's summary); changes nothing."""
    by_product, by_sku = _wanted(items, skus)
    if not by_product and not by_sku:
        raise ValidationError({"items": _("请至少选择一件商品。")})
    if address is not None and address.customer_id != customer.pk:
        raise ValidationError({"address_id": _("收货地址不存在。")})
    wanted = _resolve_products(by_product, by_sku)
    if len(wanted) > MAX_LINES:
        raise ValidationError({"items": _("一个订单最多 %(max)s 种商品。") % {"max": MAX_LINES}})
    found = ProductSku.objects.select_related("product").in_bulk(list(wanted))
    priced = price_lines(wanted=wanted, skus=found, address=address)
    priced.discount_fen = self_purchase_discount(customer=customer, lines=priced.lines)
    return priced


def _check_contracts(*, customer: Customer, products: list[Product]) -> None:
    """Every service product with an e-contract needs the shopper's acceptance of the newest
    version before it is bought."""
    if not products:
        return
    from mall.catalog.models import ContractAcceptance, ProductContract

    newest: dict[int, ProductContract] = {}
    for contract in ProductContract.objects.filter(product__in=products).order_by("product_id", "-version"):
        newest.setdefault(contract.product_id, contract)
    accepted = set(
        ContractAcceptance.objects.filter(customer=customer, contract__in=list(newest.values())).values_list(
            "contract_id", flat=True
        )
    )
    for product in products:
        contract = newest.get(product.pk)
        if contract is not None and contract.pk not in accepted:
            raise ValidationError(
                {
                    "contract": ValidationError(
                        _("请先阅读并同意“%(title)s”的电子合同（第 %(v)s 版）。")
                        % {"title": product.title, "v": contract.version},
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


def move_order(order: Order, to: str, *, kind: str, note: str = "", actor: User | None = None, **fields) -> str:
    """Move a locked order (``select_for_update``) to ``to``: the machine's check (an illegal
    move raises), the fields that go with the move (``shipped_at=…``), one save and its timeline
    event, inside the caller's transaction. Returns the status it left."""
    before = ORDER_FSM.move(order, to)
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", *fields])
    log_event(order=order, kind=kind, from_status=before, to_status=to, actor=actor, note=note)
    return before


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
        if to == OrderStatus.COMPLETED and locked.status == OrderStatus.PAID and locked.has_physical:
            # PAID → COMPLETED is a service order's redemption; goods are shipped first.
            raise ValidationError({"status": ValidationError(_("含实物的订单须先发货才能完成。"), code="ship_first")})
        move_order(locked, to, kind=OrderEventKind.STATUS, actor=actor, note=note)
    return locked


def cancel_order(*, order: Order, reason: str, actor: User | None = None) -> Order:
    """Cancel an unpaid order, with a reason; its stock goes back on the shelf."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写取消原因。"), code="required")})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING_PAYMENT:
            # A paid order is closed only by refunding it in full (mall.payments), never cancelled.
            raise ValidationError(
                {
                    "status": ValidationError(
                        _("订单状态为“%(s)s”，只有待付款的订单可以取消；已付款的订单请走退款。")
                        % {"s": locked.get_status_display()},
                        code="not_cancellable",
                    )
                }
            )
        move_order(
            locked, OrderStatus.CANCELLED, kind=OrderEventKind.CANCELLED, actor=actor, note=reason,
            cancelled_at=timezone.now(),
        )  # fmt: skip
        _release_stock(locked)
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
    _add_product_stock(dict(by_product))


def _add_product_stock(delta: dict[int, int]) -> None:
    """Move the products' derived stock totals by ``delta`` (product id → units) in one
    statement, rows in id order."""
    if not delta:
        return
    ids = sorted(delta)
    table = connection.ops.quote_name(Product._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(ids))
    params = [x for pk in ids for x in (pk, delta[pk])]
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} AS p SET stock = p.stock + v.d, updated = now() "  # noqa: S608 (no user text)
            f"FROM (VALUES {values}) AS v(id, d) WHERE p.id = v.id",
            params,
        )
    storefront_cache.bump_after_commit()  # stock is back on the shelf


def record_payment(*, order_no: str, transaction_id: str, amount_fen: int, paid_at: datetime) -> Payment:
    """Mark an order paid from WeChat Pay's word (its notify, or a query): the only way an
    order becomes paid. Idempotent: the same transaction id again returns the payment already
    recorded (unique constraint, same transaction as the status change), with no new effect.

    What WeChat reports that does not simply pay the order is recorded and shown to the
    merchant (``mall.payments.anomalies``), never only logged:

    * the order is still unpaid but the amount differs from its total: the order stays unpaid,
      a ``PaymentAnomaly(amount_mismatch)`` and an order event are committed, then
      ``ValidationError(amount_fen, code="amount_mismatch")`` is raised;
    * the order is already paid (or cancelled) and this is another transaction: the payment is
      recorded as ``is_duplicate`` (the order's status and paid amount do not change) and
      refunded in full automatically (a system refund of *that* payment, sent through the
      outbox); the duplicate payment is returned."""
    from mall.payments import anomalies
    from mall.payments.models import Payment

    if not transaction_id:
        raise ValidationError({"transaction_id": _("缺少微信支付单号。")})
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError({"amount_fen": _("金额须为正整数（分）。")})
    mismatch = None
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(order_no=order_no).first()
        if order is None:
            raise ValidationError({"order_no": ValidationError(_("订单不存在。"), code="unknown_order")})
        existing = Payment.objects.filter(transaction_id=transaction_id).first()
        if existing is not None:
            if existing.order_id != order.pk:
                raise ValidationError({"transaction_id": _("该微信支付单号已记在另一个订单上。")})
            return existing
        if order.status != OrderStatus.PENDING_PAYMENT:
            # Money the order does not take (paid twice, or paid after it was cancelled).
            return anomalies.record_extra_payment(
                order=order, transaction_id=transaction_id, amount_fen=amount_fen, paid_at=paid_at
            )
        if amount_fen != order.total_fen:
            mismatch = anomalies.flag_amount_mismatch(order=order, transaction_id=transaction_id, amount_fen=amount_fen)
        else:
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
                order=order,
                kind=OrderEventKind.PAID,
                from_status=before,
                to_status=OrderStatus.PAID,
                note=transaction_id,
            )
            outbox.record("mall.orders.effects.count_sales", order_id=order.pk)
            hooks.order_paid(order_id=order.pk)
    if mismatch is not None:  # committed above: the anomaly stays, the order is not paid
        raise ValidationError(
            {
                "amount_fen": ValidationError(
                    _("支付金额 %(paid)s 分与订单应付 %(total)s 分不一致。")
                    % {"paid": amount_fen, "total": mismatch.expected_fen},
                    code="amount_mismatch",
                )
            }
        )
    return payment


def adjust_order_price(*, order: Order, new_total_fen: int, reason: str, actor: User | None = None) -> Order:
    """Change what an unpaid order costs (the merchant's 改价), with a reason. Goods and shipping
    stay as sold; the difference goes to ``adjust_fen`` (negative for a discount), so
    ``total = goods + shipping + adjust`` still holds and the new total is at least 1 fen.
    The timeline gets a PRICE_CHANGED event with the old and new totals and the reason.

    Payment reads ``order.total_fen`` when it asks WeChat Pay for a prepay: a prepay made
    before the change is for the old amount, so the next pay call must ask again (the notify of
    an old-amount payment is refused by ``record_payment`` as an amount mismatch)."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写改价原因。"), code="required")})
    if isinstance(new_total_fen, bool) or not isinstance(new_total_fen, int):
        raise ValidationError({"new_total_fen": ValidationError(_("请输入新的应付金额。"), code="invalid")})
    if new_total_fen < 1:
        raise ValidationError({"new_total_fen": ValidationError(_("应付金额至少 ¥0.01。"), code="min_value")})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING_PAYMENT:
            raise ValidationError(
                {
                    "status": ValidationError(
                        _("订单状态为“%(s)s”，只有待付款的订单可以改价。") % {"s": locked.get_status_display()},
                        code="not_adjustable",
                    )
                }
            )
        old_total = locked.total_fen
        if new_total_fen == old_total:
            raise ValidationError({"new_total_fen": ValidationError(_("新的应付金额与原金额相同。"), code="unchanged")})
        locked.adjust_fen = new_total_fen - locked.goods_fen - locked.shipping_fen
        locked.total_fen = new_total_fen
        locked.save(update_fields=["adjust_fen", "total_fen"])
        log_event(
            order=locked,
            kind=OrderEventKind.PRICE_CHANGED,
            actor=actor,
            note=_("%(old)s → %(new)s：%(reason)s")
            % {"old": format_yuan(old_total), "new": format_yuan(new_total_fen), "reason": reason},
        )
    return locked


def normalize_verify_code(code: str) -> str:
    """What a person or a scanner typed: spaces, dashes and full-width digits are forgiven."""
    text = unicodedata.normalize("NFKC", str(code or ""))
    return "".join(ch for ch in text if ch.isdigit())


def redeem_order(*, order_or_code: Order | str, actor: User | None = None) -> Order:
    """Redeem (核销) a paid order's service part: the merchant scans or types the shopper's code.

    Rule for the order's status: an order with nothing to ship (service only) is COMPLETED on
    redemption (PAID → COMPLETED, ``completed_at``). A mixed order (service and goods) only gets
    ``redeemed_at`` and its REDEEMED event; it completes through its goods (shipped, delivered,
    then auto-completed), since its physical part is still pending.

    Refused with a field error on ``code``: an unknown code, a code already used, an order
    that is not paid (or cancelled), and an order with an open after-sales case. Codes live in
    the store's own schema, so another store's code never matches."""
    with transaction.atomic():
        if isinstance(order_or_code, Order):
            locked = Order.objects.select_for_update().filter(pk=order_or_code.pk).first()
        else:
            code = normalize_verify_code(order_or_code)
            if not code:
                raise ValidationError({"code": ValidationError(_("请输入核销码。"), code="required")})
            # A code is unique among unredeemed orders; a used one may have been issued again.
            rows = Order.objects.select_for_update().filter(verify_code=code)
            locked = rows.filter(redeemed_at__isnull=True).first() or rows.order_by("-redeemed_at").first()
        if locked is None or not locked.has_service or not locked.verify_code:
            raise ValidationError({"code": ValidationError(_("核销码无效，请核对后重试。"), code="unknown_code")})
        if locked.redeemed_at is not None:
            raise ValidationError(
                {
                    "code": ValidationError(
                        _("该核销码已于 %(at)s 核销（订单 %(no)s）。")
                        % {
                            "at": timezone.localtime(locked.redeemed_at).strftime("%Y-%m-%d %H:%M"),
                            "no": locked.order_no,
                        },
                        code="already_redeemed",
                    )
                }
            )
        if locked.status not in (OrderStatus.PAID, OrderStatus.SHIPPED):
            raise ValidationError(
                {
                    "code": ValidationError(
                        _("订单 %(no)s 状态为“%(s)s”，不能核销。")
                        % {"no": locked.order_no, "s": locked.get_status_display()},
                        code="not_redeemable",
                    )
                }
            )
        from mall.payments.models import OPEN_REFUND_STATES

        if locked.refunds.filter(status__in=OPEN_REFUND_STATES).exists():
            raise ValidationError(
                {
                    "code": ValidationError(
                        _("订单 %(no)s 有未完结的售后，处理完毕后才能核销。") % {"no": locked.order_no},
                        code="after_sales_open",
                    )
                }
            )
        now = timezone.now()
        locked.redeemed_at = now
        fields = ["redeemed_at"]
        before = locked.status
        if not locked.has_physical:
            ORDER_FSM.move(locked, OrderStatus.COMPLETED)
            locked.completed_at = now
            fields += ["status", "completed_at"]
        locked.save(update_fields=fields)
        log_event(
            order=locked,
            kind=OrderEventKind.REDEEMED,
            from_status=before if locked.status != before else "",
            to_status=locked.status if locked.status != before else "",
            actor=actor,
        )
    return locked


# The bounds of the store's order rules (console 订单设置), written once.
ORDER_SETTING_BOUNDS = {
    "auto_cancel_minutes": (5, 1440),
    "auto_complete_days": (1, 30),
    "unpaid_query_minutes": (1, 60),
}


def update_order_settings(
    *, auto_cancel_minutes: int, auto_complete_days: int, unpaid_query_minutes: int, actor: User | None = None
) -> OrderSettings:
    """Change the store's order rules. New values apply to orders placed (auto-cancel) or
    delivered (auto-complete) from now on and to the next beat run; an order placed before keeps
    the ``expires_at`` it was given. The WeChat Pay query comes before the auto-cancel, so it
    must start earlier than the cancellation."""
    values = {
        "auto_cancel_minutes": auto_cancel_minutes,
        "auto_complete_days": auto_complete_days,
        "unpaid_query_minutes": unpaid_query_minutes,
    }
    errors: dict[str, list] = {}
    for name, value in values.items():
        low, high = ORDER_SETTING_BOUNDS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = [_("请填写 %(low)s 到 %(high)s 之间的整数。") % {"low": low, "high": high}]
    if not errors and unpaid_query_minutes >= auto_cancel_minutes:
        errors["unpaid_query_minutes"] = [_("补查支付须早于未付款自动取消。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = OrderSettings.current()
        row = OrderSettings.objects.select_for_update().get(pk=row.pk)
        for name, value in values.items():
            setattr(row, name, value)
        row.save(update_fields=list(values))
    return row
