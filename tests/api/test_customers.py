"""The shopper's own account API: profile (/me) and delivery addresses (/addresses)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from mall.api.auth import issue_token
from mall.customers.actions import save_address, tag_customer
from mall.customers.models import Address, Customer, CustomerTag
from tests.factories import CustomerFactory

GOOD = {
    "receiver": "李四",
    "phone": "13812345678",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 478 号 1203 室",
}


@pytest.fixture
def shopper(tenant_a, db):
    """A logged-in shopper of tenant_a: ``shopper(method, path, **kw)`` and ``shopper.customer``."""
    return _shopper(tenant_a)


def _shopper(tenant, customer=None):
    with schema_context(tenant.schema_name):
        customer = customer or CustomerFactory()
        token = issue_token(customer)
    client = Client()

    def call(method, path, **kw):
        connection.set_schema_to_public()
        return getattr(client, method)(
            f"/api/v1/{path}",
            HTTP_HOST=tenant.primary_host,
            HTTP_AUTHORIZATION=f"Bearer {token}",
            content_type="application/json",
            **kw,
        )

    call.customer = customer
    call.tenant = tenant
    return call


def _fields(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()["error"]
    assert body["code"] == "invalid"
    return body["fields"]


def test_me_shows_the_profile_with_a_masked_phone_and_no_tags(shopper, tenant_a):
    with schema_context(tenant_a.schema_name):
        c = Customer.objects.get(pk=shopper.customer.pk)
        c.phone = "13912345678"
        c.save()
        tag_customer(customer=c, tag=CustomerTag.objects.create(name="内部VIP"))
    me = shopper("get", "me")
    assert me.status_code == 200
    body = me.json()
    assert body["phone"] == "139****5678" and body["phone_bound"] is True
    assert body["nickname"] == shopper.customer.nickname and body["registered_at"]
    assert "13912345678" not in me.content.decode()
    assert "tags" not in body and "内部VIP" not in me.content.decode()  # tags are the merchant's


def test_me_patch_changes_nickname_and_avatar_with_field_errors_in_chinese(shopper, tenant_a):
    ok = shopper("patch", "me", data={"nickname": " 小明 ", "avatar_url": "https://img.example.com/a.png"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["nickname"] == "小明" and ok.json()["avatar_url"] == "https://img.example.com/a.png"
    bad = _fields(shopper("patch", "me", data={"nickname": "  ", "avatar_url": "javascript:alert(1)"}))
    assert "昵称" in bad["nickname"][0] and "头像" in bad["avatar_url"][0]
    wrong_type = _fields(shopper("patch", "me", data={"nickname": ["x"]}))
    assert "nickname" in wrong_type
    with schema_context(tenant_a.schema_name):
        assert Customer.objects.get(pk=shopper.customer.pk).nickname == "小明"


def test_the_account_endpoints_need_a_login(tenant_a, db):
    client = Client()
    for method, path in (("get", "me"), ("patch", "me"), ("post", "me/phone"), ("get", "addresses"),
                         ("post", "addresses"), ("get", "addresses/1"), ("put", "addresses/1"),
                         ("delete", "addresses/1")):  # fmt: skip
        r = getattr(client, method)(f"/api/v1/{path}", HTTP_HOST=tenant_a.primary_host, content_type="application/json")
        assert r.status_code in (401, 403), (method, path, r.status_code)
        assert "error" in r.json()


def test_address_crud_lists_masked_and_shows_the_owner_full_values(shopper, tenant_a):
    created = shopper("post", "addresses", data=GOOD)
    assert created.status_code == 201, created.content
    first = created.json()
    assert first["receiver"] == "李四" and first["phone"] == "13812345678" and first["is_default"] is True
    second = shopper("post", "addresses", data={**GOOD, "receiver": "王五", "phone": "+86 139-0000-1111"}).json()
    assert second["phone"] == "13900001111" and second["is_default"] is False

    listing = shopper("get", "addresses")
    assert listing.status_code == 200
    rows = {r["id"]: r for r in listing.json()}
    assert rows[first["id"]]["receiver"] == "李*" and rows[first["id"]]["phone"] == "138****5678"
    assert rows[first["id"]]["detail"] == "文三路 ****"
    assert "13812345678" not in listing.content.decode() and "478" not in listing.content.decode()
    assert listing.json()[0]["id"] == first["id"]  # the default first

    full = shopper("get", f"addresses/{first['id']}").json()
    assert full["detail"] == GOOD["detail"] and full["receiver"] == "李四" and full["region"] == "浙江省杭州市西湖区"

    changed = shopper("put", f"addresses/{second['id']}", data={**GOOD, "receiver": "王五", "is_default": True})
    assert changed.status_code == 200, changed.content
    assert changed.json()["is_default"] is True
    assert shopper("get", "addresses").json()[0]["id"] == second["id"]

    gone = shopper("delete", f"addresses/{second['id']}")
    assert gone.status_code == 204
    assert shopper("get", f"addresses/{second['id']}").status_code == 404
    assert [r["id"] for r in shopper("get", "addresses").json()] == [first["id"]]
    assert shopper("get", f"addresses/{first['id']}").json()["is_default"] is True  # the default moved back
    with schema_context(tenant_a.schema_name):
        stored = Address.objects.get(pk=first["id"])
        with connection.cursor() as cur:
            cur.execute("SELECT receiver, phone, detail FROM customers_address WHERE id = %s", [stored.pk])
            raw = cur.fetchone()
    assert "李四" not in raw[0] and "13812345678" not in raw[1] and "文三路" not in raw[2]  # encrypted at rest


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({**GOOD, "receiver": ""}, "receiver", "收货人"),
        ({**GOOD, "receiver": "名" * 21}, "receiver", "收货人"),
        ({**GOOD, "phone": "12345"}, "phone", "手机号"),
        ({**GOOD, "province": ""}, "province", "省份"),
        ({**GOOD, "city": "x"}, "city", "城市"),
        ({**GOOD, "detail": "短"}, "detail", "详细地址"),
        ({k: v for k, v in GOOD.items() if k != "phone"}, "phone", "必需"),
        ({**GOOD, "is_default": "maybe"}, "is_default", "布尔"),
        ({**GOOD, "detail": "长" * 501}, "detail", "500"),
    ],
)
def test_bad_addresses_get_chinese_field_errors(shopper, tenant_a, data, field, words):
    fields = _fields(shopper("post", "addresses", data=data))
    assert field in fields, fields
    assert words in fields[field][0], fields[field]
    with schema_context(tenant_a.schema_name):
        assert not Address.objects.filter(customer=shopper.customer).exists()


def test_a_bad_address_change_keeps_the_old_one(shopper, tenant_a):
    a = shopper("post", "addresses", data=GOOD).json()
    fields = _fields(shopper("put", f"addresses/{a['id']}", data={**GOOD, "phone": "abc"}))
    assert "phone" in fields
    assert shopper("get", f"addresses/{a['id']}").json()["phone"] == GOOD["phone"]
    not_json = shopper("post", "addresses", data="{not json")
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "parse_error"
    listy = shopper("post", "addresses", data=[GOOD])
    assert listy.status_code == 400


def test_another_shoppers_or_another_stores_address_is_a_404(shopper, tenant_a, tenant_b):
    mine = shopper("post", "addresses", data=GOOD).json()
    other = _shopper(tenant_a)
    for method in ("get", "put", "delete"):
        r = other(method, f"addresses/{mine['id']}", data=GOOD)
        assert r.status_code == 404, (method, r.status_code)
        assert r.json()["error"]["code"] == "not_found"
    assert other("get", "addresses").json() == []
    # tenant B's shopper asks for tenant A's id (the same number may exist there for someone else)
    stranger = _shopper(tenant_b)
    with schema_context(tenant_b.schema_name):
        someone = CustomerFactory()
        theirs = save_address(customer=someone, **GOOD)
    for pk in {mine["id"], theirs.pk}:
        assert stranger("get", f"addresses/{pk}").status_code == 404
        assert stranger("delete", f"addresses/{pk}").status_code == 404
    with schema_context(tenant_a.schema_name):
        assert Address.objects.filter(pk=mine["id"]).exists()
    with schema_context(tenant_b.schema_name):
        assert Address.objects.filter(pk=theirs.pk).exists()
    # a token of tenant A means nothing on tenant B's host
    client = Client()
    with schema_context(tenant_a.schema_name):
        token = issue_token(Customer.objects.get(pk=shopper.customer.pk))
    cross = client.get("/api/v1/addresses", HTTP_HOST=tenant_b.primary_host, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert cross.status_code in (401, 403)


def test_at_most_twenty_addresses(shopper, tenant_a):
    with schema_context(tenant_a.schema_name):
        for _ in range(20):
            save_address(customer=shopper.customer, **GOOD)
    fields = _fields(shopper("post", "addresses", data=GOOD))
    assert "最多保存 20 个地址" in fields["address"][0]


def test_the_address_list_runs_the_same_statements_for_1_and_20_addresses(tenant_a, db, settings):
    from tenants.selectors import forget_cached_tenants

    settings.TENANT_CACHE_SECONDS = 0
    forget_cached_tenants()
    few, lots = _shopper(tenant_a), _shopper(tenant_a)
    with schema_context(tenant_a.schema_name):
        save_address(customer=few.customer, **GOOD)
        for _ in range(20):
            save_address(customer=lots.customer, **GOOD)

    def count(call):
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as ctx:
            r = call("get", "addresses")
        assert r.status_code == 200
        return len(r.json()), [q["sql"] for q in ctx.captured_queries]

    n1, one = count(few)
    n20, many = count(lots)
    assert (n1, n20) == (1, 20)
    assert len(one) == len(many) <= 5, "\n".join(many)  # resolution (2), search_path, the shopper, the addresses


def test_a_change_to_a_malformed_address_id_is_a_json_404_not_a_csrf_page(shopper, tenant_a):
    """Ids the route does not match fall through to the API's catch-all, which must not hand the
    request to the CSRF check (an HTML 403) — the client is a token-authenticated app."""
    with schema_context(tenant_a.schema_name):
        token = issue_token(Customer.objects.get(pk=shopper.customer.pk))
    client = Client(enforce_csrf_checks=True)
    for method in ("put", "delete", "post"):
        r = getattr(client, method)(
            "/api/v1/addresses/-1",
            data=GOOD,
            content_type="application/json",
            HTTP_HOST=tenant_a.primary_host,
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert r.status_code == 404 and r["Content-Type"].startswith("application/json"), (method, r.status_code)
    ok = client.put(
        "/api/v1/addresses/999999",
        data=GOOD,
        content_type="application/json",
        HTTP_HOST=tenant_a.primary_host,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert ok.status_code == 404 and ok.json()["error"]["code"] == "not_found"
