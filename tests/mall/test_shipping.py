"""Shipping actions (issue 10 point 6 and the shipped → completed half of point 4): split
parcels per line, never more than ordered, SHIPPED only when every physical unit has left,
the carrier's track applied idempotently, delivered → completed after N days or on the
shopper's confirmation, and 无真实物流 for parcels the carrier never reported."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import schema_context

from core.models import OutboxMessage
from mall.orders.actions import place_order
from mall.orders.models import Order, OrderEventKind, OrderSettings, OrderStatus, TrackingEvent
from mall.orders.shipping import complete_delivered_orders, confirm_receipt, record_tracking, ship_order
from tests.factories import ProductFactory, buyer, pay


def _no(prefix="SF") -> str:
    return prefix + uuid.uuid4().hex[:12].upper()


def _paid_order(quantities=(3, 2), kind="physical"):
    products = [ProductFactory(price_fen=1000, stock=50, kind=kind) for _ in quantities]
    order = place_order(**buyer(), items=[(p.pk, q) for p, q in zip(products, quantities, strict=True)])
    return pay(order)


def _lines(order):
    return list(order.lines.order_by("pk"))


def _step(state, minutes, text=None):
    return {
        "state": state,
        "description": text or f"{state} 描述",
        "location": "杭州市",
        "occurred_at": datetime(2026, 12, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes),
    }


def test_shipping_every_unit_moves_the_order_to_shipped_and_subscribes_each_parcel(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order()
        a, b = _lines(order)
        shipments = ship_order(
            order=order,
            parcels=[
                {"carrier": "shunfeng", "tracking_no": _no(), "lines": [(a.pk, 3)]},
                {"carrier": "zhongtong", "tracking_no": _no("ZT"), "lines": [(b.pk, 2)]},
            ],
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED and order.shipped_at is not None
        assert len(shipments) == 2 and not order.has_real_track
        handlers = OutboxMessage.objects.filter(
            schema_name=tenant_a.schema_name, payload__shipment_id__in=[s.pk for s in shipments]
        ).values_list("handler", flat=True)
        assert sorted(handlers) == ["mall.orders.shipping_effects.subscribe_shipment"] * 2
        event = order.events.get(kind=OrderEventKind.SHIPPED)
        assert (event.from_status, event.to_status) == (OrderStatus.PAID, OrderStatus.SHIPPED)
        assert "顺丰速运" in event.note and "中通快递" in event.note


def test_a_split_shipment_keeps_the_order_paid_until_the_last_unit_leaves(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order()
        a, b = _lines(order)
        ship_order(order=order, parcels=[{"carrier": "yunda", "tracking_no": _no("YD"), "lines": [(a.pk, 2)]}])
        order.refresh_from_db()
        assert order.status == OrderStatus.PAID and order.shipments.count() == 1
        assert "部分发货" in order.events.filter(kind=OrderEventKind.SHIPPED).get().note
        ship_order(
            order=order, parcels=[{"carrier": "yunda", "tracking_no": _no("YD"), "lines": [(a.pk, 1), (b.pk, 2)]}]
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED and order.shipments.count() == 2


@pytest.mark.parametrize(
    "make_parcels, field",
    [
        (lambda a, b: [{"carrier": "shunfeng", "tracking_no": _no(), "lines": [(a.pk, 4)]}], "lines"),
        (
            lambda a, b: [
                {"carrier": "shunfeng", "tracking_no": _no(), "lines": [(a.pk, 2)]},
                {"carrier": "shunfeng", "tracking_no": _no(), "lines": [(a.pk, 2)]},
            ],
            "lines",
        ),
        (lambda a, b: [{"carrier": "shunfeng", "tracking_no": _no(), "lines": [(999999, 1)]}], "lines"),
        (lambda a, b: [{"carrier": "shunfeng", "tracking_no": _no(), "lines": [(a.pk, 0)]}], "lines"),
        (lambda a, b: [{"carrier": "nosuch", "tracking_no": _no(), "lines": [(a.pk, 1)]}], "carrier"),
        (lambda a, b: [{"carrier": "shunfeng", "tracking_no": "中文单号!", "lines": [(a.pk, 1)]}], "tracking_no"),
        (lambda a, b: [], "lines"),
    ],
)
def test_shipping_more_than_ordered_or_bad_parcels_is_refused(tenant_a, db, make_parcels, field):
    with schema_context(tenant_a.schema_name):
        order = _paid_order()
        a, b = _lines(order)
        with pytest.raises(ValidationError) as err:
            ship_order(order=order, parcels=make_parcels(a, b))
        assert field in err.value.message_dict
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message_dict[field][0])  # in Chinese
        assert order.shipments.count() == 0
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_what_was_shipped_before_counts_against_what_is_left(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order((3,))
        (a,) = _lines(order)
        ship_order(order=order, parcels=[{"carrier": "ems", "tracking_no": _no("EMS"), "lines": [(a.pk, 2)]}])
        with pytest.raises(ValidationError) as err:
            ship_order(order=order, parcels=[{"carrier": "ems", "tracking_no": _no("EMS"), "lines": [(a.pk, 2)]}])
        assert "最多还能发 1 件" in err.value.message_dict["lines"][0]


def test_only_paid_orders_with_physical_lines_ship_and_a_tracking_number_ships_once(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(stock=10)
        unpaid = place_order(**buyer(), items=[(product.pk, 1)])
        with pytest.raises(ValidationError) as err:
            ship_order(
                order=unpaid,
                parcels=[{"carrier": "jd", "tracking_no": _no("JD"), "lines": [(_lines(unpaid)[0].pk, 1)]}],
            )
        assert err.value.error_dict["status"][0].code == "not_shippable"
        service = _paid_order((1,), kind="service")
        with pytest.raises(ValidationError) as err:
            ship_order(
                order=service,
                parcels=[{"carrier": "jd", "tracking_no": _no("JD"), "lines": [(_lines(service)[0].pk, 1)]}],
            )
        assert err.value.error_dict["lines"][0].code == "no_physical"
        first, second = _paid_order((1,)), _paid_order((1,))
        no = _no()
        ship_order(
            order=first, parcels=[{"carrier": "shunfeng", "tracking_no": no, "lines": [(_lines(first)[0].pk, 1)]}]
        )
        with pytest.raises(ValidationError) as err:
            ship_order(
                order=second, parcels=[{"carrier": "shunfeng", "tracking_no": no, "lines": [(_lines(second)[0].pk, 1)]}]
            )
        assert err.value.error_dict["tracking_no"][0].code == "duplicate"


def test_tracking_is_applied_once_and_delivery_is_recorded(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order((1,))
        no = _no()
        ship_order(
            order=order, parcels=[{"carrier": "shunfeng", "tracking_no": no, "lines": [(_lines(order)[0].pk, 1)]}]
        )
        first = [_step("collected", 0), _step("in_transit", 60)]
        shipment = record_tracking(carrier="shunfeng", tracking_no=no, events=first)
        assert shipment.state == "in_transit"
        order.refresh_from_db()
        assert order.has_real_track and order.delivered_at is None
        record_tracking(carrier="shunfeng", tracking_no=no, events=first)  # the same push again
        assert TrackingEvent.objects.filter(shipment=shipment).count() == 2
        assert order.events.filter(kind=OrderEventKind.TRACKING).count() == 2
        whole = [*first, _step("delivering", 120), _step("delivered", 180)]
        shipment = record_tracking(carrier="shunfeng", tracking_no=no.lower(), events=whole)
        order.refresh_from_db()
        assert shipment.state == "delivered" and shipment.delivered_at == whole[-1]["occurred_at"]
        assert order.delivered_at == whole[-1]["occurred_at"] and order.status == OrderStatus.SHIPPED
        assert order.events.filter(kind=OrderEventKind.DELIVERED).count() == 1
        assert order.events.filter(kind=OrderEventKind.TRACKING).count() == 4
        record_tracking(carrier="shunfeng", tracking_no=no, events=[_step("in_transit", 60)])  # late, old step
        shipment.refresh_from_db()
        assert shipment.state == "delivered"
        assert record_tracking(carrier="shunfeng", tracking_no="NOSUCH123", events=whole) is None


def test_an_order_is_delivered_only_when_every_parcel_is(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order()
        a, b = _lines(order)
        one, two = _no(), _no()
        ship_order(
            order=order,
            parcels=[
                {"carrier": "shunfeng", "tracking_no": one, "lines": [(a.pk, 3)]},
                {"carrier": "shunfeng", "tracking_no": two, "lines": [(b.pk, 2)]},
            ],
        )
        record_tracking(carrier="shunfeng", tracking_no=one, events=[_step("delivered", 10)])
        order.refresh_from_db()
        assert order.delivered_at is None
        record_tracking(carrier="shunfeng", tracking_no=two, events=[_step("delivered", 30)])
        order.refresh_from_db()
        assert order.delivered_at == _step("delivered", 30)["occurred_at"]


def test_parcels_the_carrier_never_reported_leave_no_real_track(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order((1,))
        ship_order(
            order=order,
            parcels=[{"carrier": "yuantong", "tracking_no": _no("YT"), "lines": [(_lines(order)[0].pk, 1)]}],
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED and order.has_real_track is False


def test_delivered_orders_complete_after_the_store_s_days(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        settings_row = OrderSettings.current()
        settings_row.auto_complete_days = 7
        settings_row.save()
        order = _paid_order((1,))
        no = _no()
        ship_order(
            order=order, parcels=[{"carrier": "shunfeng", "tracking_no": no, "lines": [(_lines(order)[0].pk, 1)]}]
        )
        delivered = timezone.now() - timedelta(days=3)
        record_tracking(
            carrier="shunfeng",
            tracking_no=no,
            events=[{"state": "delivered", "description": "已签收", "occurred_at": delivered}],
        )
        complete_delivered_orders()
        assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED  # only 3 days
        done = complete_delivered_orders(now=timezone.now() + timedelta(days=5))
        order.refresh_from_db()
        assert done >= 1 and order.status == OrderStatus.COMPLETED and order.completed_at is not None
        event = order.events.get(kind=OrderEventKind.COMPLETED)
        assert (event.from_status, event.to_status) == (OrderStatus.SHIPPED, OrderStatus.COMPLETED)


def test_the_shopper_confirms_receipt_of_a_shipped_order_only(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order((1,))
        with pytest.raises(ValidationError):
            confirm_receipt(order=order, customer=order.customer)  # not shipped yet
        ship_order(
            order=order, parcels=[{"carrier": "shunfeng", "tracking_no": _no(), "lines": [(_lines(order)[0].pk, 1)]}]
        )
        stranger = buyer()["customer"]
        with pytest.raises(ValidationError):
            confirm_receipt(order=order, customer=stranger)
        done = confirm_receipt(order=order, customer=order.customer)
        assert done.status == OrderStatus.COMPLETED
        assert done.events.filter(kind=OrderEventKind.COMPLETED).get().note == "买家确认收货"


def _refund_only(order, lines):
    from mall.payments.actions import approve_refund, request_after_sales
    from tests.mall.test_aftersales import succeed

    refund = request_after_sales(
        order=order, customer=order.customer, lines=lines, reason="缺货退款", kind="refund_only"
    )
    approve_refund(refund=refund, actor=None)
    return succeed(refund)


def test_units_refunded_before_shipping_are_not_shipped_and_the_rest_completes_the_order(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order()
        a, b = _lines(order)
        _refund_only(order, [{"line_id": b.pk, "amount_fen": 1000, "quantity": 1}])
        with pytest.raises(ValidationError) as exc:
            ship_order(order=order, parcels=[{"carrier": "shunfeng", "tracking_no": _no(), "lines": [(b.pk, 2)]}])
        assert "最多还能发 1 件" in str(exc.value)
        ship_order(
            order=order, parcels=[{"carrier": "shunfeng", "tracking_no": _no(), "lines": [(a.pk, 3), (b.pk, 1)]}]
        )
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED


def test_refunding_the_unshipped_rest_ships_the_order_and_a_full_refund_closes_it(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        order = _paid_order()
        a, b = _lines(order)
        ship_order(order=order, parcels=[{"carrier": "shunfeng", "tracking_no": _no(), "lines": [(a.pk, 3)]}])
        _refund_only(order, [{"line_id": b.pk, "amount_fen": 2000, "quantity": 2}])
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED  # its parcel carries the rest
        event = order.events.filter(kind=OrderEventKind.SHIPPED).last()
        assert (event.from_status, event.to_status) == (OrderStatus.PAID, OrderStatus.SHIPPED)

        other = _paid_order()
        _refund_only(other, None)
        other.refresh_from_db()
        assert other.status == OrderStatus.CANCELLED and other.cancelled_at is not None
        event = other.events.get(kind=OrderEventKind.CANCELLED)
        assert (event.from_status, event.to_status) == (OrderStatus.PAID, OrderStatus.CANCELLED)

        part = _paid_order()
        x, _y = _lines(part)
        _refund_only(part, [{"line_id": x.pk, "amount_fen": 3000, "quantity": 3}])
        part.refresh_from_db()
        assert part.status == OrderStatus.PAID  # the other line still ships


def test_a_paid_order_is_never_cancelled_by_hand(tenant_a, db):
    from mall.orders.actions import cancel_order

    with schema_context(tenant_a.schema_name):
        order = _paid_order()
        with pytest.raises(ValidationError) as exc:
            cancel_order(order=order, reason="不想发了")
        assert "not_cancellable" in str(exc.value.error_dict["status"][0].code)
        order.refresh_from_db()
        assert order.status == OrderStatus.PAID
