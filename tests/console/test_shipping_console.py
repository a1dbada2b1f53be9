"""The console's 发货 screen and the parcels on the order detail: the ship button calls
``ship_order`` (field-level errors in Chinese, nothing shipped on an error), roles without
``orders.ship_order`` cannot ship, and an order whose parcels the carrier never reported shows
无真实物流."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django_tenants.utils import schema_context

from mall.orders.actions import place_order
from mall.orders.models import Order, OrderStatus
from mall.orders.shipping import record_tracking
from tests.console.conftest import login
from tests.factories import ProductFactory, buyer, pay


@pytest.fixture
def paid_order(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        products = [ProductFactory(stock=20, title=f"发货测试{i}") for i in range(2)]
        order = pay(place_order(**buyer(), items=[(products[0].pk, 3), (products[1].pk, 1)]))
        return order, list(order.lines.order_by("pk").values_list("pk", flat=True))


def _url(order):
    return f"/console/orders/ship/{order.pk}/"


def test_customer_service_ships_part_then_the_rest(tenant_a, merchant_users, paid_order):
    order, (a, b) = paid_order
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    host = tenant_a.primary_host
    page = client.get(_url(order), HTTP_HOST=host)
    assert page.status_code == 200
    html = page.content.decode()
    assert "顺丰速运" in html and "发货测试0" in html
    first_no = "SF" + uuid.uuid4().hex[:10].upper()
    resp = client.post(
        _url(order), {"carrier": "shunfeng", "tracking_no": first_no, f"qty_{a}": "2", f"qty_{b}": "0"}, HTTP_HOST=host
    )
    assert resp.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    detail = client.get(f"/console/orders/inspect/{order.pk}/", HTTP_HOST=host).content.decode()
    assert first_no in detail and "data-ship-button" in detail and "无真实物流" in detail
    rest = client.get(_url(order), HTTP_HOST=host).content.decode()
    assert 'value="1"' in rest  # one unit of the first line and one of the second are left
    resp = client.post(
        _url(order),
        {"carrier": "zhongtong", "tracking_no": "ZT" + uuid.uuid4().hex[:10].upper(), f"qty_{a}": "1", f"qty_{b}": "1"},
        HTTP_HOST=host,
    )
    assert resp.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
        record_tracking(
            carrier="shunfeng",
            tracking_no=first_no,
            events=[{"state": "collected", "description": "快递员已揽收", "occurred_at": datetime.now(UTC)}],
        )
    detail = client.get(f"/console/orders/inspect/{order.pk}/", HTTP_HOST=host).content.decode()
    assert "快递员已揽收" in detail and "无真实物流" not in detail and "data-ship-button" not in detail


def test_errors_are_shown_on_the_fields_in_chinese_and_nothing_ships(tenant_a, merchant_users, paid_order):
    order, (a, b) = paid_order
    client = login(merchant_users["owner"], tenant_a.schema_name)
    host = tenant_a.primary_host
    resp = client.post(_url(order), {"carrier": "", "tracking_no": "", f"qty_{a}": "9"}, HTTP_HOST=host)
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "请选择快递公司。" in html and "请填写运单号。" in html and "最多还能发 3 件。" in html
    resp = client.post(_url(order), {"carrier": "shunfeng", "tracking_no": "坏单号", f"qty_{a}": "1"}, HTTP_HOST=host)
    assert resp.status_code == 400 and "运单号须为" in resp.content.decode()
    resp = client.post(
        _url(order),
        {"carrier": "shunfeng", "tracking_no": "SF123456789", f"qty_{a}": "0", f"qty_{b}": "0"},
        HTTP_HOST=host,
    )
    assert resp.status_code == 400 and "每个包裹至少发一件商品。" in resp.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not Order.objects.get(pk=order.pk).shipments.exists()


@pytest.mark.parametrize("role", ["operations", "finance"])
def test_roles_without_the_ship_permission_cannot_ship(tenant_a, merchant_users, paid_order, role):
    order, (a, b) = paid_order
    client = login(merchant_users[role], tenant_a.schema_name, raise_errors=False)
    host = tenant_a.primary_host
    assert client.get(_url(order), HTTP_HOST=host).status_code in (302, 403)  # Wagtail redirects a denial
    resp = client.post(
        _url(order),
        {"carrier": "shunfeng", "tracking_no": "SF" + uuid.uuid4().hex[:10], f"qty_{a}": "3"},
        HTTP_HOST=host,
    )
    assert resp.status_code in (302, 403)
    with schema_context(tenant_a.schema_name):
        assert not Order.objects.get(pk=order.pk).shipments.exists()


def test_only_owner_and_customer_service_hold_the_ship_permission(tenant_a, merchant_users):
    with schema_context(tenant_a.schema_name):
        holders = {role for role, user in merchant_users.items() if user.has_perm("orders.ship_order")}
    assert holders == {"owner", "customer_service"}


def test_an_unpaid_order_has_no_ship_form(tenant_a, merchant_users, db):
    with schema_context(tenant_a.schema_name):
        order = place_order(**buyer(), items=[(ProductFactory(stock=5).pk, 1)])
    client = login(merchant_users["owner"], tenant_a.schema_name)
    page = client.get(_url(order), HTTP_HOST=tenant_a.primary_host).content.decode()
    assert "只有待发货且含实物商品的订单可以发货。" in page and "确认发货" not in page
    detail = client.get(f"/console/orders/inspect/{order.pk}/", HTTP_HOST=tenant_a.primary_host).content.decode()
    assert "尚未发货" in detail and "data-ship-button" not in detail


def test_units_refunded_before_shipping_are_not_offered(tenant_a, merchant_users, paid_order):
    from tests.mall.test_shipping import _refund_only

    order, (a, b) = paid_order
    with schema_context(tenant_a.schema_name):
        _refund_only(order, [{"line_id": a, "quantity": 2, "amount_fen": 1}])
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    html = client.get(_url(order), HTTP_HOST=tenant_a.primary_host).content.decode()
    row = html.split(f'data-ship-line="{a}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>3</td><td>1</td>" in row  # ordered 3, left 1: two were refunded before shipping
    resp = client.post(
        _url(order),
        {"carrier": "shunfeng", "tracking_no": "SF" + uuid.uuid4().hex[:10].upper(), f"qty_{a}": "1", f"qty_{b}": "1"},
        HTTP_HOST=tenant_a.primary_host,
    )
    assert resp.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
