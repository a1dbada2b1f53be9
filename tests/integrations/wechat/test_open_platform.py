"""The third-party platform and mini-program APIs through wechatpy against the emulator:
verify ticket pushes, the merchant's authorization, shopper login, phone numbers, subscribe
messages, mini-program codes, code commit/audit/release/revert, token expiry and refresh."""

from __future__ import annotations

import urllib.parse

import pytest
import requests

from core.models import InboundLog
from integrations.wechat.errors import WeChatAPIError, WeChatUnavailable, translated
from integrations.wechat.miniprogram import MiniProgramClient
from integrations.wechat.models import ComponentState
from integrations.wechat.open_platform import ComponentClient
from saas_platform.miniprogram import actions
from saas_platform.miniprogram.models import AuditStatus, Authorizer, CodeAudit
from tenants.models import Tenant
from tests.integrations.wechat.conftest import wait_until

pytestmark = pytest.mark.slow
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def bound_appid(emulator, wechat_web, wx_tenant, django_db_blocker):
    """wx_tenant's mini-program, authorised through the pre-auth page like a merchant does."""
    with django_db_blocker.unblock():
        url = ComponentClient().authorization_url(
            f"http://wxtest.localhost:{emulator.web_port}/console/wechat/authorized/"
        )
        assert url.startswith(f"{emulator.url}/cgi-bin/componentloginpage?")
        page = requests.get(url, timeout=10)
        assert page.status_code == 200 and "确认授权" in page.text
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        appid = "wx5e5e5e5e5e5e5e01"
        answer = requests.post(
            f"{emulator.url}/cgi-bin/componentloginpage",
            data={**query, "appid": appid, "nickname": "微信测试店小程序"},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302
        back = urllib.parse.urlsplit(answer.headers["Location"])
        assert back.path == "/console/wechat/authorized/"
        auth_code = dict(urllib.parse.parse_qsl(back.query))["auth_code"]
        auth = actions.complete_authorization(tenant=wx_tenant, auth_code=auth_code)
        assert auth.appid == appid
        return appid


def test_the_verify_ticket_pushed_by_wechat_is_stored(emulator, wechat_web, committed):
    assert emulator.api("push-ticket")["status"] == 200
    state = ComponentState.objects.get(component_appid=emulator.env["WECHAT_COMPONENT_APPID"])
    assert state.verify_ticket == emulator.state()["component"]["ticket"]
    assert ComponentClient().access_token().startswith("ctok_")


def test_a_push_with_a_bad_signature_is_refused(emulator, wechat_web, committed):
    body = b"<xml><AppId><![CDATA[wx]]></AppId><Encrypt><![CDATA[AAAA]]></Encrypt></xml>"
    answer = requests.post(
        f"{wechat_web}/wechat/component/?timestamp=1&nonce=2&msg_signature=bad", data=body, timeout=10
    )
    assert answer.status_code == 400
    garbage = requests.post(f"{wechat_web}/wechat/component/", data=b"not xml", timeout=10)
    assert garbage.status_code == 400
    assert InboundLog.objects.filter(kind="component", outcome="refused").exists()


def test_authorization_binds_the_mini_program_to_the_store(bound_appid, wx_tenant, committed):
    auth = Authorizer.objects.get(appid=bound_appid)
    assert auth.tenant_id == wx_tenant.pk and auth.status == "authorized"
    assert auth.refresh_token.startswith("refreshtoken@@@") and auth.token_valid
    assert auth.nickname == "微信测试店小程序"
    assert Tenant.objects.get(pk=wx_tenant.pk).wechat_appid == bound_appid
    # WeChat also pushed "authorized" to our callback, which exchanged the code as well.
    assert wait_until(
        lambda: InboundLog.objects.filter(kind="component", key="authorized", detail=bound_appid).exists()
    )


def test_authorized_and_unauthorized_pushes(emulator, wechat_web, committed):
    appid = "wx5e5e5e5e5e5e5e77"
    assert emulator.api("authorize", appid=appid, nickname="别家小程序")["push_status"] == 200
    auth = Authorizer.objects.get(appid=appid)
    assert auth.status == "authorized" and auth.refresh_token and auth.tenant_id is None
    assert emulator.api("unauthorize", appid=appid)["push_status"] == 200
    assert Authorizer.objects.get(appid=appid).status == "unauthorized"


def test_shopper_login_through_component_jscode2session(emulator, bound_appid, committed):
    code = emulator.api("login-code", appid=bound_appid, openid="o-login-1")["code"]
    mp = MiniProgramClient(bound_appid)
    assert mp.login(code)["openid"] == "o-login-1"
    with pytest.raises(WeChatAPIError) as err:
        mp.login(code)  # a code is good once
    assert err.value.code == 40029


def test_phone_number(emulator, bound_appid, committed):
    code = emulator.api("phone-code", phone="13912345678")["code"]
    assert MiniProgramClient(bound_appid).phone_number(code)["purePhoneNumber"] == "13912345678"


def test_subscribe_message_needs_one_acceptance_per_send(emulator, bound_appid, committed):
    mp = MiniProgramClient(bound_appid)
    message = {"openid": "o-sub-1", "template_id": "TPL-ORDER", "data": {"thing1": {"value": "订单已发货"}}}
    with pytest.raises(WeChatAPIError) as err:
        mp.send_subscribe_message(**message)
    assert err.value.code == 43101
    emulator.api("subscribe", appid=bound_appid, openid="o-sub-1", template_id="TPL-ORDER")
    assert mp.send_subscribe_message(**message)["errcode"] == 0
    with pytest.raises(WeChatAPIError):
        mp.send_subscribe_message(**message)
    assert any(m["touser"] == "o-sub-1" for m in emulator.state()["messages"])


def test_mini_program_code_with_a_scene(bound_appid, committed):
    mp = MiniProgramClient(bound_appid)
    assert mp.wxacode_unlimited(scene="p=42&r=7", page="pages/product/index").startswith(PNG)
    with pytest.raises(WeChatAPIError):
        mp.wxacode_unlimited(scene="x" * 33)


def _template_id(component: ComponentClient) -> int:
    drafts = component.template_drafts()
    component.add_to_template(draft_id=drafts[0]["draft_id"])
    return component.templates()[-1]["template_id"]


def _audit(emulator, mp, template_id, version):
    mp.commit(
        template_id=template_id,
        ext={"extAppid": mp.appid, "ext": {"store": "wxtest"}},
        version=version,
        description="发布",
    )
    assert mp.experience_qrcode().startswith(PNG)
    auditid = mp.submit_audit(item_list=[{"address": "pages/index/index", "tag": "商城"}])
    actions.record_audit_submitted(appid=mp.appid, auditid=auditid)
    assert mp.audit_status(auditid)["status"] == AuditStatus.IN_REVIEW
    return auditid


def test_commit_audit_approve_release_and_revert(emulator, bound_appid, committed):
    component = ComponentClient()
    template_id = _template_id(component)
    mp = MiniProgramClient(bound_appid, component)
    for version in ("1.0.0", "1.0.1"):
        auditid = _audit(emulator, mp, template_id, version)
        emulator.api("audit", auditid=auditid, action="approve")
        assert wait_until(lambda a=auditid: CodeAudit.objects.get(auditid=a).status == AuditStatus.APPROVED)
        assert mp.audit_status(auditid)["status"] == AuditStatus.APPROVED
        assert mp.release()["errcode"] == 0
    assert emulator.state()["code"][bound_appid]["released"]["version"] == "1.0.1"
    assert mp.revert()["errcode"] == 0
    assert emulator.state()["code"][bound_appid]["released"]["version"] == "1.0.0"
    with pytest.raises(WeChatAPIError) as err:
        mp.audit_status(123)
    assert err.value.code == 85012


def test_audit_rejected_with_its_reason(emulator, bound_appid, committed):
    component = ComponentClient()
    mp = MiniProgramClient(bound_appid, component)
    auditid = _audit(emulator, mp, _template_id(component), "1.1.0")
    emulator.api("audit", auditid=auditid, action="reject", reason="类目不符")
    assert wait_until(lambda: CodeAudit.objects.get(auditid=auditid).status == AuditStatus.REJECTED)
    assert CodeAudit.objects.get(auditid=auditid).reason == "类目不符"
    assert mp.audit_status(auditid) | {} == {
        "errcode": 0,
        "errmsg": "ok",
        "status": 1,
        "reason": "类目不符",
        "screenshot": "",
    }
    with pytest.raises(WeChatAPIError) as err:
        mp.release()
    assert err.value.code == 85019


def test_ext_json_must_be_a_string(emulator, bound_appid, committed):
    mp = MiniProgramClient(bound_appid)
    with pytest.raises(WeChatAPIError) as err, translated():
        mp.client.wxa.commit(1, {"ext": 1}, "1.0.0", "dict")  # what wechatpy sends if handed a dict
    assert err.value.code == 47001


def test_expired_authorizer_token_is_refreshed_and_the_new_refresh_token_kept(emulator, bound_appid, committed):
    before = Authorizer.objects.get(appid=bound_appid)
    since = emulator.last_log_id()
    emulator.api("expire-tokens", kind="authorizer", appid=bound_appid)
    assert MiniProgramClient(bound_appid).wxacode_unlimited(scene="t=1").startswith(PNG)
    after = Authorizer.objects.get(appid=bound_appid)
    assert after.access_token != before.access_token and after.refresh_token != before.refresh_token
    calls = [(e["path"].split("?")[0], e["response"]) for e in emulator.log("call", since)]
    assert calls[0][1]["errcode"] == 42001
    assert calls[1][0] == "/cgi-bin/component/api_authorizer_token"
    # The stored refresh token is the one WeChat handed back: the next refresh works too.
    emulator.api("revoke-tokens", appid=bound_appid)  # 40001: WeChat no longer knows the token
    assert MiniProgramClient(bound_appid).wxacode_unlimited(scene="t=2").startswith(PNG)


def test_expired_component_token_is_refreshed(emulator, bound_appid, committed):
    since = emulator.last_log_id()
    emulator.api("expire-tokens", kind="component")
    assert ComponentClient().templates() is not None
    paths = [e["path"].split("?")[0] for e in emulator.log("call", since)]
    assert "/cgi-bin/component/api_component_token" in paths


def test_wechat_5xx_retried_then_a_clear_failure(emulator, bound_appid, committed):
    mp = MiniProgramClient(bound_appid)
    emulator.api("faults", prefix="/wxa/getwxacodeunlimit", status=502, count=2)
    assert mp.wxacode_unlimited(scene="r=1").startswith(PNG)
    emulator.api("faults", prefix="/wxa/getwxacodeunlimit", status=503, count=3)
    with pytest.raises(WeChatUnavailable) as err:
        mp.wxacode_unlimited(scene="r=2")
    assert err.value.status == 503
    assert Authorizer.objects.get(appid=bound_appid).refresh_token  # nothing lost


def test_a_store_that_never_authorised_gets_a_clear_error(emulator, committed):
    with pytest.raises(WeChatAPIError) as err:
        MiniProgramClient("wx0000000000000404").release()
    assert err.value.code == 61023


def test_a_promoter_gets_its_mini_program_code_with_its_scene(emulator, bound_appid, wx_tenant, committed):
    """``GET /api/v1/promoter/qrcode``: the promoter's own code from ``getwxacodeunlimit``, with
    the scene ``pid=<promoter id>`` the mini-program reads to record a QR touch."""
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import schema_context

    from mall.api.auth import issue_token
    from mall.promoters.actions import make_promoter
    from tests.factories import CustomerFactory

    wx_tenant.refresh_from_db()
    assert wx_tenant.wechat_appid == bound_appid
    with schema_context(wx_tenant.schema_name):
        promoter = make_promoter(customer=CustomerFactory())
        token = issue_token(promoter.customer)
    connection.set_schema_to_public()
    since = emulator.last_log_id()
    answer = Client().get(
        "/api/v1/promoter/qrcode", HTTP_HOST=wx_tenant.primary_host, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
    assert answer.content.startswith(PNG)
    calls = [e for e in emulator.log(since=since) if "getwxacodeunlimit" in (e.get("path") or "")]
    assert calls and calls[-1]["request"]["scene"] == f"pid={promoter.pk}"
