"""Shopper API of shipping: ``GET /api/v1/orders/<order_no>/tracking`` and ``POST
/api/v1/orders/<order_no>/confirm-receipt`` — good and bad input (400 with Chinese field errors,
never a 500), another shopper's or another store's order → 404, and a fixed number of queries
whatever the number of parcels and events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from mall.api.auth import issue_token
from mall.orders.actions import place_order
from mall.orders.shipping import record_tracking, ship_order
from tests.factories import ProductFactory, buyer, pay

BOUND = 9  # resolution (2), SET search_path, the shopper, the order, parcels, their lines, events


def _paid(tenant, units=1):
    with schema_context(tenant.schema_name):
        product = ProductFactory(price_fen=2500, stock=100)
        who = buyer()
        order = pay(place_order(**who, items=[(product.pk, units)]))
        return order, issue_token(who["customer"]), order.lines.get().pk


def _ship(tenant, order, line_id, parcels):
    """``parcels`` parcels of one unit each, every one with a collected and an in-transit event."""
    nos = []
    with schema_context(tenant.schema_name):
        for i in range(parcels):
            no = "SF" + uuid.uuid4().hex[:12].upper()
            ship_order(order=order, parcels=[{"carrier": "shunfeng", "tracking_no": no, "lines": [(line_id, 1)]}])
            start = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(hours=i)
            steps = [
                {"state": "collected", "description": "已揽收", "occurred_at": start},
                {"state": "in_transit", "description": "运输中", "occurred_at": start + timedelta(minutes=5)},
            ]
            record_tracking(carrier="shunfeng", tracking_no=no, events=steps)
            nos.append(no)
    return nos


def _call(method, tenant, path, token=None, count=False):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    connection.set_schema_to_public()
    with CaptureQueriesContext(connection) as ctx:
        resp = getattr(client, method)(
            f"/api/v1/{path}", HTTP_HOST=tenant.primary_host, content_type="application/json", **headers
        )
    connection.set_schema_to_public()
    return (resp, len(ctx.captured_queries)) if count else resp


def test_tracking_shows_parcels_with_lines_and_events(tenant_a, db):
    order, token, line_id = _paid(tenant_a, units=2)
    nos = _ship(tenant_a, order, line_id, 2)
    resp = _call("get", tenant_a, f"orders/{order.order_no}/tracking", token)
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["status"] == "shipped" and body["has_real_track"] is True
    assert [s["tracking_no"] for s in body["shipments"]] == nos
    first = body["shipments"][0]
    assert first["carrier_name"] == "顺丰速运" and first["state"] == "in_transit"
    with schema_context(tenant_a.schema_name):
        title = order.lines.get().title
    assert first["lines"] == [{"line_id": line_id, "title": title, "sku_name": "默认", "quantity": 1}]
    assert [e["state"] for e in first["events"]] == ["collected", "in_transit"]


def test_tracking_runs_the_same_queries_for_1_and_10_parcels(tenant_a, db, settings):
    from tenants.selectors import forget_cached_tenants

    settings.TENANT_CACHE_SECONDS = 0
    forget_cached_tenants()
    one_order, one_token, one_line = _paid(tenant_a, units=1)
    _ship(tenant_a, one_order, one_line, 1)
    many_order, many_token, many_line = _paid(tenant_a, units=10)
    _ship(tenant_a, many_order, many_line, 10)
    first, one = _call("get", tenant_a, f"orders/{one_order.order_no}/tracking", one_token, count=True)
    second, many = _call("get", tenant_a, f"orders/{many_order.order_no}/tracking", many_token, count=True)
    assert first.status_code == second.status_code == 200
    assert len(second.json()["shipments"]) == 10
    assert one == many <= BOUND, (one, many)


def test_an_unshipped_order_has_no_parcels_yet(tenant_a, db):
    order, token, _line = _paid(tenant_a)
    body = _call("get", tenant_a, f"orders/{order.order_no}/tracking", token).json()
    assert body["shipments"] == [] and body["has_real_track"] is False


def test_confirm_receipt_completes_a_shipped_order(tenant_a, db):
    order, token, line_id = _paid(tenant_a)
    _ship(tenant_a, order, line_id, 1)
    resp = _call("post", tenant_a, f"orders/{order.order_no}/confirm-receipt", token)
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "completed"
    again = _call("post", tenant_a, f"orders/{order.order_no}/confirm-receipt", token)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid"
    assert "不能从" in again.json()["error"]["fields"]["status"][0]


def test_confirming_an_unshipped_order_is_a_400_in_chinese(tenant_a, db):
    order, token, _line = _paid(tenant_a)
    resp = _call("post", tenant_a, f"orders/{order.order_no}/confirm-receipt", token)
    assert resp.status_code == 400
    assert resp.json()["error"]["fields"]["status"] == ["订单状态为“待发货”，发货后才能确认收货。"]


@pytest.mark.parametrize("endpoint, method", [("tracking", "get"), ("confirm-receipt", "post")])
def test_another_shopper_s_or_another_store_s_order_is_a_404(tenant_a, tenant_b, db, endpoint, method):
    order, _token, line_id = _paid(tenant_a)
    _ship(tenant_a, order, line_id, 1)
    with schema_context(tenant_a.schema_name):
        stranger = issue_token(buyer()["customer"])
    with schema_context(tenant_b.schema_name):
        other_store = issue_token(buyer()["customer"])
    resp = _call(method, tenant_a, f"orders/{order.order_no}/{endpoint}", stranger)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    resp = _call(method, tenant_b, f"orders/{order.order_no}/{endpoint}", other_store)
    assert resp.status_code == 404
    with schema_context(tenant_a.schema_name):
        order.refresh_from_db()
        assert order.status == "shipped"


@pytest.mark.parametrize("endpoint, method", [("tracking", "get"), ("confirm-receipt", "post")])
def test_without_a_login_or_with_a_bad_order_number(tenant_a, db, endpoint, method):
    order, token, _line = _paid(tenant_a)
    anonymous = _call(method, tenant_a, f"orders/{order.order_no}/{endpoint}")
    assert anonymous.status_code == 401
    for bad in ("abc", "1" * 40, "00000000000000000000"):
        resp = _call(method, tenant_a, f"orders/{bad}/{endpoint}", token)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    wrong_method = _call("delete", tenant_a, f"orders/{order.order_no}/{endpoint}", token)
    assert wrong_method.status_code == 405
