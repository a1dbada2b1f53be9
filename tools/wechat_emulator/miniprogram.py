"""The mini-program API family (authorizer access token): code commit, experience QR, audit,
release and revert, phone numbers, subscribe messages and mini-program codes."""

from __future__ import annotations

import json
import time
import urllib.parse

from tools.wechat_emulator.http import Request, Response, err, js, png
from tools.wechat_emulator.state import digits, now_iso


class MiniProgramAPI:
    ROUTES = [
        ("POST", "/wxa/commit", "commit"),
        ("GET", "/wxa/get_qrcode", "experience_qrcode"),
        ("POST", "/wxa/submit_audit", "submit_audit"),
        ("POST", "/wxa/get_auditstatus", "audit_status"),
        ("GET", "/wxa/get_latest_auditstatus", "latest_audit_status"),
        ("POST", "/wxa/release", "release"),
        ("GET", "/wxa/revertcoderelease", "revert"),
        ("POST", "/wxa/business/getuserphonenumber", "phone_number"),
        ("POST", "/cgi-bin/message/subscribe/send", "subscribe_send"),
        ("POST", "/wxa/getwxacodeunlimit", "wxacode"),
    ]

    # -- mini-program code --------------------------------------------------------------------
    def _code(self, appid: str) -> dict:
        return self.state.data["code"].setdefault(
            appid, {"commit": None, "audits": {}, "latest_auditid": None, "released": None, "previous": None}
        )

    def commit(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        body = req.payload()
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
                "item_list": req.payload().get("item_list", []),
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
        audit = self._code(appid)["audits"].get(str(req.payload().get("auditid")))
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
        item = self.state.data["phone_codes"].get(req.payload().get("code", ""))
        if not item or item["used"] or (item.get("appid") and item["appid"] != appid):
            return err(40029, "invalid code")
        if item.get("expires") and item["expires"] < time.time():
            return err(40029, "code expired")
        with self.state.lock:
            item["used"] = True
            self.state.save()
        phone, country = item["phone"], str(item.get("country_code", "86"))
        return js(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {  # as WeChat: phoneNumber carries the country code for numbers outside China
                    "phoneNumber": phone if country == "86" else f"+{country}{phone}",
                    "purePhoneNumber": phone,
                    "countryCode": country,
                    "watermark": {"timestamp": int(time.time()), "appid": appid},
                },
            }
        )

    def subscribe_send(self, req: Request) -> Response:
        appid, bad = self._authorizer(req)
        if bad:
            return bad
        body = req.payload()
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
        body = req.payload()
        scene = body.get("scene", "")
        if not scene or len(scene) > 32:
            return err(40129, "invalid scene")
        return png(f"{self.base_url}/wxacode/{appid}?page={body.get('page') or ''}&scene={urllib.parse.quote(scene)}")
