"""Binding the shopper's phone: the mini-program's getPhoneNumber code → wxa
getuserphonenumber (through the SDK client, against the emulator) → ``bind_phone``: stored
encrypted (the raw column is not the number), found by its blind index, answered masked."""

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from core import crypto
from mall.customers.models import Customer
from tests.integrations.wechat.test_open_platform import bound_appid  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow


def _api(appid):
    client = Client()
    return lambda method, path, **kw: getattr(client, method)(
        f"/api/v1/{path}", HTTP_HOST="api.localhost", HTTP_X_WX_APPID=appid, content_type="application/json", **kw
    )


def test_a_shopper_binds_the_phone_wechat_reports_and_sees_it_masked(emulator, bound_appid, wx_tenant, committed):  # noqa: F811
    api = _api(bound_appid)
    code = emulator.api("login-code", appid=bound_appid, openid="o-bind-phone-1")["code"]
    token = api("post", "auth/login", data={"code": code}).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api("get", "me", **auth).json()["phone_bound"] is False

    phone_code = emulator.api("phone-code", phone="13798765432", appid=bound_appid)["code"]
    assert api("post", "me/phone", data={"code": phone_code}).status_code == 401  # a login first
    bound = api("post", "me/phone", data={"code": phone_code}, **auth)
    assert bound.status_code == 200, bound.content
    assert bound.json()["phone"] == "137****5432" and bound.json()["phone_bound_at"]
    assert "13798765432" not in bound.content.decode()
    me = api("get", "me", **auth).json()
    assert me["phone"] == "137****5432" and me["phone_bound"] is True

    with schema_context(wx_tenant.schema_name):
        customer = Customer.objects.get(openid="o-bind-phone-1")
        assert customer.phone == "13798765432" and customer.phone_bound_at is not None
        assert customer.phone_index == crypto.blind_index("13798765432")
        with connection.cursor() as cur:
            cur.execute("SELECT phone FROM customers_customer WHERE id = %s", [customer.pk])
            (raw,) = cur.fetchone()
        assert raw and "13798765432" not in raw and "5432" not in raw  # encrypted at rest

    # A code is good once; an unknown one, another mini-program's, or a foreign number is a field error.
    again = api("post", "me/phone", data={"code": phone_code}, **auth)
    assert again.status_code == 400 and "40029" in again.json()["error"]["fields"]["code"][0]
    other_app = emulator.api("phone-code", phone="13700000000", appid="wx0000000000000999")["code"]
    assert api("post", "me/phone", data={"code": other_app}, **auth).status_code == 400
    foreign = emulator.api("phone-code", phone="91234567", appid=bound_appid, country_code="852")["code"]
    refused = api("post", "me/phone", data={"code": foreign}, **auth)
    assert refused.status_code == 400 and "大陆" in refused.json()["error"]["fields"]["code"][0]
    empty = api("post", "me/phone", data={}, **auth)
    assert empty.status_code == 400 and "code" in empty.json()["error"]["fields"]
    with schema_context(wx_tenant.schema_name):
        assert Customer.objects.get(openid="o-bind-phone-1").phone == "13798765432"  # unchanged

    # Re-binding replaces the number.
    new_code = emulator.api("phone-code", phone="13611112222", appid=bound_appid)["code"]
    assert api("post", "me/phone", data={"code": new_code}, **auth).json()["phone"] == "136****2222"
    with schema_context(wx_tenant.schema_name):
        assert Customer.objects.filter(phone_index=crypto.blind_index("13611112222")).count() == 1
