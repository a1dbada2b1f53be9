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

from mall.catalog.selectors import LOW_STOCK_THRESHOLD
from saas_platform.console.selectors import (
    dashboard_cache_key,
    merchant_dashboard,
    staff_dashboard,
)


def _paid_order(product, *, paid_at, fen):
    from mall.orders.actions import place_order, record_payment
    from tests.factories import buyer

    product.skus.update(price_fen=fen)  # the SKU is what is sold
    order = place_order(**buyer(), items=[(product.pk, 1)])
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


def _todo_links(html: str) -> dict[str, tuple[int, str | None]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    found = {}
    for li in soup.select("[data-todo]"):
        link = li.find("a")
        found[li["data-todo"]] = (int(li.find("strong").get_text()), link["href"] if link else None)
    return found


def _listing_rows(client, url: str) -> int:
    from bs4 import BeautifulSoup

    response = client.get(url, HTTP_HOST="alpha.localhost")
    assert response.status_code == 200, url
    return len(BeautifulSoup(response.content, "html.parser").select("table.listing tbody tr"))


def test_each_todo_links_to_a_list_filtered_to_exactly_the_rows_it_counts(
    db, tenant_a, store, merchant_users, fresh_cache
):
    from mall.payments.actions import request_refund
    from mall.payments.models import Refund, RefundStatus
    from tests.console.conftest import login
    from tests.factories import ProductFactory

    with schema_context(tenant_a.schema_name):
        ProductFactory(stock=LOW_STOCK_THRESHOLD - 1)
        ProductFactory(stock=2)
        ProductFactory(stock=0, on_shelf=False)  # off the shelf: not a to-do, not in the filter
        ProductFactory(stock=LOW_STOCK_THRESHOLD)  # at the threshold: enough
        # A finished refund is not open: neither counted nor listed.
        from mall.orders.models import Order

        paid = Order.objects.get(pk=store["paid_order"])
        closed = request_refund(order=paid, amount_fen=50, reason="多付了")
        Refund.objects.filter(pk=closed.pk).update(status=RefundStatus.CLOSED)
    connection.set_schema_to_public()

    owner = login(merchant_users["owner"], tenant_a.schema_name)
    owner_html = owner.get("/console/", HTTP_HOST="alpha.localhost").content.decode()
    assert 'data-figure="onboarding"><a href="' in owner_html  # the owner's set-up is a link
    todos = _todo_links(owner_html)
    assert todos["refunds"][1] == "/console/refunds/?open=true"
    assert todos["low_stock"][1] == "/console/catalog/products/?low_stock=true"
    # Open refunds: the store's merchant refund and the automatic refund of its duplicate payment.
    assert todos["refunds"][0] == 2 and todos["low_stock"][0] == 2
    for key, (count, url) in todos.items():
        if key in ("to_ship", "refunds", "low_stock"):
            assert _listing_rows(owner, url) == count, key
    # The unfiltered lists hold more rows than the to-dos count.
    assert _listing_rows(owner, "/console/refunds/") == 3
    assert _listing_rows(owner, "/console/catalog/products/") == 5

    # Customer service has no product screens: the low-stock to-do (and the store set-up) is not a link.
    service = login(merchant_users["customer_service"], tenant_a.schema_name)
    html = service.get("/console/", HTTP_HOST="alpha.localhost").content.decode()
    service_todos = _todo_links(html)
    assert service_todos["low_stock"] == (2, None)
    assert service_todos["qualifications"][1] is None
    assert service_todos["refunds"] == todos["refunds"]
    assert 'data-figure="onboarding">' in html and 'data-figure="onboarding"><a' not in html
    for key, (_count, url) in service_todos.items():
        if url:
            assert service.get(url, HTTP_HOST="alpha.localhost").status_code == 200, key
