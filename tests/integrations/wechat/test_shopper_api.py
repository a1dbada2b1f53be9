"""The mini-program's own path: wx.login code → our session → place an order; a suspended
store refuses it. The real SDK exchanges the code with the WeChat emulator."""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from mall.catalog.actions import create_product
from mall.catalog.models import Product
from mall.orders.models import Order
from saas_platform.accounts.actions import create_platform_user
from saas_platform.review.actions import reinstate_tenant, suspend_tenant
from tenants.models import Tenant
from tests.integrations.wechat.test_open_platform import bound_appid  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


def _api(appid):
    client = Client()
    return lambda method, path, **kw: getattr(client, method)(
        f"/api/v1/{path}", HTTP_HOST="api.localhost", HTTP_X_WX_APPID=appid, content_type="application/json", **kw
    )


def test_shopper_logs_in_orders_and_a_suspended_store_refuses_orders(emulator, bound_appid, wx_tenant, committed):  # noqa: F811
    api = _api(bound_appid)
    with schema_context(wx_tenant.schema_name):
        product = create_product(title="接口测试石榴", price_fen=2990, stock=5)
    code = emulator.api("login-code", appid=bound_appid, openid="o-api-shopper-1")["code"]
    login = api("post", "auth/login", data={"code": code})
    assert login.status_code == 200, login.content
    token = login.json()["token"]
    again = api("post", "auth/login", data={"code": code})  # a code is good once
    assert again.status_code == 400 and "code" in again.json()["error"]["fields"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    address = {
        "receiver": "王小明",
        "phone": "13900001234",
        "province": "云南省",
        "city": "昆明市",
        "district": "五华区",
        "detail": "青年路 100 号 2 单元 501",
    }
    assert api("post", "addresses", data=address, **auth).status_code == 201  # goods ship to it

    assert api("post", "orders", data={"items": [{"product_id": product.pk, "quantity": 2}]}).status_code in (401, 403)
    placed = api("post", "orders", data={"items": [{"product_id": product.pk, "quantity": 2}]}, **auth)
    assert placed.status_code == 201, placed.content
    assert placed.json()["total_fen"] == 5980 and placed.json()["total_display"] == "¥59.80"
    bad = api("post", "orders", data={"items": [{"product_id": product.pk, "quantity": 99}]}, **auth)
    assert bad.status_code == 400 and "库存不足" in bad.json()["error"]["fields"]["items"][0]
    mine = api("get", "orders", **auth).json()
    assert [o["order_no"] for o in mine] == [placed.json()["order_no"]]

    # A token of this store means nothing to another store.
    other = Client().get("/api/v1/orders", HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert other.status_code in (401, 403)

    from django.db import connection

    connection.set_schema_to_public()
    staff = create_platform_user(username="api-staff", password="Staff-Pass-2026", is_staff=True)
    tenant = Tenant.objects.get(pk=wx_tenant.pk)
    suspend_tenant(tenant=tenant, actor=staff, reason="投诉待核实")
    try:
        refused = api("post", "orders", data={"items": [{"product_id": product.pk, "quantity": 1}]}, **auth)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "store_closed"
        with schema_context(wx_tenant.schema_name):
            assert Order.objects.filter(customer__openid="o-api-shopper-1").count() == 1
            assert Product.objects.get(pk=product.pk).stock == 3
    finally:
        connection.set_schema_to_public()
        reinstate_tenant(tenant=Tenant.objects.get(pk=wx_tenant.pk), actor=staff, reason="核实无误")
