"""Orders and refunds move only along their machines (issue 8 item 2): only record_payment makes
an order paid, every paid order has its payment, every transition writes the timeline, a
refund opens an after-sales record without moving the order, a finished refund stays finished."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from mall.orders.actions import cancel_order, place_order, record_payment, transition_order
from mall.orders.models import Order, OrderStatus
from mall.payments.actions import _set_refund, record_refund_result, request_refund
from mall.payments.models import RefundStatus
from tests.factories import ProductFactory, buyer, pay


def _order(qty=1):
    product = ProductFactory(price_fen=3990, stock=20)
    return place_order(**buyer(), items=[(product.pk, qty)])


def test_only_record_payment_makes_an_order_paid(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _order()
        with pytest.raises(ValidationError) as err:
            transition_order(order=order, to=OrderStatus.PAID)
        assert err.value.error_dict["status"][0].code == "payment_required"
        with pytest.raises(ValidationError):
            transition_order(order=order, to=OrderStatus.COMPLETED)  # 0 fen paid, straight to completed
        with pytest.raises(ValidationError):
            transition_order(order=order, to=OrderStatus.SHIPPED)
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
        record_payment(order_no=order.order_no, transaction_id="t-life-1", amount_fen=3990, paid_at=timezone.now())
        order.refresh_from_db()
        assert order.status == OrderStatus.PAID and order.paid_fen == 3990
        assert order.payments.get().transaction_id == "t-life-1"


def test_every_paid_order_has_its_payment(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        pay(_order())
        shipped = transition_order(order=pay(_order()), to=OrderStatus.SHIPPED)
        transition_order(order=shipped, to=OrderStatus.COMPLETED)
        for order in Order.objects.exclude(status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED]):
            assert order.payments.exists(), order.order_no
            assert sum(order.payments.values_list("amount_fen", flat=True)) == order.paid_fen == order.total_fen


def test_every_transition_writes_the_timeline(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = pay(_order())
        transition_order(order=order, to=OrderStatus.SHIPPED, note="顺丰 SF123")
        transition_order(order=order, to=OrderStatus.COMPLETED)
        rows = list(order.events.values_list("kind", "from_status", "to_status"))
        assert rows == [
            ("placed", "", "pending_payment"),
            ("paid", "pending_payment", "paid"),
            ("status", "paid", "shipped"),
            ("status", "shipped", "completed"),
        ]
        other = _order()
        cancel_order(order=other, reason="顾客不要了")
        assert other.events.last().kind == "cancelled" and other.events.last().note == "顾客不要了"
        with pytest.raises(ValidationError):
            cancel_order(order=order, reason="已完成的不能取消")


def test_a_refund_opens_after_sales_and_the_order_keeps_its_place(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = transition_order(order=pay(_order(2)), to=OrderStatus.SHIPPED)
        assert not order.after_sales
        refund = request_refund(order=order, amount_fen=3990, reason="坏了一个")
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED and order.after_sales
        assert order.events.last().kind == "refund_requested"
        transition_order(order=order, to=OrderStatus.COMPLETED)  # the lifecycle goes on meanwhile
        record_refund_result(
            out_refund_no=refund.out_refund_no, refund_id="5030001", wechat_status="SUCCESS", amount_fen=3990
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.COMPLETED and not order.after_sales
        assert order.events.last().kind == "refund_finished"


def test_a_finished_refund_does_not_pass_silently(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = pay(_order())
        refund = request_refund(order=order, amount_fen=1000)
        done = record_refund_result(
            out_refund_no=refund.out_refund_no, refund_id="5030002", wechat_status="SUCCESS", amount_fen=1000
        )
        assert done.status == RefundStatus.SUCCESS
        # the same word again is an idempotent repeat …
        again = record_refund_result(
            out_refund_no=refund.out_refund_no, refund_id="5030002", wechat_status="SUCCESS", amount_fen=1000
        )
        assert again.status == RefundStatus.SUCCESS and again.finished_at == done.finished_at
        # … anything else about a finished refund is refused
        for late in ("CLOSED", "ABNORMAL", "PROCESSING"):
            with pytest.raises(ValidationError) as err:
                record_refund_result(
                    out_refund_no=refund.out_refund_no, refund_id="5030002", wechat_status=late, amount_fen=1000
                )
            assert err.value.error_dict["status"][0].code == "illegal_transition"
        with pytest.raises(ValidationError):
            _set_refund(refund.out_refund_no, RefundStatus.REJECTED, failure="late")
        refund.refresh_from_db()
        assert refund.status == RefundStatus.SUCCESS
