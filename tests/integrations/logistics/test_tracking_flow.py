"""Ship → the outbox subscribes the parcel at the carrier (emulator) → the carrier advances it
and pushes signed tracks to our endpoint → events appear on the order → delivered → the
auto-complete beat task (fanned out per store by the Celery worker) completes it. A parcel unknown to the carrier never gets a track (无真实物流);
a push with a bad signature is refused. Real processes: emulator, gunicorn, Celery worker."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from django_tenants.utils import schema_context

from core.models import InboundLog
from integrations.logistics.client import signed_headers
from mall.orders.actions import place_order
from mall.orders.models import Order, OrderEventKind, OrderSettings, OrderStatus, Shipment
from mall.orders.shipping import complete_delivered_orders, ship_order
from mall.orders.shipping_tasks import complete_delivered_orders_everywhere
from tests.factories import ProductFactory, buyer, pay

# The shipping stack's worker must be the one that runs these tests' outbox messages (see
# ``only_shipping_worker``).
pytestmark = pytest.mark.usefixtures("only_shipping_worker")


def wait_until(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    return predicate()


def _shipped(tenant, carrier_code="shunfeng"):
    with schema_context(tenant.schema_name):
        product = ProductFactory(stock=10)
        order = pay(place_order(**buyer(), items=[(product.pk, 1)]))
        no = "SF" + uuid.uuid4().hex[:12].upper()
        (shipment,) = ship_order(
            order=order, parcels=[{"carrier": carrier_code, "tracking_no": no, "lines": [(order.lines.get().pk, 1)]}]
        )
        return order, shipment, no


def _subscribed(tenant, shipment):
    with schema_context(tenant.schema_name):
        return Shipment.objects.get(pk=shipment.pk).subscribed


def test_a_parcel_goes_from_ship_to_completed_through_the_carrier(carrier, shipping_stack, tenant_a, committed):
    order, shipment, no = _shipped(tenant_a)
    assert wait_until(lambda: _subscribed(tenant_a, shipment)), "the outbox did not subscribe the parcel"
    parcel = carrier.parcel("shunfeng", no)
    assert parcel["callback_url"] == f"{shipping_stack}/logistics/notify/{tenant_a.pk}/"
    for expected in ("collected", "in_transit", "delivering", "delivered"):
        answer = carrier.api("advance", carrier="shunfeng", tracking_no=no)
        assert answer["state"] == expected and answer["push_status"] == 200, answer
    carrier.api("push", carrier="shunfeng", tracking_no=no)  # a duplicate push changes nothing
    with schema_context(tenant_a.schema_name):
        order = Order.objects.get(pk=order.pk)
        shipment.refresh_from_db()
        assert order.has_real_track and order.delivered_at is not None and order.status == OrderStatus.SHIPPED
        assert shipment.state == "delivered"
        assert [e.state for e in shipment.events.all()] == ["collected", "in_transit", "delivering", "delivered"]
        assert order.events.filter(kind=OrderEventKind.TRACKING).count() == 4
        assert order.events.filter(kind=OrderEventKind.DELIVERED).count() == 1
        assert complete_delivered_orders() == 0  # delivered just now: 7 days to go
    # The beat task (public schema) fans out one task per store; with 0 days the order completes.
    with schema_context(tenant_a.schema_name):
        row = OrderSettings.current()
        days, row.auto_complete_days = row.auto_complete_days, 0
        row.save(update_fields=["auto_complete_days"])
    try:
        complete_delivered_orders_everywhere.delay()
        assert wait_until(lambda: _status(tenant_a, order) == OrderStatus.COMPLETED), "the beat task did not run"
    finally:
        with schema_context(tenant_a.schema_name):
            OrderSettings.objects.filter(pk=row.pk).update(auto_complete_days=days)
    with schema_context(tenant_a.schema_name):
        order.refresh_from_db()
        assert order.completed_at is not None
        assert order.events.get(kind=OrderEventKind.COMPLETED).from_status == OrderStatus.SHIPPED


def _status(tenant, order):
    with schema_context(tenant.schema_name):
        return Order.objects.get(pk=order.pk).status


def test_the_carrier_advances_parcels_on_its_own_and_the_order_is_delivered(
    carrier, shipping_stack, tenant_a, committed
):
    carrier.api("step-seconds", seconds=0.3)
    try:
        order, shipment, no = _shipped(tenant_a, "yuantong")

        def delivered():
            with schema_context(tenant_a.schema_name):
                return Order.objects.get(pk=order.pk).delivered_at

        assert wait_until(delivered), carrier.parcel("yuantong", no)
    finally:
        carrier.api("step-seconds", seconds=0)
    with schema_context(tenant_a.schema_name):
        assert [e.state for e in Shipment.objects.get(pk=shipment.pk).events.all()] == [
            "collected",
            "in_transit",
            "delivering",
            "delivered",
        ]


def test_a_parcel_unknown_to_the_carrier_never_gets_a_real_track(carrier, shipping_stack, tenant_a, committed):
    no = "SF" + uuid.uuid4().hex[:12].upper()
    carrier.api("unknown", carrier="shunfeng", tracking_no=no)
    with schema_context(tenant_a.schema_name):
        order = pay(place_order(**buyer(), items=[(ProductFactory(stock=3).pk, 1)]))
        (shipment,) = ship_order(
            order=order, parcels=[{"carrier": "shunfeng", "tracking_no": no, "lines": [(order.lines.get().pk, 1)]}]
        )
    assert wait_until(lambda: _subscribed(tenant_a, shipment))
    answer = carrier.api("advance", carrier="shunfeng", tracking_no=no, steps=4)
    assert answer["state"] == "" and answer["push_status"] == 0
    with schema_context(tenant_a.schema_name):
        from mall.orders.shipping_effects import refresh_tracking

        refresh_tracking(shipment_id=shipment.pk)  # the query finds nothing either
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED and order.has_real_track is False
        assert not shipment.events.exists()


def test_a_query_applies_the_same_track_as_the_pushes(carrier, shipping_stack, tenant_a, committed):
    order, shipment, no = _shipped(tenant_a, "jd")
    assert wait_until(lambda: _subscribed(tenant_a, shipment))
    with schema_context(tenant_a.schema_name):
        from mall.orders.shipping_effects import refresh_tracking

        carrier.api("advance", carrier="jd", tracking_no=no, steps=2)
        refresh_tracking(shipment_id=shipment.pk)
        shipment.refresh_from_db()
        assert shipment.state == "in_transit" and shipment.events.count() == 2


def test_a_push_with_a_bad_signature_is_refused(carrier, shipping_stack, tenant_a, committed):
    order, shipment, no = _shipped(tenant_a)
    body = json.dumps(
        {
            "carrier": "shunfeng",
            "tracking_no": no,
            "state": "delivered",
            "events": [
                {"state": "delivered", "description": "伪造签收", "location": "", "time": timezone.now().isoformat()}
            ],
        }
    ).encode()
    url = f"http://127.0.0.1:{carrier.web_port}/logistics/notify/{tenant_a.pk}/"
    forged = signed_headers("not-the-key", carrier.env["LOGISTICS_CUSTOMER"], body)
    resp = requests.post(url, data=body, headers={**forged, "Host": "localhost"}, timeout=10)
    assert resp.status_code == 401
    assert InboundLog.objects.filter(kind="logistics_push", outcome="refused").exists()
    good = signed_headers(carrier.env["LOGISTICS_KEY"], carrier.env["LOGISTICS_CUSTOMER"], body)
    unknown_store = url.replace(f"/{tenant_a.pk}/", "/999999/")
    assert requests.post(unknown_store, data=body, headers={**good, "Host": "localhost"}, timeout=10).status_code == 200
    with schema_context(tenant_a.schema_name):
        order.refresh_from_db()
        assert order.has_real_track is False and order.delivered_at is None
    resp = requests.post(url, data=body, headers={**good, "Host": "localhost"}, timeout=10)
    assert resp.status_code == 200
    with schema_context(tenant_a.schema_name):
        order.refresh_from_db()
        assert order.has_real_track is True and order.delivered_at is not None


def test_lost_pushes_are_recovered_by_the_re_query_beat(carrier, shipping_stack, tenant_a, committed, settings):
    from mall.orders.shipping import silent_shipments
    from mall.orders.shipping_effects import requery_silent_shipments

    order, shipment, no = _shipped(tenant_a, "yuantong")
    assert wait_until(lambda: _subscribed(tenant_a, shipment))
    answer = carrier.api("advance", carrier="yuantong", tracking_no=no, steps=4, push=False)
    assert answer["state"] == "delivered" and answer["push_status"] == 0  # every push lost
    settings.TRACKING_REQUERY_HOURS = 6
    with schema_context(tenant_a.schema_name):
        assert not shipment.events.exists()
        assert shipment.pk not in silent_shipments()  # shipped just now: not silent yet
        later = timezone.now() + timedelta(hours=7)
        assert shipment.pk in silent_shipments(now=later)
        assert requery_silent_shipments(now=later) >= 1
        shipment.refresh_from_db()
        order.refresh_from_db()
        assert shipment.state == "delivered" and shipment.events.count() == 4
        assert order.has_real_track and order.delivered_at is not None
        assert shipment.pk not in silent_shipments(now=later + timedelta(hours=7))  # delivered: done


def test_a_failing_carrier_is_asked_again_only_after_the_quiet_period(
    carrier, shipping_stack, tenant_a, committed, settings
):
    from mall.orders.shipping import silent_shipments
    from mall.orders.shipping_effects import requery_silent_shipments

    order, shipment, no = _shipped(tenant_a, "zhongtong")
    assert wait_until(lambda: _subscribed(tenant_a, shipment))
    carrier.api("advance", carrier="zhongtong", tracking_no=no, steps=1, push=False)
    settings.LOGISTICS_RETRIES = 0  # one call per parcel, so one fault per parcel asked
    settings.TRACKING_REQUERY_HOURS = 6
    with schema_context(tenant_a.schema_name):
        later = timezone.now() + timedelta(hours=7)
        silent = silent_shipments(now=later)  # this store's other tests' parcels are asked too
        assert shipment.pk in silent
        carrier.api("fault", path="/v1/query", status=503, count=len(silent))
        assert requery_silent_shipments(now=later) == len(silent)  # the carrier fails: logged, not raised
        shipment.refresh_from_db()
        assert not shipment.events.exists() and shipment.checked_at == later
        assert shipment.pk not in silent_shipments(now=later + timedelta(hours=1))
        assert shipment.pk in silent_shipments(now=later + timedelta(hours=7))
