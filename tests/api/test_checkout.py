"""Cart, checkout quote, placing an order (server totals, Idempotency-Key), an order's detail
with its timeline, cancelling, and isolation between shoppers and stores."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from mall.api.auth import issue_token
from mall.catalog.actions import create_product
from mall.catalog.models import ProductSku, ShippingRegionRule, ShippingTemplate
from mall.customers.actions import login_shopper
from mall.orders.models import Order, OrderStatus
from tests.factories import home


@pytest.fixture
def api(tenant_a, db):
    client = Client(HTTP_HOST="alpha.localhost")
    yield client
    connection.set_schema_to_public()


def shopper(tenant, openid: str):
    with schema_context(tenant.schema_name):
        customer = login_shopper(openid=openid)
        home(customer)
        return customer, {"HTTP_AUTHORIZATION": f"Bearer {issue_token(customer)}"}


@pytest.fixture
def grapes(tenant_a, db):
    """Two SKUs of a physical product that ships by a weight template (free over ¥99, far
    provinces dearer)."""
    with schema_context(tenant_a.schema_name):
        template = ShippingTemplate.objects.create(
            name="生鲜冷链",
            free_over_fen=9900,
            first_weight_g=1000,
            first_fee_fen=800,
            extra_weight_g=1000,
            extra_fee_fen=300,
        )
        ShippingRegionRule.objects.create(
            template=template, provinces="新疆、西藏", first_fee_fen=2000, extra_fee_fen=1000
        )
        product = create_product(
            title="阳光玫瑰葡萄",
            weight_g=2500,
            shipping_template=template,
            skus=[
                {"name": "2斤装", "price_fen": 3990, "stock": 20, "code": "GRAPE-2"},
                {"name": "5斤装", "price_fen": 8990, "stock": 5, "code": "GRAPE-5"},
            ],
        )
        small, large = list(product.skus.order_by("pk"))
        return product, small, large


def test_cart_add_set_remove_and_bad_input(api, grapes, tenant_a):
    _product, small, large = grapes
    _c, auth = shopper(tenant_a, "o-cart-1")
    r = api.post("/api/v1/cart", {"sku_id": small.pk, "quantity": 2}, content_type="application/json", **auth)
    assert r.status_code == 201, r.content
    r = api.post("/api/v1/cart", {"sku_id": small.pk, "quantity": 1}, content_type="application/json", **auth)
    assert r.json()["lines"][0]["quantity"] == 3
    assert r.json()["goods_fen"] == 3 * 3990
    r = api.put(f"/api/v1/cart/{small.pk}", {"quantity": 1}, content_type="application/json", **auth)
    assert r.json()["lines"][0]["quantity"] == 1
    too_many = api.post("/api/v1/cart", {"sku_id": large.pk, "quantity": 6}, content_type="application/json", **auth)
    assert too_many.status_code == 400
    assert "库存不足" in too_many.json()["error"]["fields"]["quantity"][0]
    bad = api.post("/api/v1/cart", {"sku_id": "x", "quantity": 0}, content_type="application/json", **auth)
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"sku_id", "quantity"}
    unknown = api.post("/api/v1/cart", {"sku_id": 987654, "quantity": 1}, content_type="application/json", **auth)
    assert unknown.status_code == 400 and "下架" in unknown.json()["error"]["fields"]["sku_id"][0]
    r = api.delete(f"/api/v1/cart/{small.pk}", **auth)
    assert r.json()["lines"] == []
    again = api.delete(f"/api/v1/cart/{small.pk}", **auth)
    assert again.status_code == 400
    assert api.get("/api/v1/cart").status_code == 401


def test_quote_computes_shipping_on_the_server(api, grapes, tenant_a):
    _product, small, large = grapes
    customer, auth = shopper(tenant_a, "o-quote-1")
    body = {"items": [{"sku_id": small.pk, "quantity": 1}]}
    q = api.post("/api/v1/checkout/quote", body, content_type="application/json", **auth).json()
    # 2.5 kg: first kg ¥8 + 2 started extra kg × ¥3 = ¥14; goods ¥39.90 < ¥99.
    assert (q["goods_fen"], q["shipping_fen"], q["total_fen"]) == (3990, 1400, 5390)
    body = {"items": [{"sku_id": small.pk, "quantity": 3}]}  # ¥119.70 ≥ ¥99: free
    q = api.post("/api/v1/checkout/quote", body, content_type="application/json", **auth).json()
    assert (q["shipping_fen"], q["total_fen"]) == (0, 11970)
    with schema_context(tenant_a.schema_name):
        from mall.customers.actions import save_address

        far = save_address(
            customer=customer,
            receiver="阿依",
            phone="13912345678",
            province="新疆维吾尔自治区",
            city="乌鲁木齐市",
            detail="解放北路 166 号 301",
        )
    body = {"items": [{"sku_id": small.pk, "quantity": 1}], "address_id": far.pk}
    q = api.post("/api/v1/checkout/quote", body, content_type="application/json", **auth).json()
    assert q["shipping_fen"] == 2000 + 2 * 1000
    multi = api.post(
        "/api/v1/checkout/quote",
        {"items": [{"product_id": large.product_id, "quantity": 1}]},
        content_type="application/json",
        **auth,
    )
    assert multi.status_code == 400 and "请选择规格" in multi.json()["error"]["fields"]["items"][0]


def test_checkout_ignores_client_totals_and_snapshots_what_was_sold(api, grapes, tenant_a):
    _product, small, _large = grapes
    _c, auth = shopper(tenant_a, "o-place-1")
    r = api.post(
        "/api/v1/orders",
        {"items": [{"sku_id": small.pk, "quantity": 2}], "total_fen": 1, "price_fen": 1},
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 201, r.content
    order = r.json()
    # 2 × 2.5 kg = 5 kg: first kg ¥8 + 4 extra kg × ¥3 = ¥20; goods ¥79.80 < ¥99.
    assert order["goods_fen"] == 7980 and order["shipping_fen"] == 2000 and order["total_fen"] == 9980
    with schema_context(tenant_a.schema_name):
        ProductSku.objects.filter(pk=small.pk).update(name="改名后", price_fen=1)
        line = Order.objects.get(order_no=order["order_no"]).lines.get()
        assert (line.title, line.sku_name, line.unit_price_fen) == ("阳光玫瑰葡萄", "2斤装", 3990)
        assert ProductSku.objects.get(pk=small.pk).stock == 18


def test_idempotency_key_returns_the_same_order(api, grapes, tenant_a):
    _product, _small, large = grapes
    _c, auth = shopper(tenant_a, "o-idem-1")
    body = {"items": [{"sku_id": large.pk, "quantity": 2}]}
    first = api.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-123", **auth)
    second = api.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-123", **auth)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["order_no"] == second.json()["order_no"]
    with schema_context(tenant_a.schema_name):
        assert ProductSku.objects.get(pk=large.pk).stock == 3  # taken once
    other = api.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-456", **auth)
    assert other.status_code == 201 and other.json()["order_no"] != first.json()["order_no"]
    too_long = api.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k" * 65, **auth)
    assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["error"]["fields"]


def test_physical_goods_need_an_address(api, grapes, tenant_a):
    _product, small, _large = grapes
    with schema_context(tenant_a.schema_name):
        nobody = login_shopper(openid="o-noaddr-1")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(nobody)}"}
    r = api.post(
        "/api/v1/orders", {"items": [{"sku_id": small.pk, "quantity": 1}]}, content_type="application/json", **auth
    )
    assert r.status_code == 400
    assert r.json()["error"]["fields"]["address_id"] == ["请选择收货地址。"]
    r = api.post(
        "/api/v1/orders",
        {"items": [{"sku_id": small.pk, "quantity": 1}], "address_id": 999999},
        content_type="application/json",
        **auth,
    )
    assert r.status_code == 400 and "address_id" in r.json()["error"]["fields"]


def test_order_detail_timeline_cancel_and_isolation(api, grapes, tenant_a, tenant_b):
    _product, small, _large = grapes
    _c, auth = shopper(tenant_a, "o-detail-1")
    _c2, other_auth = shopper(tenant_a, "o-detail-2")
    order_no = api.post(
        "/api/v1/orders", {"items": [{"sku_id": small.pk, "quantity": 1}]}, content_type="application/json", **auth
    ).json()["order_no"]
    detail = api.get(f"/api/v1/orders/{order_no}", **auth).json()
    assert detail["status"] == OrderStatus.PENDING_PAYMENT
    assert [e["kind"] for e in detail["events"]] == ["placed"]
    assert detail["receiver"] == "张*" and detail["receiver_phone"] == "139****1111"
    # Another shopper of the same store, and the same order number under another store: 404.
    assert api.get(f"/api/v1/orders/{order_no}", **other_auth).status_code == 404
    _b, b_auth = shopper(tenant_b, "o-detail-b")
    b = Client(HTTP_HOST="bravo.localhost")
    assert b.get(f"/api/v1/orders/{order_no}", **b_auth).status_code == 404
    # tenant A's token is refused by tenant B
    assert b.get(f"/api/v1/orders/{order_no}", **auth).status_code == 401
    missing_reason = api.post(f"/api/v1/orders/{order_no}/cancel", {}, content_type="application/json", **auth)
    assert missing_reason.status_code == 400 and "reason" in missing_reason.json()["error"]["fields"]
    done = api.post(f"/api/v1/orders/{order_no}/cancel", {"reason": "拍错了"}, content_type="application/json", **auth)
    assert done.status_code == 200 and done.json()["status"] == OrderStatus.CANCELLED
    assert [e["kind"] for e in done.json()["events"]] == ["placed", "cancelled"]
    with schema_context(tenant_a.schema_name):
        assert ProductSku.objects.get(pk=small.pk).stock == 20  # released
    again = api.post(f"/api/v1/orders/{order_no}/cancel", {"reason": "再取消"}, content_type="application/json", **auth)
    assert again.status_code == 400 and "status" in again.json()["error"]["fields"]
