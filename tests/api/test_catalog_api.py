"""Storefront catalog API: categories, product list (search, category with children, sorts),
detail with SKUs, e-contract preview and acceptance, errors, isolation, the per-tenant cache
and query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from mall.api.auth import issue_token
from mall.catalog import actions
from mall.catalog.models import ContractAcceptance, Product
from tests.factories import CustomerFactory, ProductFactory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def api(tenant_a):
    client = Client()

    def call(method, path, host=None, **kwargs):
        connection.set_schema_to_public()
        response = getattr(client, method)(
            f"/api/v1/{path}", HTTP_HOST=host or tenant_a.primary_host, content_type="application/json", **kwargs
        )
        connection.set_schema_to_public()
        return response

    return call


@pytest.fixture
def shelf(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        fruit = actions.create_category(name="水果")
        citrus = actions.create_category(name="柑橘", parent=fruit)
        tea = actions.create_category(name="茶叶", sort_order=1)
        ids = {
            "fruit": fruit.pk,
            "citrus": citrus.pk,
            "tea": tea.pk,
            "apple": actions.create_product(category=fruit, title="阿克苏苹果", price_fen=3990, stock=10).pk,
            "orange": actions.create_product(
                category=citrus,
                title="赣南脐橙",
                subtitle="现摘现发",
                skus=[
                    {"name": "5斤装", "price_fen": 2990, "stock": 5, "code": "QC-5"},
                    {"name": "10斤装", "price_fen": 4990, "stock": 7, "code": "QC-10"},
                ],
            ).pk,
            "tea_p": actions.create_product(category=tea, title="西湖龙井", price_fen=19900, stock=3).pk,
            "off": actions.create_product(category=fruit, title="下架橙子", price_fen=100, on_shelf=False).pk,
        }
        Product.objects.filter(pk=ids["tea_p"]).update(sales_count=50)
        Product.objects.filter(pk=ids["apple"]).update(sales_count=5)
        actions.catalog_changed()
    return ids


def titles(resp):
    assert resp.status_code == 200, resp.content
    return [r["title"] for r in resp.json()["results"]]


def test_the_category_tree_has_two_levels(api, shelf):
    tree = api("get", "categories").json()
    fruit = next(c for c in tree if c["id"] == shelf["fruit"])
    assert fruit["children"] == [{"id": shelf["citrus"], "name": "柑橘"}]
    assert shelf["citrus"] not in [c["id"] for c in tree]


def test_search_category_with_children_and_sorts(api, shelf):
    assert titles(api("get", "products?search=脐橙")) == ["赣南脐橙"]
    assert titles(api("get", "products?search=现摘")) == ["赣南脐橙"]  # the subtitle too
    assert set(titles(api("get", f"products?category={shelf['fruit']}"))) == {"阿克苏苹果", "赣南脐橙"}
    assert titles(api("get", f"products?category={shelf['citrus']}")) == ["赣南脐橙"]
    assert titles(api("get", "products?sort=price")) == ["赣南脐橙", "阿克苏苹果", "西湖龙井"]
    assert titles(api("get", "products?sort=-price")) == ["西湖龙井", "阿克苏苹果", "赣南脐橙"]
    assert titles(api("get", "products?sort=-sales"))[:2] == ["西湖龙井", "阿克苏苹果"]
    assert titles(api("get", "products?sort=new"))[0] == "西湖龙井"
    page = api("get", "products?sort=price&limit=1&offset=1").json()
    assert page["count"] == 3 and [r["title"] for r in page["results"]] == ["阿克苏苹果"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=cheap", "sort"),
        ("category=abc", "category"),
        ("category=-1", "category"),
        ("search=" + "长" * 51, "search"),
        ("limit=0", "limit"),
    ],
)
def test_bad_list_parameters_are_chinese_field_errors(api, shelf, query, field):
    resp = api("get", f"products?{query}")
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "invalid" and field in err["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["fields"][field][0])


def test_product_detail_has_skus_attributes_and_the_old_fields(api, shelf):
    body = api("get", f"products/{shelf['orange']}").json()
    assert body["price_fen"] == 2990 and body["price_display"] == "¥29.90" and body["stock"] == 12
    assert body["category"] == "柑橘" and body["category_id"] == shelf["citrus"]
    assert [(s["name"], s["price_fen"], s["stock"], s["is_active"], s["code"]) for s in body["skus"]] == [
        ("5斤装", 2990, 5, True, "QC-5"),
        ("10斤装", 4990, 7, True, "QC-10"),
    ]
    assert body["free_shipping"] is True and body["contract"] is None and body["images"] == []
    assert api("get", f"products/{shelf['off']}").status_code == 404


def test_a_service_product_shows_its_newest_contract_and_the_shopper_accepts_it(api, shelf, tenant_a):
    with schema_context(tenant_a.schema_name):
        trip = actions.create_product(
            kind="service",
            title="千岛湖一日游",
            skus=[{"name": "成人", "price_fen": 19900, "stock": 20}, {"name": "儿童", "price_fen": 9900, "stock": 20}],
        )
        for title in ("旅游合同", "旅游合同（修订）"):
            actions.upload_contract(product=trip, title=title, upload=SimpleUploadedFile("c.pdf", PDF))
        shopper = CustomerFactory()
        auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(shopper)}"}
    detail = api("get", f"products/{trip.pk}").json()
    assert detail["contract"]["version"] == 2 and detail["contract"]["url"]
    preview = api("get", f"products/{trip.pk}/contract").json()
    assert preview["version"] == 2 and preview["title"] == "旅游合同（修订）"
    assert api("get", f"products/{shelf['apple']}/contract").status_code == 404

    assert api("post", f"products/{trip.pk}/contract/accept", data={"version": 2}).status_code == 401
    stale = api("post", f"products/{trip.pk}/contract/accept", data={"version": 1}, **auth)
    assert stale.status_code == 400 and "第 2 版" in stale.json()["error"]["fields"]["contract"][0]
    bad = api("post", f"products/{trip.pk}/contract/accept", data={"version": "x"}, **auth)
    assert bad.status_code == 400 and "version" in bad.json()["error"]["fields"]
    first = api("post", f"products/{trip.pk}/contract/accept", data={"version": 2}, **auth)
    again = api("post", f"products/{trip.pk}/contract/accept", data={"version": 2}, **auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["accepted_at"] == again.json()["accepted_at"]
    with schema_context(tenant_a.schema_name):
        (row,) = ContractAcceptance.objects.filter(customer=shopper)
        assert row.contract.version == 2 and row.ip == "127.0.0.1"


def test_tenant_a_ids_are_404_under_tenant_b(api, shelf, tenant_b, tenant_a):
    with schema_context(tenant_a.schema_name):
        trip = ProductFactory(kind="service")
        actions.upload_contract(product=trip, title="合同", upload=SimpleUploadedFile("c.pdf", PDF))
    with schema_context(tenant_b.schema_name):
        token = issue_token(CustomerFactory())
    b = tenant_b.primary_host
    assert api("get", f"products/{trip.pk}", host=b).status_code == 404
    assert api("get", f"products/{shelf['orange']}", host=b).status_code == 404
    assert api("get", f"products/{trip.pk}/contract", host=b).status_code == 404
    resp = api(
        "post", f"products/{trip.pk}/contract/accept", host=b, data={"version": 1}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert resp.status_code == 404
    assert shelf["fruit"] not in [c["id"] for c in api("get", "categories", host=b).json()]
    assert "赣南脐橙" not in titles(api("get", f"products?category={shelf['fruit']}", host=b))


def test_cached_reads_are_per_tenant_and_an_edit_shows_at_once(api, tenant_a, tenant_b, db):
    with schema_context(tenant_a.schema_name):
        a = actions.create_product(title="甲店商品", price_fen=1000, stock=5)
    with schema_context(tenant_b.schema_name):
        b = actions.create_product(title="乙店商品", price_fen=2000, stock=5)
    assert api("get", f"products/{a.pk}").json()["title"] == "甲店商品"  # cached for tenant A
    api("get", f"products/{a.pk}")
    # the same id under tenant B: B's own row or a 404, never A's cached body
    under_b = api("get", f"products/{a.pk}", host=tenant_b.primary_host)
    assert under_b.status_code == 404 or under_b.json()["title"] != "甲店商品"
    assert api("get", f"products/{b.pk}", host=tenant_b.primary_host).json()["title"] == "乙店商品"
    assert "甲店商品" in titles(api("get", "products"))
    assert "甲店商品" not in titles(api("get", "products", host=tenant_b.primary_host))

    with schema_context(tenant_a.schema_name):
        actions.batch_edit_products(
            product_ids=[a.pk],
            price_percent="10",
            on_shelf=None,
            actor=type("A", (), {"has_perm": lambda s, p: True})(),
        )
    assert api("get", f"products/{a.pk}").json()["price_fen"] == 1100  # the edit shows at once
    assert next(r for r in api("get", "products").json()["results"] if r["id"] == a.pk)["price_fen"] == 1100
    with schema_context(tenant_a.schema_name):
        actions.create_category(name="新分类")
    assert "新分类" in [c["name"] for c in api("get", "categories").json()]


def test_cached_detail_keys_start_with_the_tenant_schema(api, tenant_a, settings, db):
    import redis

    from mall.catalog import storefront_cache

    with schema_context(tenant_a.schema_name):
        p = actions.create_product(title="缓存商品", price_fen=1000, stock=5)
    api("get", f"products/{p.pk}")
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    keys = [k.decode() for k in client.scan_iter(match=f"*{storefront_cache.key(f'product:{p.pk}')}", count=500)]
    client.close()
    assert keys == [f"{tenant_a.schema_name}::1:{storefront_cache.key(f'product:{p.pk}')}"]


def test_an_order_changes_the_stock_shown_after_commit(api, tenant_a, db, django_capture_on_commit_callbacks):
    from mall.orders.actions import place_order
    from tests.factories import buyer

    with schema_context(tenant_a.schema_name):
        p = actions.create_product(title="限量", price_fen=1000, stock=5)
    assert api("get", f"products/{p.pk}").json()["stock"] == 5
    with schema_context(tenant_a.schema_name), django_capture_on_commit_callbacks(execute=True):
        place_order(**buyer(), items=[(p.pk, 2)])
    assert api("get", f"products/{p.pk}").json()["stock"] == 3


# -- query counts (no N+1): 1 row and 20 rows give the same count --------------------------------


@pytest.fixture
def counted(tenant_a, db, settings):
    from tenants.selectors import forget_cached_tenants

    settings.TENANT_CACHE_SECONDS = 0
    forget_cached_tenants()
    client = Client()

    def call(path):
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(f"/api/v1/{path}", HTTP_HOST=tenant_a.primary_host)
        connection.set_schema_to_public()
        assert resp.status_code == 200, resp.content
        return len(ctx.captured_queries)

    return call


def test_category_tree_and_filtered_list_run_fixed_statements(counted, tenant_a):
    with schema_context(tenant_a.schema_name):
        top = actions.create_category(name="顶级")
        ProductFactory(category=top)
    one_tree = counted("categories")
    one_list = counted(f"products?category={top.pk}&sort=-sales&search=测试")
    with schema_context(tenant_a.schema_name):
        for i in range(19):
            sub = actions.create_category(name=f"子{i}", parent=top)
            ProductFactory(
                category=sub,
                skus=[{"name": "a", "price_fen": 100, "stock": 1}, {"name": "b", "price_fen": 200, "stock": 1}],
            )
    assert counted("categories") == one_tree <= 4
    assert counted(f"products?category={top.pk}&sort=-sales&search=测试") == one_list <= 6
    assert counted(f"products?category={top.pk}&sort=-sales&search=测试") <= 3  # then from the cache


def test_service_detail_runs_fixed_statements(counted, tenant_a):
    with schema_context(tenant_a.schema_name):
        few = ProductFactory(kind="service")
        many = ProductFactory(
            kind="service", skus=[{"name": f"票{i}", "price_fen": 100 + i, "stock": 1} for i in range(20)]
        )
        for p in (few, many):
            actions.upload_contract(product=p, title="合同", upload=SimpleUploadedFile("c.pdf", PDF))
    assert counted(f"products/{few.pk}") == counted(f"products/{many.pk}") <= 7
