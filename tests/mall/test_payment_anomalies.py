"""What WeChat reports that does not simply pay an order (issue 10 point 5): a wrong amount is
flagged and not paid; a second payment, or one after cancellation, is recorded apart and
refunded in full automatically, once, whatever the number of notifies."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import OutboxMessage
from mall.orders.actions import cancel_order, place_order, record_payment
from mall.orders.models import OrderEvent, OrderEventKind, OrderStatus
from mall.payments.actions import request_refund
from mall.payments.models import AnomalyKind, Payment, PaymentAnomaly, Refund, RefundSource, RefundStatus
from tests.factories import ProductFactory, buyer, home, pay


@pytest.fixture
def order(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(price_fen=2500, stock=100)
        yield place_order(**buyer(), items=[(product.pk, 2)])


def notify(order, tid: str, amount_fen: int | None = None) -> Payment:
    return record_payment(
        order_no=order.order_no,
        transaction_id=tid,
        amount_fen=order.total_fen if amount_fen is None else amount_fen,
        paid_at=timezone.now(),
    )


def anomaly_events(order) -> int:
    return OrderEvent.objects.filter(order=order, kind=OrderEventKind.PAYMENT_ANOMALY).count()


def refund_messages(refund) -> int:
    return OutboxMessage.objects.filter(
        handler="mall.payments.effects.submit_refund", payload__refund_id=refund.pk
    ).count()


def test_an_amount_that_differs_is_flagged_once_and_the_order_stays_unpaid(order):
    for _ in range(3):  # the notify and WeChat's retries
        with pytest.raises(ValidationError) as err:
            notify(order, "t-mismatch-1", order.total_fen - 1)
        assert err.value.error_dict["amount_fen"][0].code == "amount_mismatch"
        assert "不一致" in err.value.error_dict["amount_fen"][0].message
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT and order.paid_fen == 0
    assert not Payment.objects.filter(order=order).exists()
    anomaly = PaymentAnomaly.objects.get(order=order)
    assert (anomaly.kind, anomaly.amount_fen, anomaly.expected_fen) == (
        AnomalyKind.AMOUNT_MISMATCH,
        order.total_fen - 1,
        order.total_fen,
    )
    assert anomaly.refund is None and anomaly_events(order) == 1
    # The right amount still pays it.
    notify(order, "t-right-1")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_fen == order.total_fen


def test_a_second_payment_is_recorded_apart_and_refunded_automatically_exactly_once(order):
    first = notify(order, "t-first")
    for _ in range(5):  # the duplicate's notify replayed
        duplicate = notify(order, "t-second")
    assert duplicate.is_duplicate and not first.is_duplicate
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_fen == order.total_fen == first.amount_fen
    assert order.payments.count() == 2
    refund = Refund.objects.get(order=order)
    assert refund.payment_id == duplicate.pk  # THAT payment, not the order's first
    assert (refund.source, refund.status, refund.amount_fen) == (
        RefundSource.SYSTEM,
        RefundStatus.REQUESTED,
        duplicate.amount_fen,
    )
    anomaly = PaymentAnomaly.objects.get(order=order)
    assert anomaly.kind == AnomalyKind.DUPLICATE_PAYMENT and anomaly.refund_id == refund.pk
    assert anomaly.transaction_id == "t-second"
    assert refund_messages(refund) == 1 and anomaly_events(order) == 1
    # The first notify replayed changes nothing either.
    assert notify(order, "t-first").pk == first.pk
    assert Refund.objects.filter(order=order).count() == 1


def test_a_payment_after_cancellation_is_refunded_and_the_order_stays_cancelled(order):
    cancel_order(order=order, reason="不想要了")
    payment = notify(order, "t-late")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.paid_fen == 0
    assert payment.is_duplicate
    anomaly = PaymentAnomaly.objects.get(order=order)
    assert anomaly.kind == AnomalyKind.PAID_AFTER_CANCEL
    assert anomaly.refund.payment_id == payment.pk and anomaly.refund.amount_fen == order.total_fen


def test_a_duplicate_refund_does_not_eat_into_what_the_shopper_can_get_back(order):
    first = notify(order, "t-a")
    notify(order, "t-b")
    refund = request_refund(order=order, amount_fen=order.total_fen, reason="整单退款")
    assert refund.payment_id == first.pk
    with pytest.raises(ValidationError):
        request_refund(order=order, amount_fen=1)


def test_a_transaction_id_of_another_order_is_refused(order, tenant_a):
    notify(order, "t-own")
    with schema_context(tenant_a.schema_name):
        other = pay(place_order(**buyer(), items=[(order.lines.get().product_id, 1)]))
    with pytest.raises(ValidationError):
        notify(other, "t-own")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=3), st.sampled_from(["right", "less", "more"])),
        min_size=1,
        max_size=8,
    )
)
def test_whatever_notifies_arrive_the_order_is_paid_once_and_every_extra_fen_goes_back(order, notifies):
    """Property: for any sequence of notifies (transaction ids may repeat, amounts may be wrong),
    the order is paid at most once with exactly its total; every other recorded payment is
    refunded in full by one system refund of its own; mismatches are flagged once each."""
    place = place_order(customer=order.customer, address=home(order.customer), skus=[(order.lines.get().sku_id, 1)])
    seen: dict[int, int] = {}
    for tid_index, kind in notifies:
        tid = f"p-{place.pk}-{tid_index}"
        amount = seen.setdefault(
            tid_index, {"right": place.total_fen, "less": place.total_fen - 1, "more": place.total_fen + 7}[kind]
        )
        try:
            notify(place, tid, amount)
        except ValidationError as exc:
            assert exc.error_dict["amount_fen"][0].code == "amount_mismatch"
    place.refresh_from_db()
    real = list(place.payments.filter(is_duplicate=False))
    extra = list(place.payments.filter(is_duplicate=True))
    assert len(real) <= 1
    assert place.paid_fen == (place.total_fen if real else 0)
    assert (place.status == OrderStatus.PAID) == bool(real)
    assert all(p.amount_fen == place.total_fen for p in real)
    system = Refund.objects.filter(order=place, source=RefundSource.SYSTEM)
    assert sorted(r.payment_id for r in system) == sorted(p.pk for p in extra)
    assert (system.aggregate(s=Sum("amount_fen"))["s"] or 0) == sum(p.amount_fen for p in extra)
    mismatches = PaymentAnomaly.objects.filter(order=place, kind=AnomalyKind.AMOUNT_MISMATCH)
    assert mismatches.count() == len(set(mismatches.values_list("transaction_id", flat=True)))
    assert PaymentAnomaly.objects.filter(order=place).exclude(kind=AnomalyKind.AMOUNT_MISMATCH).count() == len(extra)
