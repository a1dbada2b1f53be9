from django.test import Client
from django_tenants.utils import schema_context

from mall.catalog.actions import create_product
from mall.catalog.models import Product


def test_the_shared_api_host_needs_a_bound_appid(db):
    client = Client()
    missing = client.get("/api/v1/products", HTTP_HOST="api.localhost")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "tenant_not_found"
    assert "X-WX-AppID" in missing.json()["error"]["message"]
    unknown = client.get("/api/v1/products", HTTP_HOST="api.localhost", HTTP_X_WX_APPID="wx0000000000000000")
    assert unknown.status_code == 404
    not_api = client.get("/console/", HTTP_HOST="api.localhost", HTTP_X_WX_APPID="wx0000000000000000")
    assert not_api.status_code == 404


def test_product_list_and_detail(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        p = create_product(title="蒙自石榴", price_fen=5990, stock=3, is_hot=True)
        create_product(title="下架商品", price_fen=100, on_shelf=False)
    client = Client()
    listing = client.get("/api/v1/products", HTTP_HOST="api.localhost", HTTP_X_WX_APPID=tenant_a.wechat_appid).json()
    titles = [r["title"] for r in listing["results"]]
    assert "蒙自石榴" in titles and "下架商品" not in titles
    detail = client.get(f"/api/v1/products/{p.pk}", HTTP_HOST="alpha.localhost").json()
    assert detail["price_fen"] == 5990
    assert detail["price_display"] == "¥59.90"
    missing = client.get("/api/v1/products/999999", HTTP_HOST="alpha.localhost")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_openapi_schema_lists_only_the_public_api(tenant_a, db):
    schema = Client().get("/api/schema/?format=json", HTTP_HOST="alpha.localhost")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/products" in paths
    assert all(p.startswith("/api/") for p in paths)


def test_the_fast_product_payload_matches_the_documented_serializer(tenant_a, db):
    from mall.api.serializers import ProductSerializer, product_payload
    from mall.catalog.models import Category

    with schema_context(tenant_a.schema_name):
        cat = Category.objects.create(name="时令水果")
        for p in (
            create_product(title="带分类", price_fen=123456, stock=1, category=cat, is_hot=True),
            create_product(title="无分类", price_fen=1, stock=0, kind="service", subtitle="卖点"),
        ):
            p = Product.objects.select_related("category").get(pk=p.pk)
            assert product_payload(p) == dict(ProductSerializer(p).data)
