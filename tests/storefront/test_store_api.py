"""The storefront's server half: the store config, H5 phone login (one shopper per phone across
the mini-program and the H5), the product-list filters the blocks use, and /h5/ serving."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from builder.store_config import BLOCK_TYPES, content_hash
from mall.customers.models import Customer
from tests.factories import CustomerFactory

SMS_HANDLER = "integrations.sms.deliver_queued_sms"


@pytest.fixture(autouse=True)
def _limits():
    from tests.conftest import clear_rate_limits

    clear_rate_limits()
    yield
    clear_rate_limits()


def api(tenant, method, path, token=None, **kw):
    connection.set_schema_to_public()
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return getattr(Client(), method)(
        f"/api/v1/{path}", HTTP_HOST=tenant.primary_host, content_type="application/json", **extra, **kw
    )


def new_phone() -> str:
    return "137" + f"{uuid.uuid4().int % 10**8:08d}"


def sms_code(tenant, phone: str) -> str:
    """The code as the action queued it in the outbox (decrypted): what the SMS would carry."""
    from core import crypto
    from core.models import OutboxMessage

    with schema_context(tenant.schema_name):
        texts = [
            crypto.decrypt(m.payload["text"])
            for m in OutboxMessage.objects.filter(handler=SMS_HANDLER).order_by("pk")
            if crypto.decrypt(m.payload["phone"]) == phone
        ]
    assert texts, "no SMS queued"
    return re.search(r"验证码 (\d{6})", texts[-1]).group(1)


# -- store config -------------------------------------------------------------------------------


def test_config_compiles_the_store_with_rules_footer_and_etag(tenant_a, db):
    r = api(tenant_a, "get", "store/config")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["schema_version"] == 1 and body["version"] == 0
    assert body["hash"] == content_hash(body) and r["ETag"] == f'"{body["hash"]}"'
    assert body["store"]["slug"] == tenant_a.slug and body["theme"]["cta"].startswith("#")
    home = body["pages"]["home"]["blocks"]
    assert {b["type"] for b in home} <= set(BLOCK_TYPES)
    assert home[-1]["type"] == "rules_footer" and home[-1]["data"]["settle_days"] >= 0
    assert len({b["id"] for p in body["pages"].values() for b in p["blocks"]}) == sum(
        len(p["blocks"]) for p in body["pages"].values()
    )
    again = api(tenant_a, "get", "store/config", HTTP_IF_NONE_MATCH=r["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_config_follows_the_catalog_and_the_rules(tenant_a, db):
    from mall.catalog.models import Category
    from mall.promoters.models import DistributionSettings

    before = api(tenant_a, "get", "store/config").json()
    with schema_context(tenant_a.schema_name):
        Category.objects.create(name="新上架分类")
        from mall.catalog import storefront_cache

        storefront_cache.bump()
    after = api(tenant_a, "get", "store/config").json()
    assert after["hash"] != before["hash"]
    nav = [b for b in after["pages"]["home"]["blocks"] if b["type"] == "category_nav"]
    assert nav and "新上架分类" in [i["name"] for i in nav[0]["data"]["items"]]
    with schema_context(tenant_a.schema_name):
        ds = DistributionSettings.current()
        ds.promoter_name = "创客"
        ds.save()
    renamed = api(tenant_a, "get", "store/config").json()
    assert renamed["store"]["promoter_name"] == "创客"
    assert any(b["data"].get("promoter_name") == "创客" for b in renamed["pages"]["home"]["blocks"])


def test_configs_of_two_stores_stay_apart(tenant_a, tenant_b, db):
    a = api(tenant_a, "get", "store/config").json()
    b = api(tenant_b, "get", "store/config").json()
    assert a["store"]["slug"] == tenant_a.slug and b["store"]["slug"] == tenant_b.slug
    assert a["hash"] != b["hash"]


# -- product filters used by the blocks ---------------------------------------------------------


def test_product_list_filters_hot_and_ids_with_field_errors(tenant_a, db):
    from tests.factories import ProductFactory

    with schema_context(tenant_a.schema_name):
        hot = ProductFactory(is_hot=True, title="热卖测试品")
        cold = ProductFactory(is_hot=False, title="普通测试品")
    rows = api(tenant_a, "get", "products", data={"hot": "1", "limit": 100}).json()["results"]
    assert hot.pk in [r["id"] for r in rows] and cold.pk not in [r["id"] for r in rows]
    picked = api(tenant_a, "get", "products", data={"ids": f"{cold.pk},{hot.pk}"}).json()["results"]
    assert sorted(r["id"] for r in picked) == sorted([hot.pk, cold.pk])
    bad = api(tenant_a, "get", "products", data={"ids": "1,x", "hot": "maybe"})
    assert bad.status_code == 400
    fields = bad.json()["error"]["fields"]
    assert "ids" in fields and "hot" in fields


# -- H5 phone login -----------------------------------------------------------------------------


@override_settings(SMS_BACKEND="integrations.sms.backends.MemorySender")
def test_h5_phone_login_creates_then_finds_the_same_shopper(tenant_a, db):
    phone = new_phone()
    sent = api(tenant_a, "post", "auth/sms-code", data={"phone": phone})
    assert sent.status_code == 202, sent.content
    code = sms_code(tenant_a, phone)
    first = api(tenant_a, "post", "auth/sms-login", data={"phone": phone, "code": code})
    assert first.status_code == 200, first.content
    assert first.json()["is_new"] is True
    me = api(tenant_a, "get", "me", token=first.json()["token"]).json()
    assert me["phone"] == f"{phone[:3]}****{phone[-4:]}"
    # the code is used once
    again = api(tenant_a, "post", "auth/sms-login", data={"phone": phone, "code": code})
    assert again.status_code == 400 and "code" in again.json()["error"]["fields"]
    clear()
    api(tenant_a, "post", "auth/sms-code", data={"phone": phone})
    second = api(tenant_a, "post", "auth/sms-login", data={"phone": phone, "code": sms_code(tenant_a, phone)})
    assert second.json()["is_new"] is False and second.json()["customer_id"] == first.json()["customer_id"]


def clear():
    from tests.conftest import clear_rate_limits

    clear_rate_limits()


@override_settings(SMS_BACKEND="integrations.sms.backends.MemorySender")
def test_h5_login_errors_are_field_level_in_chinese_and_rate_limited(tenant_a, db):
    bad = api(tenant_a, "post", "auth/sms-code", data={"phone": "12345"})
    assert bad.status_code == 400 and "手机号" in bad.json()["error"]["fields"]["phone"][0]
    phone = new_phone()
    assert api(tenant_a, "post", "auth/sms-code", data={"phone": phone}).status_code == 202
    soon = api(tenant_a, "post", "auth/sms-code", data={"phone": phone})
    assert soon.status_code == 400 and "60 秒" in soon.json()["error"]["fields"]["phone"][0]
    code = sms_code(tenant_a, phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = api(tenant_a, "post", "auth/sms-login", data={"phone": phone, "code": wrong})
        assert r.status_code == 400 and "不正确" in r.json()["error"]["fields"]["code"][0]
    locked = api(tenant_a, "post", "auth/sms-login", data={"phone": phone, "code": code})
    assert locked.status_code == 400 and "错误次数过多" in locked.json()["error"]["fields"]["code"][0]
    from core import crypto

    with schema_context(tenant_a.schema_name):  # no shopper was made by the failed tries
        assert not Customer.objects.filter(phone_index=crypto.blind_index(phone)).exists()


@override_settings(SMS_BACKEND="integrations.sms.backends.MemorySender")
def test_a_code_of_one_store_does_not_log_in_at_another(tenant_a, tenant_b, db):
    phone = new_phone()
    api(tenant_a, "post", "auth/sms-code", data={"phone": phone})
    code = sms_code(tenant_a, phone)
    at_b = api(tenant_b, "post", "auth/sms-login", data={"phone": phone, "code": code})
    assert at_b.status_code == 400 and "请先获取验证码" in at_b.json()["error"]["fields"]["code"][0]


def test_mini_program_binding_the_phone_joins_the_h5_shopper(tenant_a, db):
    """One shopper per phone: an H5-only shopper is joined by the mini-program account that binds
    the same number (while that account is still empty); a number held by another WeChat account
    is refused."""
    from mall.customers.actions import bind_phone

    phone = new_phone()
    with schema_context(tenant_a.schema_name):
        h5 = Customer(openid=None, phone=phone)
        h5.save()
        wx = CustomerFactory()
        openid = wx.openid
        joined = bind_phone(customer=wx, phone=phone)
        assert joined.pk == h5.pk
        h5.refresh_from_db()
        wx.refresh_from_db()
        assert h5.openid == openid and wx.openid is None
        other = CustomerFactory()
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as err:
            bind_phone(customer=other, phone=phone)
        assert "另一个微信账号" in str(err.value)


def test_h5_only_shopper_cannot_use_mini_program_pay_and_gets_a_field_error(tenant_a, db):
    from mall.api.auth import issue_token
    from tests.factories import ProductFactory

    with schema_context(tenant_a.schema_name):
        c = Customer(openid=None, phone=new_phone())
        c.save()
        token = issue_token(c)
        p = ProductFactory(stock=5)
        from mall.customers.actions import save_address

        save_address(
            customer=c, receiver="王五", phone="13812345678", province="浙江省", city="杭州市", district="西湖区",
            detail="文三路 1 号", is_default=True,
        )  # fmt: skip
    order = api(tenant_a, "post", "orders", token=token, data={"items": [{"product_id": p.pk, "quantity": 1}]})
    assert order.status_code == 201, order.content
    pay = api(tenant_a, "post", f"orders/{order.json()['order_no']}/pay", token=token, data={"channel": "miniprogram"})
    assert pay.status_code in (400, 503)
    if pay.status_code == 400:
        assert "channel" in pay.json()["error"]["fields"]


# -- /h5/ ---------------------------------------------------------------------------------------


def test_h5_serves_the_build_with_cache_headers_and_no_escape(tenant_a, tmp_path, settings, db):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=app></div>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path.parent / "secret.txt").write_text("no", encoding="utf-8")
    settings.STOREFRONT_H5_DIR = str(tmp_path)
    c = Client()
    host = {"HTTP_HOST": tenant_a.primary_host}
    index = c.get("/h5/", **host)
    assert index.status_code == 200 and index["Cache-Control"] == "no-cache"
    asset = c.get("/h5/assets/index-abc123.js", **host)
    assert asset.status_code == 200 and "immutable" in asset["Cache-Control"]
    assert b"console.log" in b"".join(asset.streaming_content)
    route = c.get("/h5/pages/product/index", **host)  # a client route: the app
    assert route.status_code == 200 and b"id=app" in b"".join(route.streaming_content)
    assert c.get("/h5/assets/missing.js", **host).status_code == 404
    assert c.get("/h5/../secret.txt", **host).status_code == 404
    assert c.get("/h5/%2e%2e/secret.txt", **host).status_code == 404
    assert c.get("/", **host).status_code == 200  # the server-rendered list stays at /


def test_h5_not_built_says_so(tenant_a, tmp_path, settings, db):
    settings.STOREFRONT_H5_DIR = str(tmp_path / "none")
    r = Client().get("/h5/", HTTP_HOST=tenant_a.primary_host)
    assert r.status_code == 503 and "make storefront" in r.content.decode()
    assert Client().get("/", HTTP_HOST=tenant_a.primary_host).status_code == 200  # the server list


def test_ext_json_points_the_code_template_at_the_store(tenant_a, tenant_b, db):
    """The mini-program build is one template for every store; the ext picks the store: its
    AppID goes in X-WX-AppID on the shared API host, which answers with that store's config."""
    from builder.ext_json import ext_json

    ext = ext_json(tenant_a)
    assert ext["extEnable"] is True and ext["extAppid"] == tenant_a.wechat_appid
    assert ext["ext"]["tenant_id"] == tenant_a.pk and ext["ext"]["config_url"].endswith("/api/v1/store/config")
    assert ext_json(tenant_b)["ext"]["appid"] == tenant_b.wechat_appid != tenant_a.wechat_appid
    from django.conf import settings

    connection.set_schema_to_public()
    got = Client().get("/api/v1/store/config", HTTP_HOST=settings.API_HOST, HTTP_X_WX_APPID=ext["ext"]["appid"])
    assert got.status_code == 200 and got.json()["store"]["slug"] == tenant_a.slug


def test_a_session_of_store_a_reads_nothing_at_store_b(tenant_a, tenant_b, db):
    from mall.api.auth import issue_token

    with schema_context(tenant_a.schema_name):
        token = issue_token(CustomerFactory())
    assert api(tenant_a, "get", "me", token=token).status_code == 200
    for path in ("me", "orders", "addresses", "cart"):
        r = api(tenant_b, "get", path, token=token)
        assert r.status_code == 401, (path, r.status_code)
