"""The emulator's own test API and inspector (``/_emulator/…``): what tests and developers use
to play WeChat's and the user's part (login codes, scans, audits, payments, faults)."""

from __future__ import annotations

import json
import time

from tools.wechat_emulator import pages
from tools.wechat_emulator.http import PayError, Request, Response, html, js, png, redirect
from tools.wechat_emulator.state import token


class TestAPI:
    ROUTES = [
        ("GET", "/qr.png", "qr_image"),
        ("GET", "/", "home"),
        ("GET", "/_emulator/", "inspector"),
        ("POST", "/_emulator/action", "inspector_action"),
        ("GET", "/_emulator/health", "health"),
        ("GET", "/_emulator/api/log", "api_log"),
        ("GET", "/_emulator/api/state", "api_state"),
        ("POST", '/_emulator/api/<re("[a-z\\-]+"):name>', "api"),
    ]

    def inspector(self, req: Request) -> Response:
        return html(pages.inspector(self.snapshot(), self.state.entries()[-300:][::-1], self.base_url))

    def inspector_action(self, req: Request) -> Response:
        form = req.fields()
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
            return js(self.act(name, req.payload()))
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
        if name == "phone-code":  # getPhoneNumber's button (the code is good once, for 5 minutes, in one mini-program)
            code = token("", 32)
            with self.state.lock:
                d["phone_codes"][code] = {
                    "phone": p["phone"],
                    "country_code": str(p.get("country_code", "86")),
                    "appid": p.get("appid", ""),
                    "expires": int(time.time()) + int(p.get("ttl", 300)),
                    "used": False,
                }
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
        if name == "pay-duplicate":  # the same order paid a second time (another transaction id)
            return self._order_view(self.pay_duplicate(p["out_trade_no"], p.get("amount")))
        if name == "refund":  # decide a refund left in PROCESSING (refund_outcome "manual")
            return self._refund_view(
                self.finish_refund(
                    p["out_refund_no"], {"fail": "ABNORMAL", "close": "CLOSED"}.get(p["action"], "SUCCESS")
                )
            )
        if name == "transfer":  # the user and WeChat move a transfer bill (see transfers.py)
            no = p.get("out_bill_no") or next(
                (t["out_bill_no"] for t in d["transfers"].values() if t["transfer_bill_no"] == p["transfer_bill_no"]),
                "",
            )
            return self._transfer_view(self.move_transfer(no, p["action"], p.get("fail_reason", "")))
        if name == "profitsharing":  # WeChat finishes a split's receivers: outcome success | closed
            return self.finish_profit_sharing(
                p["out_order_no"],
                p.get("outcome", "success"),
                account=p.get("account"),
                reason=p.get("fail_reason", ""),
            )
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

    def qr_image(self, req: Request) -> Response:
        return png(req.query.get("data", "")[:1000] or "empty")

    def home(self, req: Request) -> Response:
        return redirect("/_emulator/")

    def health(self, req: Request) -> Response:
        return js({"ok": True})

    def api_state(self, req: Request) -> Response:
        return js(self.snapshot())
