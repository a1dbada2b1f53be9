"""The emulator's WSGI application (werkzeug): WeChat's open-platform and mini-program APIs,
WeChat Pay v3 and merchant transfers, the scan-to-authorize page, the cashier, the inspector and
a test API (``/_emulator/api/…``). Each API family is one module; ``Emulator`` composes them and
owns the plumbing every call shares (faults, Pay response signatures, the call log)."""

from __future__ import annotations

import json
import threading
import time

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from tools.wechat_emulator import pages
from tools.wechat_emulator.http import PayError, RegexConverter, Request, Response, err, html, js, text
from tools.wechat_emulator.miniprogram import MiniProgramAPI
from tools.wechat_emulator.open_platform import OpenPlatformAPI
from tools.wechat_emulator.outbound import Outbound
from tools.wechat_emulator.pay import PayAPI
from tools.wechat_emulator.signing import Signer
from tools.wechat_emulator.state import State
from tools.wechat_emulator.test_api import TestAPI
from tools.wechat_emulator.transfers import TransfersAPI

FAMILIES = (OpenPlatformAPI, MiniProgramAPI, PayAPI, TransfersAPI, TestAPI)


class Emulator(OpenPlatformAPI, MiniProgramAPI, PayAPI, TransfersAPI, TestAPI):
    def __init__(self, *, state: State, signer: Signer, outbound: Outbound, secrets_: dict, base_url: str):
        self.state = state
        self.signer = signer
        self.out = outbound
        self.s = secrets_
        self.base_url = base_url.rstrip("/")
        self.url_map = Map(
            [
                Rule(rule, methods=[method], endpoint=name)
                for family in FAMILIES
                for method, rule, name in family.ROUTES
            ],
            converters={"re": RegexConverter},
            strict_slashes=False,
        )

    # -- plumbing ---------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        req = Request(environ)
        started = time.time()
        fault = self.state.take_fault(req.path) if not req.path.startswith(("/_emulator", "/pay/cashier")) else None
        if fault and fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault and fault.get("status"):
            resp = js({"code": "SYSTEM_ERROR", "message": "系统繁忙，请稍后重试"}, int(fault["status"]))
            if not req.path.startswith("/v3/"):
                resp = text("upstream error", int(fault["status"]))
        else:
            resp = self.dispatch(req)
        if req.path.startswith("/v3/"):
            for name, value in self.signer.response_headers(resp.get_data()):
                resp.headers[name] = value
        if not req.path.startswith(("/_emulator", "/static")):
            body = resp.get_data()
            self.state.record(
                "call",
                method=req.method,
                path=req.full_path,
                status=resp.status_code,
                request=_printable(req.body),
                response=_printable(body)
                if "json" in resp.content_type
                else f"<{resp.content_type}, {len(body)} bytes>",
                ms=int((time.time() - started) * 1000),
            )
        return resp(environ, start_response)

    def dispatch(self, req: Request) -> Response:
        try:
            name, args = self.url_map.bind_to_environ(req.environ).match()
        except HTTPException:  # no such API, or not with this method
            if req.path.startswith("/v3/"):
                return js({"code": "NOT_FOUND", "message": "接口不存在"}, 404)
            if req.method == "POST":
                return err(-1, f"unknown api {req.path}")
            return html(pages.not_found(req.path), 404)
        try:
            return getattr(self, name)(req, **args)
        except PayError as exc:
            return js({"code": exc.code, "message": exc.message}, exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            if req.path.startswith("/v3/"):
                return js({"code": "PARAM_ERROR", "message": f"参数错误：{exc}"}, 400)
            return err(47001, f"data format error: {exc}")

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
