"""One authorised mini-program: code management, phone numbers, subscribe messages and
mini-program codes, through wechatpy's ``client.wxa`` (pointed at ``WECHAT_API_BASE_URL``).

    mp = MiniProgramClient("wx…")
    mp.commit(template_id=3, ext={"extAppid": "wx…", "ext": {...}}, version="1.0.0", description="…")
    png = mp.experience_qrcode()
    auditid = mp.submit_audit(item_list=[...])
    mp.audit_status(auditid)   # {"status": 0 | 1 | 2 | 3 | 4, "reason": …}
    mp.release(); mp.revert()

Every failure is an ``integrations.wechat.errors`` exception with WeChat's code and message.
"""

from __future__ import annotations

import json

import requests

from integrations.wechat.errors import WeChatAPIError, api_error, translated
from integrations.wechat.open_platform import ComponentClient, dumps_ext


def _image(result) -> bytes:
    """wxa/get_qrcode and wxa/getwxacodeunlimit answer image bytes, or JSON on error."""
    if isinstance(result, requests.Response):
        if result.headers.get("Content-Type", "").startswith("image/"):
            return result.content
        try:
            data = json.loads(result.content)
        except ValueError:
            raise WeChatAPIError(-1, "微信返回了无法识别的内容") from None
        raise api_error(data.get("errcode", -1), data.get("errmsg", ""))
    if isinstance(result, dict):  # JSON without errcode 0 would have raised already
        raise WeChatAPIError(result.get("errcode", -1), result.get("errmsg", "微信未返回图片"))
    return bytes(result)


class MiniProgramClient:
    def __init__(self, appid: str, component: ComponentClient | None = None):
        self.appid = appid
        self.component = component or ComponentClient()
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = self.component.authorizer(self.appid)
        return self._client

    # -- code management -----------------------------------------------------------------
    def commit(self, *, template_id: int, ext: dict | str, version: str, description: str) -> dict:
        ext_json = ext if isinstance(ext, str) else dumps_ext(ext)
        with translated():
            return self.client.wxa.commit(template_id, ext_json, version, description)

    def experience_qrcode(self) -> bytes:
        with translated():
            return _image(self.client.wxa.get_qrcode())

    def submit_audit(self, *, item_list: list[dict] | None = None, **extra) -> int:
        with translated():
            return int(self.client.wxa.submit_audit({"item_list": item_list or [], **extra})["auditid"])

    def audit_status(self, auditid: int) -> dict:
        with translated():
            return self.client.wxa.get_audit_status(auditid)

    def latest_audit_status(self) -> dict:
        with translated():
            return self.client.wxa.get_latest_audit_status()

    def release(self) -> dict:
        with translated():
            return self.client.wxa.release()

    def revert(self) -> dict:
        with translated():
            return self.client.wxa.revert_code_release()

    # -- shoppers ------------------------------------------------------------------------
    def login(self, js_code: str) -> dict:
        """``{"openid", "session_key", "unionid"?}`` via sns/component/jscode2session."""
        return self.component.jscode2session(appid=self.appid, js_code=js_code)

    def phone_number(self, code: str) -> dict:
        """``{"phoneNumber", "purePhoneNumber", "countryCode", …}`` from getPhoneNumber's code."""
        with translated():
            return self.client.wxa.get_phone_number(code)["phone_info"]

    def send_subscribe_message(self, *, openid: str, template_id: str, data: dict, page: str | None = None) -> dict:
        with translated():
            return self.client.wxa.send_subscribe_message(openid, template_id, data, page=page)

    def wxacode_unlimited(self, *, scene: str, page: str | None = None, width: int = 430) -> bytes:
        if not scene or len(scene) > 32:
            raise WeChatAPIError(40129, "scene 须为 1–32 个字符")
        with translated():
            return _image(self.client.wxa.get_wxa_code_unlimited(scene, width=width, page=page))
