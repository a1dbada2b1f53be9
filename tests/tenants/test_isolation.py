"""Isolation from day one: two tenants with rows of the same ids never see each other's
rows through requests, ORM code in a task, cache keys or stored files. Later capabilities
extend this file with their own models and endpoints."""

import json

import pytest
from django.core.cache import cache
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from core.storage import default_storage
from mall.catalog.actions import create_product
from mall.catalog.models import Product
from mall.orders.models import Order


def _same_id_products(tenant_a, tenant_b):
    """Give both tenants a product with the same primary key and different titles."""
    ids = []
    for tenant, title in ((tenant_a, "甲店·石榴"), (tenant_b, "乙店·门票")):
        with schema_context(tenant.schema_name):
            _drop_product(424242)
            create_product(pk=424242, title=title, price_fen=100, stock=1)
            ids.append(424242)
    return ids


@pytest.fixture
def twin_products(tenant_a, tenant_b, committed):
    _same_id_products(tenant_a, tenant_b)
    yield 424242
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            _drop_product(424242)


def _drop_product(pk):
    from mall.payments.models import Payment, Refund

    orders = Order.objects.filter(lines__product_id=pk)
    Refund.objects.filter(order__in=orders).delete()
    Payment.objects.filter(order__in=orders).delete()  # paid through record_payment, so it has one
    orders.delete()
    Product.objects.filter(pk=pk).delete()


def test_requests_by_host_see_only_their_tenant(twin_products, tenant_a, tenant_b):
    client = Client()
    a = client.get(f"/api/v1/products/{twin_products}", HTTP_HOST="alpha.localhost")
    b = client.get(f"/api/v1/products/{twin_products}", HTTP_HOST="bravo.localhost")
    assert a.status_code == b.status_code == 200
    assert a.json()["title"] == "甲店·石榴"
    assert b.json()["title"] == "乙店·门票"


def test_requests_by_appid_on_the_shared_api_host_see_only_their_tenant(twin_products, tenant_a, tenant_b):
    client = Client()
    a = client.get(
        f"/api/v1/products/{twin_products}", HTTP_HOST="api.localhost", HTTP_X_WX_APPID=tenant_a.wechat_appid
    )
    b = client.get(
        f"/api/v1/products/{twin_products}", HTTP_HOST="api.localhost", HTTP_X_WX_APPID=tenant_b.wechat_appid
    )
    assert a.json()["title"] == "甲店·石榴"
    assert b.json()["title"] == "乙店·门票"


def test_an_appid_cannot_reach_another_tenant_through_its_host(twin_products, tenant_a, tenant_b):
    response = Client().get(
        f"/api/v1/products/{twin_products}", HTTP_HOST="alpha.localhost", HTTP_X_WX_APPID=tenant_b.wechat_appid
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tenant_not_found"


def test_orm_in_a_task_runs_in_the_tenant_it_was_sent_from(twin_products, tenant_a, tenant_b, live_stack, committed):
    """A real Celery worker: the outbox handler bumps the sales count of product 424242 in
    tenant A's schema only."""
    import time

    from mall.customers.models import Customer
    from mall.orders.actions import place_order
    from tests.factories import home, pay

    with schema_context(tenant_a.schema_name):
        customer = Customer.objects.create(openid=f"iso-{time.time_ns()}", nickname="隔离测试")
        order = place_order(customer=customer, address=home(customer), items=[(twin_products, 1)])
        pay(order)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with schema_context(tenant_a.schema_name):
            if Product.objects.get(pk=twin_products).sales_count == 1:
                break
        time.sleep(0.2)
    with schema_context(tenant_a.schema_name):
        assert Product.objects.get(pk=twin_products).sales_count == 1
    with schema_context(tenant_b.schema_name):
        assert Product.objects.get(pk=twin_products).sales_count == 0


def test_cache_keys_are_per_tenant(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        cache.set("store:banner", "甲", 30)
    with schema_context(tenant_b.schema_name):
        assert cache.get("store:banner") is None
        cache.set("store:banner", "乙", 30)
    with schema_context(tenant_a.schema_name):
        assert cache.get("store:banner") == "甲"
        cache.delete("store:banner")
    with schema_context(tenant_b.schema_name):
        assert cache.get("store:banner") == "乙"
        cache.delete("store:banner")


def test_stored_files_are_per_tenant_and_served_only_to_their_tenant(tenant_a, tenant_b, committed):
    with schema_context(tenant_a.schema_name):
        name = default_storage().save("docs/licence.txt", ContentFile("甲店营业执照".encode()))
        link_a = default_storage().url(name)
    with schema_context(tenant_b.schema_name):
        assert not default_storage().exists(name)
        default_storage().save(name, ContentFile("乙店".encode()))
    client = Client()
    own = client.get(link_a, HTTP_HOST="alpha.localhost")
    assert own.status_code == 200
    assert b"".join(own.streaming_content).decode() == "甲店营业执照"
    # The same signed link presented on tenant B's host is refused.
    assert client.get(link_a, HTTP_HOST="bravo.localhost").status_code == 404
    # A path that tries to climb out of the tenant's folder is refused.
    with schema_context(tenant_b.schema_name):
        with pytest.raises(SuspiciousFileOperation):
            default_storage().open(f"../{tenant_a.schema_name}/{name}")
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            default_storage().delete(name)
    connection.set_schema_to_public()


def test_public_schema_data_is_never_shown_for_an_unknown_host(db):
    response = Client().get("/api/v1/products", HTTP_HOST="nosuchshop.localhost")
    assert response.status_code == 404
    assert json.loads(response.content)["error"]["code"] == "tenant_not_found"
    html = Client().get("/", HTTP_HOST="nosuchshop.localhost")
    assert html.status_code == 404
    assert "店铺不存在" in html.content.decode()
