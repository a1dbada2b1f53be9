"""Demo orders in every state a merchant meets (development only; called by ``tools/demo``),
each made through the actions: checkout, payment (``record_payment``, as WeChat's notify),
shipping with carrier tracking, delivery and auto-completion, redemption of service orders,
after-sales requests (pending, approved), price changes and cancellations."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from mall.catalog.actions import accept_contract
from mall.catalog.models import Product, ProductContract
from mall.customers.models import Customer
from mall.orders.actions import adjust_order_price, cancel_order, place_order, record_payment, redeem_order
from mall.orders.models import Order
from mall.orders.shipping import complete_delivered_orders, record_tracking, ship_order
from mall.payments.actions import (
    approve_refund,
    record_refund_result,
    request_after_sales,
    withdraw_after_sales,
)


def _sku(product: Product, index: int = 0) -> int:
    return list(product.skus.order_by("sort_order", "pk").values_list("pk", flat=True))[index]


def _buy(customer: Customer, lines: list[tuple[Product, int, int]], promoter=None) -> Order:
    for product, _index, _qty in lines:
        contract = ProductContract.objects.filter(product=product).order_by("-version").first()
        if contract is not None:
            accept_contract(product=product, customer=customer, version=contract.version, ip="127.0.0.1")
    return place_order(
        customer=customer,
        address=customer.addresses.filter(is_default=True).first(),
        skus=[(_sku(product, index), qty) for product, index, qty in lines],
        promoter=promoter,
    )


def _pay(order: Order, *, days_ago: float = 0) -> Order:
    record_payment(
        order_no=order.order_no,
        transaction_id=f"4200demo{order.order_no}",
        amount_fen=Order.objects.get(pk=order.pk).total_fen,
        paid_at=timezone.now() - timedelta(days=days_ago),
    )
    return Order.objects.get(pk=order.pk)


def _ship(order: Order, carrier: str, tracking_no: str) -> Order:
    lines = [(line.pk, line.quantity) for line in order.lines.filter(kind="physical")]
    ship_order(order=order, parcels=[{"carrier": carrier, "tracking_no": tracking_no, "lines": lines}])
    return Order.objects.get(pk=order.pk)


def _delivered_track(carrier: str, tracking_no: str, *, days_ago: int, city: str) -> None:
    """The carrier's track of a parcel delivered ``days_ago`` (what its pushes carried)."""
    start = timezone.now() - timedelta(days=days_ago + 2)
    steps = [
        ("collected", "快递员已揽收", "昆明市官渡区", start),
        ("in_transit", "已到达昆明转运中心，发往下一站", "昆明转运中心", start + timedelta(hours=6)),
        ("in_transit", f"已到达{city}转运中心", f"{city}转运中心", start + timedelta(days=1)),
        ("delivering", "快递员正在派送", city, start + timedelta(days=1, hours=20)),
        ("delivered", "已签收，签收人：本人", city, start + timedelta(days=2)),
    ]
    record_tracking(
        carrier=carrier,
        tracking_no=tracking_no,
        events=[{"state": s, "description": d, "location": loc, "occurred_at": t} for s, d, loc, t in steps],
    )


def seed_orders(*, products, shoppers, lead, second, industry: str) -> None:
    if industry == "travel":
        _seed_service_orders(products=products, shoppers=shoppers, lead=lead, second=second)
    else:
        _seed_physical_orders(products=products, shoppers=shoppers, lead=lead, second=second)


def _seed_physical_orders(*, products, shoppers, lead, second) -> None:
    mango, pomegranate, strawberry, tomato, cabbage, eggs = products[:6]
    # Delivered ten days ago, then completed by the auto-complete rule.
    done = _pay(_buy(shoppers[3], [(mango, 1, 1), (pomegranate, 0, 1)], promoter=lead), days_ago=12)
    _ship(done, "zhongtong", "ZT7350012345601")
    _delivered_track("zhongtong", "ZT7350012345601", days_ago=10, city="深圳市")
    complete_delivered_orders()
    # Paid, waiting to be shipped (the dashboard's 待发货).
    _pay(_buy(shoppers[4 % len(shoppers)], [(strawberry, 0, 1)], promoter=second))
    # Shipped just now: the carrier (emulator under `make run`) tracks it live.
    _ship(_pay(_buy(shoppers[2], [(tomato, 0, 3)])), "shunfeng", "SF1460012345602")
    # Awaiting payment, its price changed by the merchant.
    unpaid = _buy(shoppers[3], [(cabbage, 0, 2)], promoter=lead)
    adjust_order_price(order=unpaid, new_total_fen=unpaid.total_fen - 500, reason="老顾客优惠 5 元")
    # Cancelled before payment.
    cancel_order(order=_buy(shoppers[1], [(mango, 0, 1)], promoter=lead), reason="顾客未付款，演示取消")
    # Delivered, then the shopper asks for part of the eggs' price back (awaiting review).
    broken = _pay(_buy(shoppers[0], [(eggs, 0, 2), (tomato, 1, 1)], promoter=lead), days_ago=3)
    _ship(broken, "yuantong", "YT8830012345603")
    _delivered_track("yuantong", "YT8830012345603", days_ago=1, city="杭州市")
    egg_line = broken.lines.get(title=eggs.title)
    request_after_sales(
        order=broken,
        customer=shoppers[0],
        lines=[{"line_id": egg_line.pk, "amount_fen": 1500, "quantity": 0}],
        reason="运输途中碎了 5 枚鸡蛋",
        kind="refund_only",
    )
    # Paid, then refunded in full before shipping (approved: WeChat Pay completes it).
    refund_case = _pay(_buy(shoppers[2], [(pomegranate, 1, 1)]))
    refund = request_after_sales(
        order=refund_case, customer=shoppers[2], lines=None, reason="买重了，不想要了", kind="refund_only"
    )
    approve_refund(refund=refund, actor=None)
    # WeChat Pay's word on it, as its refund notify brings it (the demo's payments were never
    # made at the emulator, so the seed records the result the notify would carry).
    record_refund_result(
        out_refund_no=refund.out_refund_no,
        refund_id=f"5030demo{refund.pk:08d}",
        wechat_status="SUCCESS",
        amount_fen=refund.amount_fen,
    )
    # Paid; the shopper asked for a refund, then changed their mind before the merchant looked.
    kept = _pay(_buy(shoppers[1], [(tomato, 0, 1)]))
    second_thoughts = request_after_sales(
        order=kept, customer=shoppers[1], lines=None, reason="不小心点错了", kind="refund_only"
    )
    withdraw_after_sales(refund=second_thoughts, customer=shoppers[1])


def _seed_service_orders(*, products, shoppers, lead, second) -> None:
    erhai, lijiang, banna, _shangri, stone_forest = products[:5]
    # A family day trip (two adults, one child), paid and redeemed at the pier.
    trip = _pay(_buy(shoppers[0], [(erhai, 0, 2), (erhai, 1, 1)], promoter=lead), days_ago=2)
    redeem_order(order_or_code=trip.verify_code)
    # Paid; its redemption code waits for the evening.
    _pay(_buy(shoppers[1], [(lijiang, 0, 2)], promoter=second))
    # Awaiting payment.
    _buy(shoppers[2], [(stone_forest, 0, 1)])
    # Paid, then the family's plans changed: a full refund asked for (awaiting review).
    holiday = _pay(_buy(shoppers[3 % len(shoppers)], [(banna, 0, 1)], promoter=lead), days_ago=1)
    request_after_sales(
        order=holiday, customer=holiday.customer, lines=None, reason="行程有变，无法出行", kind="refund_only"
    )
