"""``POST /api/v1/orders/<order_no>/pay`` without WeChat: who may pay which order, bad input,
and a WeChat Pay that cannot be reached (the emulator path is in
tests/integrations/wechat/test_payment_flow.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from mall.api.auth import issue_token
from mall.orders.actions import cancel_order, place_order
from mall.orders.models import Order
from tests.factories import CustomerFactory, ProductFactory, buyer, home, pay


def api(tenant, token: str | None):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def post(order_no: str, data=None, **extra):
        return client.post(
            f"/api/v1/orders/{order_no}/pay",
            data=data if data is not None else {"channel": "miniprogram"},
            content_type="application/json",
            HTTP_HOST=tenant.primary_host,
            **headers,
            **extra,
        )

    return post


@pytest.fixture
def shop(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(price_fen=990, stock=50)
        who = buyer()
        order = place_order(**who, items=[(product.pk, 1)])
        token = issue_token(who["customer"])
        stranger = issue_token(CustomerFactory())
    return {"order": order, "token": token, "stranger": stranger, "product": product, "customer": who["customer"]}


def test_paying_needs_a_logged_in_shopper(tenant_a, shop):
    answer = api(tenant_a, None)(shop["order"].order_no)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"


def test_only_the_orders_own_shopper_may_pay_it(tenant_a, shop):
    for order_no in (shop["order"].order_no, "2099010100000000000001"):
        answer = api(tenant_a, shop["stranger"])(order_no)
        assert answer.status_code == 404, answer.content
        assert answer.json()["error"]["code"] == "not_found"


def test_an_order_of_store_a_is_not_found_in_store_b(tenant_a, tenant_b, shop):
    with schema_context(tenant_b.schema_name):
        token_b = issue_token(CustomerFactory())
    answer = api(tenant_b, token_b)(shop["order"].order_no)
    assert answer.status_code == 404
    # store A's token means nothing in store B either
    assert api(tenant_b, shop["token"])(shop["order"].order_no).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{}, {"channel": "alipay"}, {"channel": ""}, {"channel": None}, {"channel": ["h5"]}, {"channel": 1}],
)
def test_a_bad_channel_is_a_400_with_a_chinese_field_error(tenant_a, shop, body):
    answer = api(tenant_a, shop["token"])(shop["order"].order_no, body)
    assert answer.status_code == 400, answer.content
    error = answer.json()["error"]
    assert error["code"] == "invalid" and "channel" in error["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["fields"]["channel"][0])


def test_a_paid_or_cancelled_order_cannot_be_paid_again(tenant_a, shop):
    post = api(tenant_a, shop["token"])
    with schema_context(tenant_a.schema_name):
        pay(shop["order"])
        other = place_order(customer=shop["customer"], address=home(shop["customer"]), items=[(shop["product"].pk, 1)])
    paid = post(shop["order"].order_no)
    assert paid.status_code == 400
    assert "不能支付" in paid.json()["error"]["fields"]["status"][0]
    with schema_context(tenant_a.schema_name):
        cancel_order(order=other, reason="不要了")
    cancelled = post(other.order_no, {"channel": "h5"})
    assert cancelled.status_code == 400 and "已取消" in cancelled.json()["error"]["fields"]["status"][0]


def test_an_expired_order_cannot_be_paid(tenant_a, shop):
    with schema_context(tenant_a.schema_name):
        Order.objects.filter(pk=shop["order"].pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = api(tenant_a, shop["token"])(shop["order"].order_no)
    assert answer.status_code == 400
    assert "超时" in answer.json()["error"]["fields"]["status"][0]


def test_wechat_pay_not_reachable_is_a_503_in_the_one_error_shape(tenant_a, shop, settings):
    settings.WECHAT_PAY_MCHID = ""  # not configured: the same answer as WeChat being down
    for channel in ("miniprogram", "h5"):
        answer = api(tenant_a, shop["token"])(shop["order"].order_no, {"channel": channel})
        assert answer.status_code == 503, answer.content
        error = answer.json()["error"]
        assert error["code"] == "wechat_unavailable" and "微信支付暂不可用" in error["message"]
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=shop["order"].pk).status == "pending_payment"


def test_the_pay_endpoint_is_in_the_schema(tenant_a, db):
    paths = Client().get("/api/schema/?format=json", HTTP_HOST=tenant_a.primary_host).json()["paths"]
    operation = paths["/api/v1/orders/{order_no}/pay"]["post"]
    assert {"200", "400", "401", "404", "503"} <= set(operation["responses"])
