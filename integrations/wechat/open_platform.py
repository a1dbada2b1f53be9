"""The third-party platform (open platform component) client, on wechatpy's ``WeChatComponent``.

    component = ComponentClient()
    url = component.authorization_url(redirect_uri)       # pre-auth code + scan page URL
    info = component.query_auth(auth_code)                # authorizer tokens (stored)
    client = component.authorizer(appid)                  # a wechatpy client for that mini-program
    session = component.jscode2session(appid=…, js_code=…)  # shopper login

Base URLs, secrets, timeouts and retries come from settings (``WECHAT_*``). Tokens and the
verify ticket live in the public schema (``DatabaseStorage``); wechatpy does not keep the new
``authorizer_refresh_token`` after a refresh, ``AuthorizerClient`` does.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from wechatpy.client import WeChatComponentClient
from wechatpy.component import WeChatComponent

from integrations.wechat import http
from integrations.wechat.conf import require
from integrations.wechat.errors import WeChatAPIError, api_error, translated
from integrations.wechat.storage import DatabaseStorage


class AuthorizerClient(WeChatComponentClient):
    """wechatpy's client for one authorised mini-program, pointed at our settings, keeping the
    refresh token WeChat hands back with every new access token."""

    def __init__(self, appid, component, **kwargs):
        super().__init__(appid, component, session=component.session, timeout=http.timeout(), **kwargs)
        base = settings.WECHAT_API_BASE_URL.rstrip("/")
        self.API_BASE_URL = f"{base}/cgi-bin/"
        self.wxa.API_BASE_URL = f"{base}/"
        self._http = http.session()

    def fetch_access_token(self):
        result = self.component.refresh_authorizer_token(self.appid, self.refresh_token)
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["authorizer_access_token"], expires_in)
        if result.get("authorizer_refresh_token"):
            self.session.set(self.refresh_token_key, result["authorizer_refresh_token"])
        self.expires_at = int(time.time()) + expires_in
        return result


class _Component(WeChatComponent):
    def __init__(self):
        require(
            "WECHAT_COMPONENT_APPID",
            "WECHAT_COMPONENT_APPSECRET",
            "WECHAT_COMPONENT_TOKEN",
            "WECHAT_COMPONENT_AES_KEY",
        )
        super().__init__(
            settings.WECHAT_COMPONENT_APPID,
            settings.WECHAT_COMPONENT_APPSECRET,
            settings.WECHAT_COMPONENT_TOKEN,
            settings.WECHAT_COMPONENT_AES_KEY,
            session=DatabaseStorage(settings.WECHAT_COMPONENT_APPID),
        )
        base = settings.WECHAT_API_BASE_URL.rstrip("/")
        self.API_BASE_URL = f"{base}/cgi-bin"
        self.PRE_AUTH_URL = settings.WECHAT_AUTHORIZE_PAGE_URL
        self._http = http.session()

    def fetch_access_token(self):
        if not self.component_verify_ticket:
            raise WeChatAPIError(61006, "尚未收到 component_verify_ticket（微信每 10 分钟推送一次）")
        return super().fetch_access_token()


class ComponentClient:
    """One place for every open-platform call; raises ``integrations.wechat.errors`` only."""

    def __init__(self):
        self.component = _Component()
        self.appid = self.component.component_appid

    # -- push messages -------------------------------------------------------------------
    def parse_push(self, body: bytes | str, *, msg_signature: str, timestamp: str, nonce: str):
        """Decrypt and parse a push (ticket, authorized, unauthorized). Stores the ticket; for
        ``authorized`` it also exchanges the authorization code (``msg.query_auth_result``)."""
        with translated():
            return self.component.parse_message(body, msg_signature, timestamp, nonce)

    def decrypt(self, body: bytes | str, *, msg_signature: str, timestamp: str, nonce: str) -> str:
        """Decrypt an event pushed for an authorizer (e.g. ``weapp_audit_success``): its XML."""
        return self.component.crypto.decrypt_message(body, msg_signature, timestamp, nonce)

    # -- tokens and authorization --------------------------------------------------------
    def access_token(self) -> str:
        with translated():
            return self.component.access_token

    def authorization_url(self, redirect_uri: str) -> str:
        with translated():
            return self.component.get_pre_auth_url(redirect_uri)

    def query_auth(self, auth_code: str) -> dict:
        with translated():
            return self.component.query_auth(auth_code)["authorization_info"]

    def authorizer_info(self, appid: str) -> dict:
        with translated():
            return self.component.get_authorizer_info(appid)

    def refresh_authorizer(self, appid: str) -> dict:
        """Force a new authorizer_access_token (and store the new refresh token)."""
        with translated():
            return self.authorizer(appid).fetch_access_token()

    def authorizer(self, appid: str) -> AuthorizerClient:
        if not self.component.session.get(f"{appid}_refresh_token"):
            raise api_error(61023, "该小程序未授权或刷新令牌缺失，请商户重新授权")
        return AuthorizerClient(appid, self.component)

    # -- shopper login (the platform holds no app secret: sns/component/jscode2session) ---
    def jscode2session(self, *, appid: str, js_code: str) -> dict:
        with translated():
            return self.component.get(
                f"{settings.WECHAT_API_BASE_URL.rstrip('/')}/sns/component/jscode2session",
                params={
                    "appid": appid,
                    "js_code": js_code,
                    "grant_type": "authorization_code",
                    "component_appid": self.appid,
                },
                data=None,
            )

    # -- code template library (missing from wechatpy) -----------------------------------
    def _wxa(self, method: str, path: str, data=None, **params) -> dict:
        url = f"{settings.WECHAT_API_BASE_URL.rstrip('/')}/wxa/{path}"
        params["access_token"] = self.access_token()
        with translated():
            if method == "get":
                return self.component.get(url, params=params, data=None)
            return self.component.post(url, params=params, data=data or {})

    def template_drafts(self) -> list[dict]:
        return self._wxa("get", "gettemplatedraftlist").get("draft_list", [])

    def add_to_template(self, *, draft_id: int, template_type: int = 0) -> dict:
        return self._wxa("post", "addtotemplate", {"draft_id": draft_id, "template_type": template_type})

    def templates(self, *, template_type: int = 0) -> list[dict]:
        return self._wxa("get", "gettemplatelist", template_type=template_type).get("template_list", [])

    def delete_template(self, *, template_id: int) -> dict:
        return self._wxa("post", "deletetemplate", {"template_id": template_id})


def dumps_ext(ext: dict) -> str:
    """``ext_json`` must be a JSON *string* (a dict gets errcode 47001)."""
    return json.dumps(ext, ensure_ascii=False, separators=(",", ":"))
