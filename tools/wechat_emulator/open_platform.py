"""The open platform (third-party platform) API family: component token, pre-auth codes, the
scan-to-authorize page, authorizer tokens and info, shopper login (jscode2session), and the
template library; plus the access-token checks every WeChat (non-Pay) call uses."""

from __future__ import annotations

import re
import time
import urllib.parse

from tools.wechat_emulator import pages
from tools.wechat_emulator.http import Request, Response, err, html, js, redirect
from tools.wechat_emulator.state import digits, token


class OpenPlatformAPI:
    ROUTES = [
        ("POST", "/cgi-bin/component/api_component_token", "component_token"),
        ("POST", "/cgi-bin/component/api_create_preauthcode", "create_preauthcode"),
        ("POST", "/cgi-bin/component/api_query_auth", "query_auth"),
        ("POST", "/cgi-bin/component/api_authorizer_token", "authorizer_token"),
        ("POST", "/cgi-bin/component/api_get_authorizer_info", "authorizer_info"),
        ("GET", "/cgi-bin/componentloginpage", "authorize_page"),
        ("POST", "/cgi-bin/componentloginpage", "authorize_submit"),
        ("GET", "/sns/component/jscode2session", "jscode2session"),
        ("GET", "/wxa/gettemplatedraftlist", "template_drafts"),
        ("POST", "/wxa/addtotemplate", "add_to_template"),
        ("GET", "/wxa/gettemplatelist", "template_list"),
        ("POST", "/wxa/deletetemplate", "delete_template"),
    ]

    # -- token checks -----------------------------------------------------------------------
    def _check(self, tokens: dict, value: str) -> Response | None:
        if not value or value not in tokens:
            return err(40001, "invalid credential, access_token is invalid or not latest")
        if tokens[value] < time.time():
            return err(42001, "access_token expired")
        return None

    def _component(self, req: Request) -> Response | None:
        value = req.query.get("component_access_token") or req.query.get("access_token", "")
        return self._check(self.state.data["component"]["tokens"], value)

    def _authorizer(self, req: Request) -> tuple[str | None, Response | None]:
        value = req.query.get("access_token", "")
        for appid, account in self.state.data["accounts"].items():
            if value in account.get("tokens", {}):
                if not account.get("authorized"):
                    return None, err(61003, "component is not authorized by this account")
                return appid, self._check(account["tokens"], value)
        return None, err(40001, "invalid credential, access_token is invalid or not latest")

    # -- open platform ----------------------------------------------------------------------
    def component_token(self, req: Request) -> Response:
        body = req.payload()
        if body.get("component_appid") != self.s["component_appid"]:
            return err(40013, "invalid appid")
        if body.get("component_appsecret") != self.s["component_appsecret"]:
            return err(40125, "invalid appsecret")
        if (
            not body.get("component_verify_ticket")
            or body["component_verify_ticket"] != self.state.data["component"]["ticket"]
        ):
            return err(61006, "component ticket is invalid")
        value = token("ctok_", 40)
        with self.state.lock:
            self.state.data["component"]["tokens"][value] = time.time() + 7200
            self.state.save()
        return js({"component_access_token": value, "expires_in": 7200})

    def create_preauthcode(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        code = token("preauthcode@@@", 40)
        with self.state.lock:
            self.state.data["pre_auth_codes"][code] = time.time() + 600
            self.state.save()
        return js({"pre_auth_code": code, "expires_in": 600})

    def _auth_info(self, appid: str) -> dict:
        account = self.state.data["accounts"][appid]
        live = {t: exp for t, exp in account["tokens"].items() if exp > time.time()}
        if not live:
            value = token("atok_", 40)
            account["tokens"][value] = time.time() + 7200
            live = {value: account["tokens"][value]}
        current = max(live, key=live.get)
        return {
            "authorizer_appid": appid,
            "authorizer_access_token": current,
            "expires_in": int(live[current] - time.time()),
            "authorizer_refresh_token": account["refresh_token"],
            "func_info": [{"funcscope_category": {"id": i}} for i in (17, 18, 19, 25, 30, 31)],
        }

    def query_auth(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        body = req.payload()
        code = self.state.data["auth_codes"].get(body.get("authorization_code", ""))
        if not code or code["expires_at"] < time.time():
            return err(61010, "authorization code is expired or invalid")
        with self.state.lock:
            info = self._auth_info(code["appid"])
            self.state.save()
        return js({"authorization_info": info})

    def authorizer_token(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        body = req.payload()
        account = self.state.data["accounts"].get(body.get("authorizer_appid", ""))
        if not account or not account.get("authorized"):
            return err(61003, "component is not authorized by this account")
        if body.get("authorizer_refresh_token") != account["refresh_token"]:
            return err(61023, "refresh_token is invalid")
        with self.state.lock:
            value = token("atok_", 40)
            account["tokens"] = {value: time.time() + 7200}
            account["refresh_token"] = token("refreshtoken@@@", 40)  # WeChat may hand out a new one
            self.state.save()
        return js(
            {"authorizer_access_token": value, "expires_in": 7200, "authorizer_refresh_token": account["refresh_token"]}
        )

    def authorizer_info(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        appid = req.payload().get("authorizer_appid", "")
        account = self.state.data["accounts"].get(appid)
        if not account:
            return err(61003, "component is not authorized by this account")
        return js(
            {
                "authorizer_info": {
                    "nick_name": account["nickname"],
                    "user_name": account["user_name"],
                    "MiniProgramInfo": {"network": {}, "categories": []},
                },
                "authorization_info": {"authorizer_appid": appid, "func_info": []},
            }
        )

    def _authorize(self, appid: str, nickname: str) -> str:
        with self.state.lock:
            accounts = self.state.data["accounts"]
            account = accounts.setdefault(
                appid, {"nickname": nickname, "user_name": "gh_" + digits(12), "tokens": {}, "refresh_token": ""}
            )
            account["nickname"] = nickname or account["nickname"]
            account["authorized"] = True
            if not account["refresh_token"]:
                account["refresh_token"] = token("refreshtoken@@@", 40)
            code = token("queryauthcode@@@", 40)
            self.state.data["auth_codes"][code] = {"appid": appid, "expires_at": time.time() + 3600}
            self.state.save()
        return code

    def authorize_page(self, req: Request) -> Response:
        problem = None
        if req.query.get("component_appid") != self.s["component_appid"]:
            problem = "第三方平台 AppID 不正确"
        elif self.state.data["pre_auth_codes"].get(req.query.get("pre_auth_code", ""), 0) < time.time():
            problem = "预授权码无效或已过期，请回到商家后台重新发起授权"
        elif not req.query.get("redirect_uri", "").startswith(("http://", "https://")):
            problem = "回调地址无效"
        return html(
            pages.authorize(req.query, self.state.data["accounts"], problem, "wx" + digits(16)), 400 if problem else 200
        )

    def authorize_submit(self, req: Request) -> Response:
        form = req.fields()
        code_expiry = self.state.data["pre_auth_codes"].get(form.get("pre_auth_code", ""), 0)
        if code_expiry < time.time() or form.get("component_appid") != self.s["component_appid"]:
            return html(pages.message("授权失败", "预授权码无效或已过期，请回到商家后台重新发起授权。"), 400)
        appid = form.get("appid", "").strip()
        if not re.match(r"^wx[0-9a-f]{16}$", appid):
            return html(pages.message("授权失败", "小程序 AppID 格式不正确（wx 开头，16 位十六进制）。"), 400)
        code = self._authorize(appid, form.get("nickname", "").strip() or f"小程序 {appid[-4:]}")
        with self.state.lock:
            self.state.data["pre_auth_codes"].pop(form["pre_auth_code"], None)
            self.state.save()
        self._later(
            self.out.push_component,
            "authorized",
            AuthorizerAppid=appid,
            AuthorizationCode=code,
            AuthorizationCodeExpiredTime=str(int(time.time()) + 3600),
            PreAuthCode=form["pre_auth_code"],
        )
        sep = "&" if "?" in form["redirect_uri"] else "?"
        return redirect(f"{form['redirect_uri']}{sep}auth_code={urllib.parse.quote(code)}&expires_in=3600")

    def jscode2session(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        if req.query.get("component_appid") != self.s["component_appid"]:
            return err(40013, "invalid component_appid")
        item = self.state.data["js_codes"].get(req.query.get("js_code", ""))
        if not item or item["used"] or item["appid"] != req.query.get("appid"):
            return err(40029, "invalid code")
        with self.state.lock:
            item["used"] = True
            self.state.save()
        return js({"openid": item["openid"], "session_key": token("", 24)})

    def template_drafts(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        return js({"errcode": 0, "errmsg": "ok", "draft_list": self.state.data["drafts"]})

    def add_to_template(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        body = req.payload()
        draft = next((d for d in self.state.data["drafts"] if d["draft_id"] == body.get("draft_id")), None)
        if draft is None:
            return err(85064, "draft not found")
        with self.state.lock:
            template_id = len(self.state.data["templates"]) + 1
            self.state.data["templates"].append(
                {**draft, "template_id": template_id, "template_type": body.get("template_type", 0)}
            )
            self.state.save()
        return js({"errcode": 0, "errmsg": "ok"})

    def template_list(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        return js({"errcode": 0, "errmsg": "ok", "template_list": self.state.data["templates"]})

    def delete_template(self, req: Request) -> Response:
        if bad := self._component(req):
            return bad
        template_id = req.payload().get("template_id")
        with self.state.lock:
            before = len(self.state.data["templates"])
            self.state.data["templates"] = [t for t in self.state.data["templates"] if t["template_id"] != template_id]
            self.state.save()
        return err(0, "ok") if len(self.state.data["templates"]) < before else err(85064, "template not found")
