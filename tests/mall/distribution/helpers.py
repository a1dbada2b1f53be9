"""Helpers for the distribution tests: run the outbox messages a test transaction recorded
(their publish waits for a commit that never comes in a ``db`` test), shop, refund, finish."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core import outbox
from core.models import OutboxMessage, OutboxStatus
from mall.orders.actions import place_order
from mall.orders.models import Order, OrderStatus
from mall.payments.actions import record_refund_result, request_refund
from mall.promoters.actions import make_promoter
from tests.factories import CustomerFactory, ProductFactory, home, pay

COMMISSION_HANDLERS = (
    "mall.promoters.commission.commission_paid_order",
    "mall.promoters.commission.commission_refunded_line",
)


def run_commission_outbox() -> int:
    """Deliver the pending commission messages, oldest first, as the worker would."""
    n = 0
    for pk in (
        OutboxMessage.objects.filter(handler__in=COMMISSION_HANDLERS, status=OutboxStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        n += bool(outbox.deliver(pk))
    return n


def chain():
    """grand ← parent ← child: three promoters, each the parent of the next."""
    grand = make_promoter(customer=CustomerFactory(nickname="祖"))
    parent = make_promoter(customer=CustomerFactory(nickname="父"), invited_by=grand)
    child = make_promoter(customer=CustomerFactory(nickname="子"), invited_by=parent)
    return grand, parent, child


def buy(customer, products_quantities, *, promoter=None, paid=True):
    order = place_order(
        customer=customer,
        address=home(customer),
        items=[(p.pk, q) for p, q in products_quantities],
        promoter=promoter,
    )
    return pay(order) if paid else order


def product(price_fen=10000, **kw):
    return ProductFactory(price_fen=price_fen, stock=10_000, **kw)


def refund(order, line, amount_fen, quantity=0):
    r = request_refund(order=order, lines=[{"line_id": line.pk, "amount_fen": amount_fen, "quantity": quantity}],
                       reason="测试退款")  # fmt: skip
    record_refund_result(
        out_refund_no=r.out_refund_no, refund_id=f"5030{r.pk}", wechat_status="SUCCESS", amount_fen=r.amount_fen
    )
    return r


def complete(order, *, days_ago=8, real_track=True):
    """Test set-up: the order completed ``days_ago`` days ago with (or without) a real track."""
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.COMPLETED,
        completed_at=timezone.now() - timedelta(days=days_ago),
        has_real_track=real_track,
    )
