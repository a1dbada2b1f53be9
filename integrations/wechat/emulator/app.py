"""The emulator's WSGI application: WeChat's open-platform and mini-program APIs, WeChat Pay v3,
the scan-to-authorize page, the cashier, the inspector and a test API (``/_emulator/api/…``)."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus

import segno

from integrations.wechat.emulator import pages
from integrations.wechat.emulator.outbound import Outbound
from integrations.wechat.emulator.signing import Signer
from integrations.wechat.emulator.state import State, digits, now_iso, token

TRADE_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
OUT_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")


class Request:
    def __init__(self, environ):
        self.environ = environ
        self.method = environ["REQUEST_METHOD"].upper()
        self.path = environ.get("PATH_INFO", "/") or "/"
        self.query_string = environ.get("QUERY_STRING", "")
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(self.query_string, keep_blank_values=True).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        self.body = environ["wsgi.input"].read(length) if length else b""
        self.headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            self.headers["Content-Type"] = environ["CONTENT_TYPE"]

    @property
    def full_path(self) -> str:
        return self.path + (f"?{self.query_string}" if self.query_string else "")

    def json(self) -> dict:
        if not self.body:
            return {}
        data = json.loads(self.body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    def form(self) -> dict:
        return {k: v[-1] for k, v in urllib.parse.parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


class Response:
    def __init__(
        self, body: bytes | str = b"", status: int = 200, content_type="application/json; charset=utf-8", headers=None
    ):
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.status = status
        self.headers = [("Content-Type", content_type), *(headers or [])]


def js(data, status=200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status)


def err(errcode: int, errmsg: str) -> Response:
    return js({"errcode": errcode, "errmsg": errmsg})


def html(body: str, status=200) -> Response:
    return Response(body, status, "text/html; charset=utf-8")


def redirect(url: str) -> Response:
    return Response(b"", 302, "text/plain", [("Location", url)])


def png(data: str) -> Response:
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="png", scale=6, border=2)
    return Response(buf.getvalue(), 200, "image/png")


class PayError(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message


class Emulator:
    def __init__(self, *, state: State, signer: Signer, outbound: Outbound, secrets_: dict, base_url: str):
        self.state = state
        self.signer = signer
        self.out = outbound
        self.s = secrets_
        self.base_url = base_url.rstrip("/")
        self.routes: list[tuple[str, re.Pattern, Callable]] = []
        self._register()

    # -- plumbing ---------------------------------------------------------------------------
    def route(self, method: str, pattern: str, fn: Callable) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), fn))

    def __call__(self, environ, start_response):
        req = Request(environ)
        started = time.time()
        fault = self.state.take_fault(req.path) if not req.path.startswith(("/_emulator", "/pay/cashier")) else None
        if fault and fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault and fault.get("status"):
            resp = js({"code": "SYSTEM_ERROR", "message": "系统繁忙，请稍后重试"}, int(fault["status"]))
            if not req.path.startswith("/v3/"):
                resp = Response("upstream error", int(fault["status"]), "text/plain")
        else:
            resp = self.dispatch(req)
        if req.path.startswith("/v3/"):
            resp.headers += self.signer.response_headers(resp.body)
        if not req.path.startswith(("/_emulator", "/static")):
            self.state.record(
                "call",
                method=req.method,
                path=req.full_path,
                status=resp.status,
                request=_printable(req.body),
                response=_printable(resp.body)
                if "json" in resp.headers[0][1]
                else f"<{resp.headers[0][1]}, {len(resp.body)} bytes>",
                ms=int((time.time() - started) * 1000),
            )
        start_response(f"{resp.status} {HTTPStatus(resp.status).phrase}", resp.headers)
        return [resp.body]

    def dispatch(self, req: Request) -> Response:
        for method, pattern, fn in self.routes:
            m = pattern.match(req.path)
            if m and method in (req.method, "*"):
                try:
                    return fn(req, **m.groupdict())
                except PayError as exc:
                    return js({"code": exc.code, "message": exc.message}, exc.status)
                except (ValueError, KeyError, TypeError) as exc:
                    if req.path.startswith("/v3/"):
                        return js({"code": "PARAM_ERROR", "message": f"参数错误：{exc}"}, 400)
                    return err(47001, f"data format error: {exc}")
        if req.path.startswith("/v3/"):
            return js({"code": "NOT_FOUND", "message": "接口不存在"}, 404)
        return err(-1, f"unknown api {req.path}") if req.method == "POST" else html(pages.not_found(req.path), 404)

    def _register(self) -> None:
        r = self.route
        # open platform
        r("POST", r"/cgi-bin/component/api_component_token", self.component_token)
        r("POST", r"/cgi-bin/component/api_create_preauthcode", self.create_preauthcode)
        r("POST", r"/cgi-bin/component/api_query_auth", self.query_auth)
        r("POST", r"/cgi-bin/component/api_authorizer_token", self.authorizer_token)
        r("POST", r"/cgi-bin/component/api_get_authorizer_info", self.authorizer_info)
        r("GET", r"/cgi-bin/componentloginpage", self.authorize_page)
        r("POST", r"/cgi-bin/componentloginpage", self.authorize_submit)
        r("GET", r"/sns/component/jscode2session", self.jscode2session)
        r("GET", r"/wxa/gettemplatedraftlist", self.template_drafts)
        r("POST", r"/wxa/addtotemplate", self.add_to_template)
        r("GET", r"/wxa/gettemplatelist", self.template_list)
        r("POST", r"/wxa/deletetemplate", self.delete_template)
        # mini-program (authorizer token)
        r("POST", r"/wxa/commit", self.commit)
        r("GET", r"/wxa/get_qrcode", self.experience_qrcode)
        r("POST", r"/wxa/submit_audit", self.submit_audit)
        r("POST", r"/wxa/get_auditstatus", self.audit_status)
        r("GET", r"/wxa/get_latest_auditstatus", self.latest_audit_status)
        r("POST", r"/wxa/release", self.release)
        r("GET", r"/wxa/revertcoderelease", self.revert)
        r("POST", r"/wxa/business/getuserphonenumber", self.phone_number)
        r("POST", r"/cgi-bin/message/subscribe/send", self.subscribe_send)
        r("POST", r"/wxa/getwxacodeunlimit", self.wxacode)
        # WeChat Pay v3
        r("POST", r"/v3/pay/transactions/(?P<kind>jsapi|native|h5)", self.prepay)
        r("GET", r"/v3/pay/transactions/out-trade-no/(?P<no>[^/]+)", self.query_order)
        r("GET", r"/v3/pay/transactions/id/(?P<tid>[^/]+)", self.query_order_by_id)
        r("POST", r"/v3/pay/transactions/out-trade-no/(?P<no>[^/]+)/close", self.close_order)
        r("POST", r"/v3/refund/domestic/refunds", self.refund)
        r("GET", r"/v3/refund/domestic/refunds/(?P<no>[^/]+)", self.query_refund)
        r("POST", r"/v3/profitsharing/receivers/add", self.ps_add_receiver)
        r("POST", r"/v3/profitsharing/orders", self.ps_order)
        r("POST", r"/v3/profitsharing/orders/unfreeze", self.ps_unfreeze)
        r("GET", r"/v3/profitsharing/orders/(?P<no>[^/]+)", self.ps_query)
        r("POST", r"/v3/profitsharing/return-orders", self.ps_return)
        r("GET", r"/v3/profitsharing/return-orders/(?P<no>[^/]+)", self.ps_return_query)
        r("POST", r"/v3/fund-app/mch-transfer/transfer-bills", self.transfer)
        r("GET", r"/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/(?P<no>[^/]+)", self.transfer_query)
        r("POST", r"/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/(?P<no>[^/]+)/cancel", self.transfer_cancel)
        # people: cashier, inspector, QR images
        r("GET", r"/pay/cashier/(?P<key>[^/]+)", self.cashier)
        r("POST", r"/pay/cashier/(?P<key>[^/]+)", self.cashier_submit)
        r("GET", r"/qr\.png", lambda req: png(req.query.get("data", "")[:1000] or "empty"))
        r("GET", r"/", lambda req: redirect("/_emulator/"))
        r("GET", r"/_emulator/?", self.inspector)
        r("POST", r"/_emulator/action", self.inspector_action)
        r("GET", r"/_emulator/health", lambda req: js({"ok": True}))
        # test API
        r("GET", r"/_emulator/api/log", self.api_log)
        r("GET", r"/_emulator/api/state", lambda req: js(self.snapshot()))
        r("POST", r"/_emulator/api/(?P<name>[a-z\-]+)", self.api)

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
        body = req.json()
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
        body = req.json()
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
        body = req.json()
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
        appid = req.json().get("authorizer_appid", "")
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
        form = req.form()
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
        body = req.json()
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
        template_id = req.json().get("template_id")
        with self.state.lock:
            before = len(self.state.data["templates"])
            self.state.data["templates"] = [t for t in self.state.data["templates"] if t["template_id"] != template_id]
            self.state.save()
        return err(0, "ok") if len(self.state.data["templates"]) < before else err(85064, "template not found")

    # -- mini-program code --------------------------------------------------------------------
    def _code(self, appid: str) -> dict:
        return self.state.data["code"].setdefault(
            appid, {"commit": None, "audits": {}, "latest_auditid": None, "released": None, "previous": None}
        )

    def commit(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        body = req.json()
        if not isinstance(body.get("ext_json"), str):
            return err(47001, "data format error: ext_json must be a JSON string")
        try:
            json.loads(body["ext_json"])
        except ValueError:
            return err(47001, "data format error: ext_json is not valid JSON")
        if not any(t["template_id"] == body.get("template_id") for t in self.state.data["templates"]) and body.get(
            "template_id"
        ) not in (0, 1):
            return err(85013, "template_id not found")
        with self.state.lock:
            self._code(appid)["commit"] = {
                "template_id": body.get("template_id"),
                "ext_json": body["ext_json"],
                "user_version": body.get("user_version", ""),
                "user_desc": body.get("user_desc", ""),
                "at": now_iso(),
            }
            self.state.save()
        return err(0, "ok")

    def experience_qrcode(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        commit = self._code(appid)["commit"]
        if not commit:
            return err(85008, "no code committed")
        return png(f"{self.base_url}/experience/{appid}?version={commit['user_version']}")

    def submit_audit(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        code = self._code(appid)
        if not code["commit"]:
            return err(85008, "no code committed")
        latest = code["audits"].get(str(code["latest_auditid"])) if code["latest_auditid"] else None
        if latest and latest["status"] in (2, 4):
            return err(85009, "an audit is already in progress")
        auditid = int("4" + digits(9))
        with self.state.lock:
            code["audits"][str(auditid)] = {
                "auditid": auditid,
                "status": 2,
                "reason": "",
                "screenshot": "",
                "version": code["commit"]["user_version"],
                "item_list": req.json().get("item_list", []),
                "submitted": now_iso(),
                "appid": appid,
            }
            code["latest_auditid"] = auditid
            self.state.save()
        return js({"errcode": 0, "errmsg": "ok", "auditid": auditid})

    def audit_status(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        audit = self._code(appid)["audits"].get(str(req.json().get("auditid")))
        if not audit:
            return err(85012, "invalid audit id")
        return js(
            {
                "errcode": 0,
                "errmsg": "ok",
                "status": audit["status"],
                "reason": audit["reason"],
                "screenshot": audit["screenshot"],
            }
        )

    def latest_audit_status(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        code = self._code(appid)
        if not code["latest_auditid"]:
            return err(85058, "no audit")
        audit = code["audits"][str(code["latest_auditid"])]
        return js(
            {
                "errcode": 0,
                "errmsg": "ok",
                "auditid": audit["auditid"],
                "status": audit["status"],
                "reason": audit["reason"],
            }
        )

    def release(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        code = self._code(appid)
        audit = code["audits"].get(str(code["latest_auditid"])) if code["latest_auditid"] else None
        if not audit or audit["status"] != 0:
            return err(85019, "no approved version to release")
        if audit.get("released"):
            return err(85052, "this version is already released")
        with self.state.lock:
            audit["released"] = True
            code["previous"] = code["released"]
            code["released"] = {"version": audit["version"], "auditid": audit["auditid"], "at": now_iso()}
            self.state.save()
        return err(0, "ok")

    def revert(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        code = self._code(appid)
        if not code["previous"]:
            return err(87011, "no previous version to revert to")
        with self.state.lock:
            code["released"], code["previous"] = code["previous"], None
            self.state.save()
        return err(0, "ok")

    def decide_audit(self, auditid: str, action: str, reason: str = "") -> dict:
        for code in self.state.data["code"].values():
            audit = code["audits"].get(str(auditid))
            if audit:
                break
        else:
            raise KeyError(f"audit {auditid} not found")
        status, event = {
            "approve": (0, "weapp_audit_success"),
            "reject": (1, "weapp_audit_fail"),
            "delay": (4, "weapp_audit_delay"),
        }[action]
        with self.state.lock:
            audit["status"] = status
            audit["reason"] = reason if action != "approve" else ""
            self.state.save()
        fields = (
            {"SuccTime": str(int(time.time()))}
            if action == "approve"
            else {"Reason": reason or "审核未通过", "FailTime": str(int(time.time()))}
        )
        if action == "delay":
            fields = {"Reason": reason or "审核延后", "DelayTime": str(int(time.time()))}
        self._later(self.out.push_event, audit["appid"], event, **fields)
        return audit

    def phone_number(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        item = self.state.data["phone_codes"].get(req.json().get("code", ""))
        if not item or item["used"]:
            return err(40029, "invalid code")
        with self.state.lock:
            item["used"] = True
            self.state.save()
        phone = item["phone"]
        return js(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": phone,
                    "purePhoneNumber": phone,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": appid},
                },
            }
        )

    def subscribe_send(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        body = req.json()
        key = f"{appid}|{body.get('touser')}|{body.get('template_id')}"
        with self.state.lock:
            left = self.state.data["subscriptions"].get(key, 0)
            if left <= 0:
                return err(43101, "user refuse to accept the msg")
            self.state.data["subscriptions"][key] = left - 1
            self.state.data["messages"].append({"appid": appid, **body, "at": now_iso()})
            self.state.save()
        return js({"errcode": 0, "errmsg": "ok", "msgid": int(digits(10))})

    def wxacode(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        body = req.json()
        scene = body.get("scene", "")
        if not scene or len(scene) > 32:
            return err(40129, "invalid scene")
        return png(f"{self.base_url}/wxacode/{appid}?page={body.get('page') or ''}&scene={urllib.parse.quote(scene)}")

    # -- WeChat Pay v3 ----------------------------------------------------------------------
    def _signed(self, req: Request) -> None:
        reason = self.signer.verify_request(
            authorization=req.headers.get("Authorization", ""),
            method=req.method,
            path=req.full_path,
            body=req.body,
            mchid=self.s["mchid"],
            serial=self.s["merchant_serial"],
        )
        if reason:
            raise PayError(401, "SIGN_ERROR", reason)

    def _order_view(self, order: dict) -> dict:
        view = {
            k: order[k]
            for k in ("appid", "mchid", "out_trade_no", "trade_type", "trade_state", "trade_state_desc", "attach")
            if k in order
        }
        view["amount"] = {"total": order["amount"], "currency": "CNY"}
        if order["trade_state"] in ("SUCCESS", "REFUND"):
            view.update(
                transaction_id=order["transaction_id"],
                success_time=order["success_time"],
                bank_type="OTHERS",
                payer={"openid": order["payer_openid"]},
            )
            view["amount"].update(payer_total=order["amount"], payer_currency="CNY")
        return view

    def prepay(self, req: Request, kind: str) -> Response:
        self._signed(req)
        body = req.json()
        if body.get("mchid") != self.s["mchid"]:
            raise PayError(400, "PARAM_ERROR", "mchid 与请求签名的商户号不一致")
        no = body.get("out_trade_no", "")
        if not TRADE_NO_RE.match(no):
            raise PayError(400, "PARAM_ERROR", "out_trade_no 须为 6–32 位字母、数字或 _-|*")
        total = body.get("amount", {}).get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            raise PayError(400, "PARAM_ERROR", "amount.total 须为正整数（分）")
        if not str(body.get("notify_url", "")).startswith(("http://", "https://")):
            raise PayError(400, "PARAM_ERROR", "notify_url 格式不正确")
        if not body.get("description"):
            raise PayError(400, "PARAM_ERROR", "description 不能为空")
        openid = (body.get("payer") or {}).get("openid")
        if kind == "jsapi" and not openid:
            raise PayError(400, "PARAM_ERROR", "JSAPI 支付须传 payer.openid")
        with self.state.lock:
            orders = self.state.data["orders"]
            existing = orders.get(no)
            if existing:
                if existing["trade_state"] != "NOTPAY":
                    raise PayError(
                        400,
                        "ORDER_CLOSED" if existing["trade_state"] == "CLOSED" else "INVALID_REQUEST",
                        f"订单状态为 {existing['trade_state']}，不能再次下单",
                    )
                if existing["amount"] != total or existing["trade_type"] != kind.upper():
                    raise PayError(400, "INVALID_REQUEST", "商户订单号重复，参数与原单不一致")
                order = existing
            else:
                key = token("", 20)
                order = {
                    "appid": body.get("appid"),
                    "mchid": body["mchid"],
                    "out_trade_no": no,
                    "description": body["description"],
                    "trade_type": kind.upper(),
                    "trade_state": "NOTPAY",
                    "trade_state_desc": "订单未支付",
                    "attach": body.get("attach", ""),
                    "amount": total,
                    "refunded": 0,
                    "notify_url": body["notify_url"],
                    "payer_openid": openid or "",
                    "profit_sharing": bool((body.get("settle_info") or {}).get("profit_sharing")),
                    "prepay_id": "wx" + digits(10) + token("", 22),
                    "key": key,
                    "created": now_iso(),
                    "split": 0,
                }
                orders[no] = order
                self.state.data["prepay"][key] = no
                self.state.save()
        if kind == "native":
            return js({"code_url": f"{self.base_url}/pay/cashier/{order['key']}"})
        if kind == "h5":
            return js({"h5_url": f"{self.base_url}/pay/cashier/{order['key']}"})
        return js({"prepay_id": order["prepay_id"]})

    def _order(self, no: str) -> dict:
        order = self.state.data["orders"].get(no)
        if not order:
            raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order

    def query_order(self, req: Request, no: str) -> Response:
        self._signed(req)
        if req.query.get("mchid") != self.s["mchid"]:
            raise PayError(400, "PARAM_ERROR", "mchid 不正确")
        return js(self._order_view(self._order(no)))

    def query_order_by_id(self, req: Request, tid: str) -> Response:
        self._signed(req)
        for order in self.state.data["orders"].values():
            if order.get("transaction_id") == tid:
                return js(self._order_view(order))
        raise PayError(404, "ORDER_NOT_EXIST", "订单不存在")

    def close_order(self, req: Request, no: str) -> Response:
        self._signed(req)
        order = self._order(no)
        with self.state.lock:
            if order["trade_state"] in ("SUCCESS", "REFUND"):
                raise PayError(400, "ORDERPAID", "订单已支付，不能关闭")
            order["trade_state"], order["trade_state_desc"] = "CLOSED", "已关闭"
            self.state.save()
        return Response(b"", 204)

    def pay_order(self, key: str, openid: str | None = None) -> dict:
        no = self.state.data["prepay"].get(key) or key
        order = self._order(no)
        with self.state.lock:
            if order["trade_state"] != "NOTPAY":
                raise PayError(400, "INVALID_REQUEST", f"订单状态为 {order['trade_state']}")
            order.update(
                trade_state="SUCCESS",
                trade_state_desc="支付成功",
                transaction_id="4200" + digits(24),
                success_time=now_iso(),
                payer_openid=order["payer_openid"] or openid or "o" + token("", 27),
                paid_ts=time.time(),
            )
            self.state.save()
        self.out.notify(
            order["notify_url"],
            "TRANSACTION.SUCCESS",
            self._order_view(order) | {"trade_state_desc": "支付成功"},
            associated_data="transaction",
            original_type="transaction",
            summary="支付成功",
        )
        return order

    # refunds
    def _refund_view(self, refund: dict) -> dict:
        return {k: v for k, v in refund.items() if k not in ("notify_url",)}

    def refund(self, req: Request) -> Response:
        self._signed(req)
        body = req.json()
        out_refund_no = body.get("out_refund_no", "")
        if not OUT_NO_RE.match(out_refund_no):
            raise PayError(400, "PARAM_ERROR", "out_refund_no 格式不正确")
        if body.get("out_trade_no"):
            order = self._order(body["out_trade_no"])
        else:
            order = next(
                (
                    o
                    for o in self.state.data["orders"].values()
                    if o.get("transaction_id") == body.get("transaction_id")
                ),
                None,
            )
            if order is None:
                raise PayError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        amount = body.get("amount") or {}
        with self.state.lock:
            existing = self.state.data["refunds"].get(out_refund_no)
            if existing:
                return js(self._refund_view(existing))
            if order["trade_state"] not in ("SUCCESS", "REFUND"):
                raise PayError(400, "INVALID_REQUEST", "订单未支付，不能退款")
            if amount.get("total") != order["amount"]:
                raise PayError(400, "PARAM_ERROR", "amount.total 与原订单金额不一致")
            refund_fen = amount.get("refund")
            if not isinstance(refund_fen, int) or refund_fen <= 0:
                raise PayError(400, "PARAM_ERROR", "amount.refund 须为正整数（分）")
            if refund_fen > order["amount"] - order["refunded"]:
                raise PayError(400, "NOT_ENOUGH", "退款金额超过订单可退金额")
            order["refunded"] += refund_fen
            refund = {
                "refund_id": "5030" + digits(25),
                "out_refund_no": out_refund_no,
                "transaction_id": order["transaction_id"],
                "out_trade_no": order["out_trade_no"],
                "channel": "ORIGINAL",
                "user_received_account": "支付用户零钱",
                "create_time": now_iso(),
                "status": "PROCESSING",
                "funds_account": "AVAILABLE",
                "amount": {
                    "total": order["amount"],
                    "refund": refund_fen,
                    "payer_total": order["amount"],
                    "payer_refund": refund_fen,
                    "settlement_refund": refund_fen,
                    "settlement_total": order["amount"],
                    "discount_refund": 0,
                    "currency": "CNY",
                },
                "notify_url": body.get("notify_url") or order["notify_url"],
            }
            self.state.data["refunds"][out_refund_no] = refund
            self.state.save()
        outcome = self.state.data["config"]["refund_outcome"]
        if outcome != "manual":
            self._later(
                self.finish_refund, out_refund_no, outcome, delay=float(self.state.data["config"]["refund_delay"])
            )
        return js(self._refund_view(refund))

    def finish_refund(self, out_refund_no: str, outcome: str) -> dict:
        refund = self.state.data["refunds"][out_refund_no]
        with self.state.lock:
            if refund["status"] != "PROCESSING":
                return refund
            refund["status"] = outcome
            if outcome == "SUCCESS":
                refund["success_time"] = now_iso()
                order = self.state.data["orders"][refund["out_trade_no"]]
                order["trade_state"], order["trade_state_desc"] = "REFUND", "转入退款"
            else:
                order = self.state.data["orders"][refund["out_trade_no"]]
                order["refunded"] -= refund["amount"]["refund"]
            self.state.save()
        resource = {
            "mchid": self.s["mchid"],
            "out_trade_no": refund["out_trade_no"],
            "transaction_id": refund["transaction_id"],
            "out_refund_no": out_refund_no,
            "refund_id": refund["refund_id"],
            "refund_status": outcome,
            "user_received_account": refund["user_received_account"],
            "amount": {k: refund["amount"][k] for k in ("total", "refund", "payer_total", "payer_refund")},
        }
        if outcome == "SUCCESS":
            resource["success_time"] = refund["success_time"]
        summary = {"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}[outcome]
        self.out.notify(
            refund["notify_url"],
            f"REFUND.{outcome}",
            resource,
            associated_data="refund",
            original_type="refund",
            summary=summary,
        )
        return refund

    def query_refund(self, req: Request, no: str) -> Response:
        self._signed(req)
        refund = self.state.data["refunds"].get(no)
        if not refund:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return js(self._refund_view(refund))

    # profit sharing
    def ps_add_receiver(self, req: Request) -> Response:
        self._signed(req)
        body = req.json()
        for field in ("type", "account", "relation_type"):
            if not body.get(field):
                raise PayError(400, "PARAM_ERROR", f"{field} 不能为空")
        with self.state.lock:
            self.state.data["receivers"][f"{body['type']}|{body['account']}"] = body
            self.state.save()
        return js({k: body[k] for k in ("type", "account", "relation_type")})

    def ps_order(self, req: Request) -> Response:
        self._signed(req)
        body = req.json()
        out_order_no = body.get("out_order_no", "")
        with self.state.lock:
            if out_order_no in self.state.data["ps_orders"]:
                return js(self.state.data["ps_orders"][out_order_no])
            order = next(
                (
                    o
                    for o in self.state.data["orders"].values()
                    if o.get("transaction_id") == body.get("transaction_id")
                ),
                None,
            )
            if order is None or order["trade_state"] not in ("SUCCESS", "REFUND"):
                raise PayError(404, "RESOURCE_NOT_EXISTS", "微信订单不存在或未支付")
            if not order["profit_sharing"]:
                raise PayError(403, "NO_AUTH", "该订单下单时未指定分账（settle_info.profit_sharing）")
            if time.time() - order["paid_ts"] < self.state.data["config"]["profit_sharing_min_seconds"]:
                raise PayError(400, "INVALID_REQUEST", "支付完成后 1 分钟内不能分账")
            receivers = body.get("receivers") or []
            if not receivers or len(receivers) > 50:
                raise PayError(400, "PARAM_ERROR", "分账接收方须为 1–50 个")
            total = 0
            for rcv in receivers:
                if f"{rcv.get('type')}|{rcv.get('account')}" not in self.state.data["receivers"]:
                    raise PayError(400, "RECEIVER_INVALID", f"分账接收方 {rcv.get('account')} 未添加")
                if not isinstance(rcv.get("amount"), int) or rcv["amount"] <= 0:
                    raise PayError(400, "PARAM_ERROR", "分账金额须为正整数（分）")
                total += rcv["amount"]
            cap = order["amount"] * self.state.data["config"]["profit_sharing_max_bps"] // 10000
            if order["split"] + total > cap:
                raise PayError(400, "RATIO_EXCEED", "分账金额超出最大分账比例")
            order["split"] += total
            ps = {
                "transaction_id": order["transaction_id"],
                "out_order_no": out_order_no,
                "order_id": "3008" + digits(24),
                "state": "FINISHED",
                "receivers": [
                    {
                        "amount": rcv["amount"],
                        "description": rcv.get("description", ""),
                        "type": rcv["type"],
                        "account": rcv["account"],
                        "result": "SUCCESS",
                        "fail_reason": "",
                        "detail_id": "3600" + digits(24),
                        "create_time": now_iso(),
                        "finish_time": now_iso(),
                        "returned": 0,
                    }
                    for rcv in receivers
                ],
                "unfreeze_unsplit": bool(body.get("unfreeze_unsplit")),
            }
            self.state.data["ps_orders"][out_order_no] = ps
            self.state.save()
        return js(ps)

    def ps_query(self, req: Request, no: str) -> Response:
        self._signed(req)
        ps = self.state.data["ps_orders"].get(no)
        if not ps or ps["transaction_id"] != req.query.get("transaction_id"):
            raise PayError(404, "RESOURCE_NOT_EXISTS", "分账单不存在")
        return js(ps)

    def ps_unfreeze(self, req: Request) -> Response:
        self._signed(req)
        body = req.json()
        order = next(
            (o for o in self.state.data["orders"].values() if o.get("transaction_id") == body.get("transaction_id")),
            None,
        )
        if order is None:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "微信订单不存在")
        with self.state.lock:
            ps = self.state.data["ps_orders"].setdefault(
                body.get("out_order_no", ""),
                {
                    "transaction_id": order["transaction_id"],
                    "out_order_no": body.get("out_order_no"),
                    "order_id": "3008" + digits(24),
                    "receivers": [],
                },
            )
            ps["state"] = "FINISHED"
            ps["receivers"].append(
                {
                    "amount": order["amount"] - order["split"],
                    "description": body.get("description", ""),
                    "type": "MERCHANT_ID",
                    "account": self.s["mchid"],
                    "result": "SUCCESS",
                    "detail_id": "3600" + digits(24),
                    "finish_time": now_iso(),
                }
            )
            order["split"] = order["amount"]
            self.state.save()
        return js(ps)

    def ps_return(self, req: Request) -> Response:
        self._signed(req)
        body = req.json()
        with self.state.lock:
            out_return_no = body.get("out_return_no", "")
            if out_return_no in self.state.data["ps_returns"]:
                return js(self.state.data["ps_returns"][out_return_no])
            ps = self.state.data["ps_orders"].get(body.get("out_order_no", ""))
            if ps is None:
                raise PayError(404, "RESOURCE_NOT_EXISTS", "分账单不存在")
            rcv = next(
                (r for r in ps["receivers"] if r["type"] == "MERCHANT_ID" and r["account"] == body.get("return_mchid")),
                None,
            )
            if rcv is None:
                raise PayError(400, "INVALID_REQUEST", "回退商户不是该分账单的接收方")
            amount = body.get("amount")
            if not isinstance(amount, int) or amount <= 0 or amount > rcv["amount"] - rcv.get("returned", 0):
                raise PayError(400, "NOT_ENOUGH", "回退金额超过可回退金额")
            rcv["returned"] = rcv.get("returned", 0) + amount
            ret = {
                "order_id": ps["order_id"],
                "out_order_no": ps["out_order_no"],
                "out_return_no": out_return_no,
                "return_id": "3008" + digits(24),
                "return_mchid": body["return_mchid"],
                "amount": amount,
                "description": body.get("description", ""),
                "result": "SUCCESS",
                "create_time": now_iso(),
                "finish_time": now_iso(),
            }
            self.state.data["ps_returns"][out_return_no] = ret
            self.state.save()
        return js(ret)

    def ps_return_query(self, req: Request, no: str) -> Response:
        self._signed(req)
        ret = self.state.data["ps_returns"].get(no)
        if not ret:
            raise PayError(404, "RESOURCE_NOT_EXISTS", "回退单不存在")
        return js(ret)

    # merchant transfers
    def _transfer_view(self, t: dict) -> dict:
        return {k: v for k, v in t.items() if k not in ("notify_url",)}

    def transfer(self, req: Request) -> Response:
        self._signed(req)
        body = req.json()
        no = body.get("out_bill_no", "")
        if not re.match(r"^[0-9A-Za-z]{5,32}$", no):
            raise PayError(400, "PARAM_ERROR", "out_bill_no 须为 5–32 位字母或数字")
        amount = body.get("transfer_amount")
        if not isinstance(amount, int) or amount < 10:
            raise PayError(400, "PARAM_ERROR", "转账金额不能低于 0.10 元")
        if body.get("user_name") and amount < 30:
            raise PayError(400, "PARAM_ERROR", "转账金额低于 0.30 元时不能传收款用户姓名")
        if amount >= 200000 and not body.get("user_name"):
            raise PayError(400, "PARAM_ERROR", "转账金额达到 2,000 元时须传收款用户姓名")
        if not body.get("openid"):
            raise PayError(400, "PARAM_ERROR", "openid 不能为空")
        with self.state.lock:
            existing = self.state.data["transfers"].get(no)
            if existing:
                return js(self._transfer_view(existing) | {"package_info": existing["package_info"]})
            t = {
                "mch_id": self.s["mchid"],
                "out_bill_no": no,
                "transfer_bill_no": "1330" + digits(36),
                "appid": body.get("appid"),
                "state": "WAIT_USER_CONFIRM",
                "transfer_amount": amount,
                "transfer_remark": body.get("transfer_remark", ""),
                "openid": body["openid"],
                "create_time": now_iso(),
                "update_time": now_iso(),
                "package_info": token("ABBQO+oYAAABAAAAAAB", 40),
                "notify_url": body.get("notify_url", ""),
            }
            self.state.data["transfers"][no] = t
            self.state.save()
        return js({k: t[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state", "package_info")})

    def _transfer(self, no: str) -> dict:
        t = self.state.data["transfers"].get(no)
        if not t:
            raise PayError(404, "NOT_FOUND", "转账单不存在")
        return t

    def transfer_query(self, req: Request, no: str) -> Response:
        self._signed(req)
        return js(self._transfer_view(self._transfer(no)))

    def transfer_cancel(self, req: Request, no: str) -> Response:
        self._signed(req)
        t = self._transfer(no)
        if t["state"] not in ("WAIT_USER_CONFIRM", "ACCEPTED", "PROCESSING"):
            raise PayError(400, "INVALID_REQUEST", f"转账单状态为 {t['state']}，不能撤销")
        self.finish_transfer(no, "CANCELLED", "商户撤销")
        return js(
            {
                "out_bill_no": no,
                "transfer_bill_no": t["transfer_bill_no"],
                "state": "CANCELING",
                "update_time": t["update_time"],
            }
        )

    def finish_transfer(self, no: str, state: str, reason: str = "") -> dict:
        t = self._transfer(no)
        with self.state.lock:
            if t["state"] != "WAIT_USER_CONFIRM":
                raise PayError(400, "INVALID_REQUEST", f"转账单状态为 {t['state']}")
            t["state"] = state
            t["update_time"] = now_iso()
            if reason:
                t["fail_reason"] = reason
            self.state.save()
        if t["notify_url"]:
            resource = {
                k: t[k]
                for k in (
                    "out_bill_no",
                    "transfer_bill_no",
                    "state",
                    "mch_id",
                    "transfer_amount",
                    "openid",
                    "create_time",
                    "update_time",
                )
            }
            if reason:
                resource["fail_reason"] = reason
            self.out.notify(
                t["notify_url"],
                "MCHTRANSFER.BILL.FINISHED",
                resource,
                associated_data="mch_payment",
                original_type="mch_payment",
                summary="商家转账单据终态通知",
            )
        return t

    # -- pages --------------------------------------------------------------------------------
    def cashier(self, req: Request, key: str) -> Response:
        no = self.state.data["prepay"].get(key)
        order = self.state.data["orders"].get(no or "")
        if not order:
            return html(pages.message("收银台", "订单不存在或已失效。"), 404)
        return html(pages.cashier(order, key, req.query.get("done", "")))

    def cashier_submit(self, req: Request, key: str) -> Response:
        form = req.form()
        if form.get("action") == "pay":
            try:
                self.pay_order(key)
            except PayError as exc:
                return html(pages.message("支付失败", exc.message), 400)
            return redirect(f"/pay/cashier/{key}?done=paid")
        return redirect(f"/pay/cashier/{key}?done=cancelled")

    def inspector(self, req: Request) -> Response:
        return html(pages.inspector(self.snapshot(), self.state.entries()[-300:][::-1], self.base_url))

    def inspector_action(self, req: Request) -> Response:
        form = req.form()
        try:
            self.act(form.get("name", ""), form)
        except (PayError, KeyError, ValueError) as exc:
            return html(pages.message("操作失败", getattr(exc, "message", str(exc))), 400)
        return redirect("/_emulator/")

    def snapshot(self) -> dict:
        with self.state.lock:
            d = self.state.data
            return json.loads(
                json.dumps(
                    {k: d[k] for k in d if k not in ("notifies",)}
                    | {
                        "notifies": {
                            k: {kk: vv for kk, vv in v.items() if kk != "body"} for k, v in d["notifies"].items()
                        },
                        "faults": self.state.faults,
                        "secrets": {"component_appid": self.s["component_appid"], "mchid": self.s["mchid"]},
                    }
                )
            )

    # -- test API -----------------------------------------------------------------------------
    def api_log(self, req: Request) -> Response:
        return js({"entries": self.state.entries(req.query.get("kind") or None, int(req.query.get("since", 0)))})

    def api(self, req: Request, name: str) -> Response:
        try:
            return js(self.act(name, req.json()))
        except PayError as exc:
            return js({"error": exc.message, "code": exc.code}, exc.status)
        except (KeyError, ValueError, TypeError) as exc:
            return js({"error": f"{exc.__class__.__name__}: {exc}"}, 400)

    def act(self, name: str, p: dict):
        d = self.state.data
        if name == "login-code":  # wx.login() in the mini-program
            code = token("", 32)
            openid = p.get("openid") or "o" + token("", 27)
            with self.state.lock:
                d["js_codes"][code] = {"appid": p["appid"], "openid": openid, "used": False}
                self.state.save()
            return {"code": code, "openid": openid}
        if name == "phone-code":  # getPhoneNumber's button
            code = token("", 32)
            with self.state.lock:
                d["phone_codes"][code] = {"phone": p["phone"], "used": False}
                self.state.save()
            return {"code": code}
        if name == "subscribe":  # the user accepts a one-time subscription
            key = f"{p['appid']}|{p['openid']}|{p['template_id']}"
            with self.state.lock:
                d["subscriptions"][key] = d["subscriptions"].get(key, 0) + 1
                self.state.save()
            return {"allowed": d["subscriptions"][key]}
        if name == "push-ticket":
            status, answer = self.out.push_ticket()
            return {"status": status, "answer": answer}
        if name == "authorize":  # a merchant scans and confirms (without the page)
            code = self._authorize(p["appid"], p.get("nickname", ""))
            status, answer = (
                self.out.push_component(
                    "authorized",
                    AuthorizerAppid=p["appid"],
                    AuthorizationCode=code,
                    AuthorizationCodeExpiredTime=str(int(time.time()) + 3600),
                    PreAuthCode="",
                )
                if p.get("push", True)
                else (0, "")
            )
            return {"auth_code": code, "push_status": status}
        if name == "unauthorize":
            with self.state.lock:
                d["accounts"][p["appid"]]["authorized"] = False
                d["accounts"][p["appid"]]["tokens"] = {}
                self.state.save()
            status, _ = self.out.push_component("unauthorized", AuthorizerAppid=p["appid"])
            return {"push_status": status}
        if name == "audit":
            return self.decide_audit(str(p["auditid"]), p["action"], p.get("reason", ""))
        if name == "pay":
            order = self.pay_order(p.get("key") or p["out_trade_no"], p.get("openid"))
            return self._order_view(order)
        if name == "refund":  # decide a refund left in PROCESSING (refund_outcome "manual")
            return self._refund_view(
                self.finish_refund(
                    p["out_refund_no"], {"fail": "ABNORMAL", "close": "CLOSED"}.get(p["action"], "SUCCESS")
                )
            )
        if name == "transfer":
            state, reason = {
                "confirm": ("SUCCESS", ""),
                "expire": ("CANCELLED", "用户 24 小时内未确认收款，转账已关闭"),
            }[p["action"]]
            return self._transfer_view(self.finish_transfer(p["out_bill_no"], state, reason))
        if name == "expire-tokens":  # WeChat invalidates tokens early (42001 on the next call)
            with self.state.lock:
                if p.get("kind", "all") in ("all", "component"):
                    d["component"]["tokens"] = {t: 0 for t in d["component"]["tokens"]}
                if p.get("kind", "all") in ("all", "authorizer"):
                    for appid, account in d["accounts"].items():
                        if not p.get("appid") or p["appid"] == appid:
                            account["tokens"] = {t: 0 for t in account["tokens"]}
                self.state.save()
            return {"ok": True}
        if name == "revoke-tokens":  # tokens unknown to WeChat (40001)
            with self.state.lock:
                for appid, account in d["accounts"].items():
                    if not p.get("appid") or p["appid"] == appid:
                        account["tokens"] = {}
                self.state.save()
            return {"ok": True}
        if name == "faults":  # the next `count` calls under `prefix` answer `status` and/or wait `delay` s
            with self.state.lock:
                if p.get("clear"):
                    self.state.faults.clear()
                else:
                    self.state.faults.append(
                        {
                            "prefix": p["prefix"],
                            "status": p.get("status"),
                            "delay": p.get("delay"),
                            "count": int(p.get("count", 1)),
                        }
                    )
            return {"faults": self.state.faults}
        if name == "config":
            with self.state.lock:
                for k, v in p.items():
                    if k in d["config"]:
                        d["config"][k] = v
                self.state.save()
            return d["config"]
        if name == "redeliver":  # WeChat sends the same notify again (its retries)
            results = [self.out.deliver(p["id"])[0] for _ in range(int(p.get("times", 1)))]
            return {"statuses": results}
        if name == "notifies":
            return {
                "notifies": [
                    {"id": k, **{kk: vv for kk, vv in v.items() if kk != "body"}} for k, v in d["notifies"].items()
                ]
            }
        if name == "notify-body":
            return {"body": d["notifies"][p["id"]]["body"], "url": d["notifies"][p["id"]]["url"]}
        raise KeyError(f"unknown action {name}")

    def _later(self, fn, *args, delay: float = 0.05, **kwargs) -> None:
        def run():
            time.sleep(delay)
            fn(*args, **kwargs)

        threading.Thread(target=run, daemon=True).start()


def _printable(body: bytes):
    if not body:
        return ""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes>"
    try:
        return json.loads(text)
    except ValueError:
        return text[:4000]
