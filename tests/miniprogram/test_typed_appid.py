"""A typed AppID proves nothing: it stays pending authorization and resolves no API traffic until
the store completes WeChat's authorization (the component's api_query_auth answer, saved by
``save_authorization``); an authorization also takes the AppID from a store that only typed it."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from saas_platform.miniprogram.actions import mark_unauthorized, save_authorization
from saas_platform.miniprogram.models import Authorizer
from tenants.actions import bind_wechat_appid, provision_tenant
from tenants.models import Tenant
from tenants.selectors import tenant_for_appid
from tests.conftest import make_owner


def _store(name: str) -> Tenant:
    slug = "mp" + uuid.uuid4().hex[:8]
    return provision_tenant(slug=slug, name=name, owner=make_owner(f"owner-{slug}", "1360000" + slug[-4:].zfill(4)))


def _appid() -> str:
    return "wx" + uuid.uuid4().hex[:16]


def _api(appid: str, host: str = "api.localhost"):
    return Client().get("/api/v1/products", HTTP_HOST=host, HTTP_X_WX_APPID=appid)


def test_a_typed_appid_stays_pending_until_wechat_authorizes_it(committed):
    store, appid = _store("待授权小店"), _appid()
    bind_wechat_appid(tenant=store, appid=appid)
    assert Tenant.objects.get(pk=store.pk).wechat_appid == appid  # recorded …
    assert tenant_for_appid(appid) is None  # … but resolves nothing
    pending = _api(appid)
    assert pending.status_code == 404 and pending.json()["error"]["code"] == "tenant_not_found"

    save_authorization(info={"authorizer_appid": appid, "func_info": []}, tenant=store)
    assert tenant_for_appid(appid).pk == store.pk
    assert _api(appid).status_code == 200

    mark_unauthorized(appid=appid)  # the merchant cancels the authorization in WeChat
    assert tenant_for_appid(appid) is None
    assert _api(appid).status_code == 404


def test_a_pending_appid_header_on_the_store_host_is_refused(committed, tenant_a):
    appid = _appid()
    store = _store("主机店")
    bind_wechat_appid(tenant=store, appid=appid)
    domain = store.primary_host
    assert _api(appid, host=domain).status_code == 404
    assert _api(tenant_a.wechat_appid, host=domain).status_code == 404  # another store's AppID
    save_authorization(info={"authorizer_appid": appid}, tenant=store)
    assert _api(appid, host=domain).status_code == 200


def test_wechat_authorization_takes_the_appid_from_a_store_that_only_typed_it(committed):
    owner_store, squatter, appid = _store("真正的店"), _store("抢注的店"), _appid()
    bind_wechat_appid(tenant=squatter, appid=appid)
    with pytest.raises(ValidationError) as err:  # typing it again elsewhere is refused as before
        bind_wechat_appid(tenant=owner_store, appid=appid)
    assert "wechat_appid" in err.value.message_dict
    save_authorization(info={"authorizer_appid": appid}, tenant=owner_store)
    assert Tenant.objects.get(pk=owner_store.pk).wechat_appid == appid
    assert Tenant.objects.get(pk=squatter.pk).wechat_appid is None
    assert tenant_for_appid(appid).pk == owner_store.pk
    assert Authorizer.objects.get(appid=appid).tenant_id == owner_store.pk
    # and once authorised, another store's authorization of the same AppID is refused
    with pytest.raises(ValidationError):
        save_authorization(info={"authorizer_appid": appid}, tenant=squatter)
