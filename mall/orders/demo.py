"""Demo orders in several states (development only; called by ``tools/demo``)."""

from __future__ import annotations

from django.utils import timezone

from mall.orders.actions import cancel_order, place_order, record_payment, transition_order
from mall.orders.models import OrderStatus


def seed_orders(*, products, shoppers, lead, second) -> None:
    plans = [
        (
            shoppers[3],
            [(products[0].pk, 2), (products[1].pk, 1)],
            lead,
            [OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED],
        ),
        (shoppers[4 % len(shoppers)], [(products[2].pk, 1)], second, [OrderStatus.PAID]),
        (shoppers[2], [(products[3].pk, 3)], None, [OrderStatus.PAID, OrderStatus.SHIPPED]),
        (shoppers[3], [(products[4].pk, 1)], lead, []),
        (shoppers[1], [(products[0].pk, 1)], lead, [OrderStatus.CANCELLED]),
    ]
    for customer, items, promoter, steps in plans:
        order = place_order(
            customer=customer,
            address=customer.addresses.filter(is_default=True).first(),
            items=items,
            promoter=promoter,
        )
        for step in steps:
            if step == OrderStatus.PAID:  # only a recorded payment makes an order paid
                record_payment(
                    order_no=order.order_no,
                    transaction_id=f"demo{order.order_no}",
                    amount_fen=order.total_fen,
                    paid_at=timezone.now(),
                )
            elif step == OrderStatus.CANCELLED:
                cancel_order(order=order, reason="顾客未付款，演示取消")
            else:
                order = transition_order(order=order, to=step)
