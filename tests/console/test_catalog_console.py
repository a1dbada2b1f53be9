"""Merchant console: products with SKUs through Wagtail's form, the batch edit, categories as a
tree of two levels, and e-contract uploads."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from mall.catalog.models import Category, Product, ProductContract, ProductSku
from tests.console.conftest import PDF, login
from tests.factories import CategoryFactory, ProductFactory


def product_form(**overrides):
    skus = overrides.pop("skus", [])
    data = {
        "kind": "physical",
        "category": "",
        "title": "赣南脐橙",
        "subtitle": "现摘现发",
        "description": rich_text("<p>甜</p>"),
        "on_shelf": "on",
        "low_stock_threshold": "10",
        "skus": inline_formset(skus),
        "images": inline_formset([]),
        "weight_g": "2500",
        "origin": "江西赣州",
        "shelf_life_days": "15",
        "shipping_template": "",
        "travel_date": "",
        "travel_end_date": "",
        "restrictions": "",
        "is_distributable": "on",
        "commission_l1_bps": "10%",
        "commission_l2_bps": "5.5%",
        **overrides,
    }
    return nested_form_data(data)


def test_operations_creates_a_product_with_two_skus_and_price_and_stock_are_derived(tenant_a, merchant_users):
    client = login(merchant_users["operations"], tenant_a.schema_name)
    host = tenant_a.primary_host
    data = product_form(
        skus=[
            {
                "name": "5斤装",
                "code": "",
                "price_fen": "29.90",
                "original_price_fen": "",
                "stock": "5",
                "is_active": "on",
            },
            {
                "name": "10斤装",
                "code": "QC10",
                "price_fen": "49.90",
                "original_price_fen": "59.90",
                "stock": "7",
                "is_active": "on",
            },
        ]
    )
    resp = client.post("/console/catalog/products/new/", data, HTTP_HOST=host)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    with schema_context(tenant_a.schema_name):
        product = Product.objects.get(title="赣南脐橙")
        assert (product.price_fen, product.stock) == (2990, 12)
        assert (product.commission_l1_bps, product.commission_l2_bps) == (1000, 550)
        skus = list(
            ProductSku.objects.filter(product=product).values_list("name", "price_fen", "original_price_fen", "stock")
        )
        assert skus == [("5斤装", 2990, None, 5), ("10斤装", 4990, 5990, 7)]
    listing = client.get("/console/catalog/products/", HTTP_HOST=host)
    assert listing.status_code == 200 and "¥29.90" in listing.content.decode()


def test_a_product_without_any_sku_is_refused_with_a_chinese_error(tenant_a, merchant_users):
    client = login(merchant_users["operations"], tenant_a.schema_name)
    resp = client.post("/console/catalog/products/new/", product_form(title="无规格"), HTTP_HOST=tenant_a.primary_host)
    assert resp.status_code == 200
    assert "请至少添加一个规格" in resp.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not Product.objects.filter(title="无规格").exists()


def test_the_batch_edit_form_calls_the_action_exactly_in_fen(tenant_a, merchant_users):
    host = tenant_a.primary_host
    with schema_context(tenant_a.schema_name):
        a = ProductFactory(price_fen=999)
        b = ProductFactory(price_fen=1990)
        target = CategoryFactory()
    ops = login(merchant_users["operations"], tenant_a.schema_name)
    page = ops.get(f"/console/catalog/products/batch/?id={a.pk}&id={b.pk}", HTTP_HOST=host)
    assert page.status_code == 200 and "批量修改" in page.content.decode()
    bad = ops.post("/console/catalog/products/batch/", {"products": [a.pk], "price_percent": "1.234"}, HTTP_HOST=host)
    assert bad.status_code == 400 and "两位小数" in bad.content.decode()
    done = ops.post(
        "/console/catalog/products/batch/",
        {"products": [a.pk, b.pk], "price_percent": "-12.5", "on_shelf": "off", "category": target.pk},
        HTTP_HOST=host,
    )
    assert done.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert dict(Product.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "price_fen")) == {
            a.pk: 874,
            b.pk: 1741,
        }
        assert set(Product.objects.filter(pk__in=[a.pk, b.pk]).values_list("on_shelf", "category_id")) == {
            (False, target.pk)
        }
    # customer service has no catalog permissions: refused, nothing changes
    cs = login(merchant_users["customer_service"], tenant_a.schema_name, raise_errors=False)
    refused = cs.post("/console/catalog/products/batch/", {"products": [a.pk], "on_shelf": "on"}, HTTP_HOST=host)
    assert refused.status_code in (302, 403)
    with schema_context(tenant_a.schema_name):
        assert not Product.objects.get(pk=a.pk).on_shelf


def test_categories_are_two_levels_and_the_list_shows_the_tree(tenant_a, merchant_users):
    host = tenant_a.primary_host
    client = login(merchant_users["operations"], tenant_a.schema_name)
    with schema_context(tenant_a.schema_name):
        top = Category.objects.create(name="水果")
        sub = Category.objects.create(name="柑橘", parent=top)
    third = client.post(
        "/console/catalog/categories/new/", {"parent": sub.pk, "name": "砂糖橘", "sort_order": "0"}, HTTP_HOST=host
    )
    assert third.status_code == 200  # refused: only top categories can be a parent
    with schema_context(tenant_a.schema_name):
        assert not Category.objects.filter(name="砂糖橘").exists()
    ok = client.post(
        "/console/catalog/categories/new/", {"parent": top.pk, "name": "苹果", "sort_order": "1"}, HTTP_HOST=host
    )
    assert ok.status_code == 302
    page = client.get("/console/catalog/categories/", HTTP_HOST=host).content.decode()
    assert page.index("水果") < page.index("└ 柑橘") and page.index("水果") < page.index("└ 苹果")


def test_uploading_a_contract_makes_a_new_version(tenant_a, merchant_users):
    host = tenant_a.primary_host
    client = login(merchant_users["operations"], tenant_a.schema_name)
    with schema_context(tenant_a.schema_name):
        trip = ProductFactory(kind="service")
    for expected in (1, 2):
        resp = client.post(
            "/console/catalog/contracts/new/",
            {
                "product": trip.pk,
                "title": "旅游合同",
                "file": SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf"),
            },
            HTTP_HOST=host,
        )
        assert resp.status_code == 302, resp.content.decode()[:2000]
        with schema_context(tenant_a.schema_name):
            assert ProductContract.objects.filter(product=trip).order_by("-version").first().version == expected
    fake = client.post(
        "/console/catalog/contracts/new/",
        {
            "product": trip.pk,
            "title": "假合同",
            "file": SimpleUploadedFile("c.pdf", b"not a pdf", content_type="application/pdf"),
        },
        HTTP_HOST=host,
    )
    assert fake.status_code == 200 and "只支持 PDF" in fake.content.decode()


def test_the_product_list_alerts_low_stock(tenant_a, merchant_users):
    with schema_context(tenant_a.schema_name):
        ProductFactory(stock=2)
    client = login(merchant_users["operations"], tenant_a.schema_name)
    page = client.get("/console/catalog/products/", HTTP_HOST=tenant_a.primary_host).content.decode()
    assert "data-low-stock-alert" in page and "?low_stock=true" in page
