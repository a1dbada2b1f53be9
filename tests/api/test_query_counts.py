"""Query counts of the storefront API (/api/v1): each endpoint runs a fixed number of statements,
whatever the number of rows it serves (1 row and 20 rows give the same count: no N+1), and that
number stays under the bound written here. A new per-row query fails these tests.

Host → tenant resolution is not cached (TENANT_CACHE_SECONDS=0), so every request counts its
lookup and the figures do not depend on when the process last resolved the host."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from mall.api.auth import issue_token
from mall.orders.actions import place_order
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, home

# Statements per request, resolution and SET search_path included (measured, then written down).
# The order's save also keeps Wagtail's reference index (6 of the 19 statements of placing one),
# and placing writes the order's first timeline event (OrderEvent "placed").
BOUNDS = {
    "products": 5,  # resolution (2), SET search_path, COUNT, the page with categories joined
    "product": 6,  # + the SKUs and the images (two prefetches); a service product adds its contract
    "store": 2,  # resolution only: the tenant row answers it
    "orders_list": 6,  # + the shopper, the orders, their lines (one prefetch)
    "orders_create": 19,
}


@pytest.fixture
def api(tenant_a, db, settings):
    from tenants.selectors import forget_cached_tenants

    settings.TENANT_CACHE_SECONDS = 0
    forget_cached_tenants()  # entries kept by earlier tests (5 s) would hide the lookup from some requests
    client = Client()

    def call(method: str, path: str, **kwargs):
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as ctx:
            response = getattr(client, method)(
                f"/api/v1/{path}", HTTP_HOST=tenant_a.primary_host, content_type="application/json", **kwargs
            )
        connection.set_schema_to_public()
        return response, [q["sql"] for q in ctx.captured_queries]

    return call


def _products(tenant, n: int) -> list[int]:
    with schema_context(tenant.schema_name):
        return [ProductFactory(category=CategoryFactory(), stock=1000).pk for _ in range(n)]


def _assert_flat(name: str, one: list[str], many: list[str]) -> None:
    assert len(one) == len(many), f"{name}: {len(one)} statements for 1 row, {len(many)} for 20:\n" + "\n".join(many)
    assert len(many) <= BOUNDS[name], f"{name}: {len(many)} statements (bound {BOUNDS[name]}):\n" + "\n".join(many)


def test_the_product_list_runs_the_same_statements_for_1_and_20_products(api, tenant_a):
    _products(tenant_a, 1)
    first, one = api("get", "products")
    _products(tenant_a, 19)
    second, many = api("get", "products")
    assert first.status_code == second.status_code == 200
    assert len(second.json()["results"]) >= 20 or second.json()["next"]
    _assert_flat("products", one, many)


def test_product_detail_runs_a_fixed_number_of_statements(api, tenant_a):
    (lone,) = _products(tenant_a, 1)
    first, one = api("get", f"products/{lone}")
    last = _products(tenant_a, 20)[-1]
    second, many = api("get", f"products/{last}")
    assert first.status_code == second.status_code == 200
    _assert_flat("product", one, many)


def test_store_info_runs_a_fixed_number_of_statements(api, tenant_a):
    _products(tenant_a, 1)
    first, one = api("get", "store")
    _products(tenant_a, 20)
    second, many = api("get", "store")
    assert first.status_code == second.status_code == 200
    _assert_flat("store", one, many)


def test_my_orders_run_the_same_statements_for_1_and_20_orders(api, tenant_a):
    pks = _products(tenant_a, 3)
    with schema_context(tenant_a.schema_name):
        few, lots = CustomerFactory(), CustomerFactory()
        place_order(customer=few, address=home(few), items=[(pks[0], 1), (pks[1], 1)])
        for _ in range(20):
            place_order(customer=lots, address=home(lots), items=[(pks[0], 1), (pks[1], 2), (pks[2], 1)])
        few_token, lots_token = issue_token(few), issue_token(lots)
    first, one = api("get", "orders", HTTP_AUTHORIZATION=f"Bearer {few_token}")
    second, many = api("get", "orders", HTTP_AUTHORIZATION=f"Bearer {lots_token}")
    assert first.status_code == second.status_code == 200
    assert len(first.json()) == 1 and len(second.json()) == 20
    assert len(second.json()[0]["lines"]) == 3
    _assert_flat("orders_list", one, many)


def test_placing_an_order_runs_the_same_statements_for_1_and_20_lines(api, tenant_a):
    pks = _products(tenant_a, 20)
    with schema_context(tenant_a.schema_name):
        shopper = CustomerFactory()
        home(shopper)  # physical goods ship to the default address
        token = issue_token(shopper)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    api("post", "orders", data={"items": [{"product_id": pks[0], "quantity": 1}]}, **auth)  # warm-up (content types)
    first, one = api("post", "orders", data={"items": [{"product_id": pks[0], "quantity": 1}]}, **auth)
    items = [{"product_id": pk, "quantity": 2} for pk in pks]
    second, many = api("post", "orders", data={"items": items}, **auth)
    assert first.status_code == second.status_code == 201, second.content
    assert len(second.json()["lines"]) == 20
    with schema_context(tenant_a.schema_name):
        from mall.catalog.models import Product

        assert Product.objects.get(pk=pks[0]).stock == 1000 - 4  # stock taken by the three orders
        assert set(Product.objects.filter(pk__in=pks[1:]).values_list("stock", flat=True)) == {998}
    _assert_flat("orders_create", one, many)
