"""The consoles' home pages: the merchant's 店铺概况 and the staff's 平台概况."""

from __future__ import annotations

import datetime as dt

import pytest
import redis
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from saas_platform.console.selectors import (
    LOW_STOCK_THRESHOLD,
    dashboard_cache_key,
    merchant_dashboard,
    staff_dashboard,
)


def _paid_order(product, *, paid_at, fen):
    from mall.orders.actions import place_order, record_payment
    from tests.factories import CustomerFactory

    product.price_fen = fen
    product.save(update_fields=["price_fen"])
    order = place_order(customer=CustomerFactory(), items=[(product.pk, 1)])
    record_payment(order_no=order.order_no, transaction_id=f"tx-{order.order_no}", amount_fen=fen, paid_at=paid_at)
    return order


@pytest.fixture
def fresh_cache(tenant_a):
    for schema in ("public", tenant_a.schema_name):
        with schema_context(schema):
            cache.delete(dashboard_cache_key("merchant"))
            cache.delete(dashboard_cache_key("staff"))
    yield
    connection.set_schema_to_public()


def test_merchant_dashboard_counts_todays_and_yesterdays_paid_orders_and_todos(db, tenant_a, fresh_cache):
    from tests.factories import ProductFactory

    now = timezone.localtime()
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(stock=50)
        ProductFactory(stock=LOW_STOCK_THRESHOLD - 1)  # low stock
        ProductFactory(stock=0, on_shelf=False)  # off the shelf: not a to-do
        _paid_order(product, paid_at=now, fen=3990)
        _paid_order(product, paid_at=now, fen=123456)
        _paid_order(product, paid_at=now - dt.timedelta(days=1), fen=100)
        data = merchant_dashboard()

    assert data["today"] == {"paid_fen": 3990 + 123456, "orders": 2}
    assert data["yesterday"] == {"paid_fen": 100, "orders": 1}
    assert data["todos"]["to_ship"] == 3
    assert data["todos"]["low_stock"] == 1
    assert data["todos"]["refunds"] == 0
    assert len(data["chart"]["days"]) == 30
    assert data["chart"]["paid_fen"][-1] == 3990 + 123456
    assert data["chart"]["paid_fen"][-2] == 100
    assert data["chart"]["days"][-1] == now.strftime("%m-%d")
    assert data["onboarding"]["total"] > data["onboarding"]["done"] >= 1


def test_dashboard_figures_are_cached_per_store_under_a_key_that_starts_with_the_schema(db, tenant_a, fresh_cache):
    from tests.factories import ProductFactory

    with schema_context(tenant_a.schema_name):
        product = ProductFactory(stock=50)
        first = merchant_dashboard()
        _paid_order(product, paid_at=timezone.now(), fen=500)
        assert merchant_dashboard() == first  # served from the cache for DASHBOARD_CACHE_SECONDS
        cache.delete(dashboard_cache_key("merchant"))
        assert merchant_dashboard()["today"]["orders"] == first["today"]["orders"] + 1
    with schema_context("public"):
        assert cache.get(dashboard_cache_key("merchant")) is None  # another schema, another key

    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    keys = [k.decode() for k in client.scan_iter(match=f"*{dashboard_cache_key('merchant')}", count=500)]
    client.close()
    assert keys, "the dashboard was not cached"
    assert f"{tenant_a.schema_name}::1:{dashboard_cache_key('merchant')}" in keys


def test_staff_dashboard_shows_queue_expiring_licences_new_stores_and_signups(db, tenant_a, tenant_b, fresh_cache):
    from saas_platform.review.models import DocumentKind, DocumentStatus, QualificationDocument

    today = timezone.localdate()
    QualificationDocument.objects.create(
        tenant=tenant_a,
        kind=DocumentKind.values[0],
        file_key="k1",
        original_name="a.pdf",
        content_type="application/pdf",
        size=1,
        status=DocumentStatus.APPROVED,
        expires_on=today + dt.timedelta(days=20),
        submitted_at=timezone.now(),
    )
    QualificationDocument.objects.create(
        tenant=tenant_b,
        kind=DocumentKind.values[0],
        file_key="k2",
        original_name="b.pdf",
        content_type="application/pdf",
        size=1,
        submitted_at=timezone.now(),
    )
    data = staff_dashboard()
    assert data["review_queue_count"] == 1
    assert data["expiring_count"] == 1
    assert data["merchant_count"] >= 2
    assert data["new_this_week"] >= 2  # the session tenants were provisioned for this run
    assert sum(data["by_status"].values()) == data["merchant_count"]
    assert len(data["chart"]["signups"]) == 30
    assert sum(data["chart"]["signups"]) >= data["new_this_week"]  # 30 days hold the last 7


def test_merchant_home_page_is_the_dashboard_with_yuan_links_and_a_local_chart(db, tenant_a, fresh_cache):
    from saas_platform.accounts.actions import ensure_console_user
    from tests.factories import ProductFactory

    with schema_context(tenant_a.schema_name):
        _paid_order(ProductFactory(stock=50), paid_at=timezone.now(), fen=123456)
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        with schema_context("public"):
            owner = tenant_a.owner
        client.force_login(ensure_console_user(platform_user=owner))
    html = client.get("/console/", HTTP_HOST="alpha.localhost").content.decode()
    assert 'data-panel="merchant-overview"' in html
    assert "¥1,234.56" in html
    assert 'href="/console/orders/?status=paid"' in html
    assert "/static/console/vendor/echarts/echarts.min.js" in html
    assert "Welcome to your new Wagtail site" not in html
    assert "cdn" not in html.lower()
    assert finders.find("console/vendor/echarts/echarts.min.js")
    assert finders.find("console/vendor/echarts/LICENSE")
    assert "<title>控制面板 - 分销云</title>" in html


def test_the_dashboard_speaks_english_on_request(db, tenant_a, fresh_cache):
    from saas_platform.accounts.actions import ensure_console_user

    with schema_context("public"):
        owner = tenant_a.owner
    with schema_context(tenant_a.schema_name):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(ensure_console_user(platform_user=owner))
        merchant_dashboard()  # cached in Chinese-free form: labels are added per request
    html = client.get("/console/", HTTP_HOST="alpha.localhost").content.decode()
    for text in ("Paid today", "Orders to ship", "Low-stock products", "Last 30 days", "Sales"):
        assert text in html
    assert "待发货订单" not in html
