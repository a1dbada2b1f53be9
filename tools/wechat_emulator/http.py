"""The emulator's HTTP layer, on werkzeug: a request with the few shortcuts the handlers use,
response helpers in WeChat's shapes, and the error a WeChat Pay handler raises."""

from __future__ import annotations

import io
import json
import urllib.parse

import segno
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Request as _Request
from werkzeug.wrappers import Response


class Request(_Request):
    """werkzeug's request; ``query`` holds the last value of each query argument, ``body`` the raw
    bytes (WeChat Pay signs them), ``payload()`` and ``fields()`` parse JSON and form bodies."""

    @property
    def query(self) -> dict:
        return {k: v[-1] for k, v in self.args.lists()}

    @property
    def body(self) -> bytes:
        return self.get_data(cache=True)

    @property
    def full_path(self) -> str:  # the signed path: no trailing "?" when there is no query
        qs = self.query_string.decode("latin-1")
        return self.path + (f"?{qs}" if qs else "")

    def payload(self) -> dict:
        if not self.body:
            return {}
        data = json.loads(self.body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    def fields(self) -> dict:  # parsed from the cached body, so the call log still shows it
        return {k: v[-1] for k, v in urllib.parse.parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


class RegexConverter(BaseConverter):
    """``<re("jsapi|native|h5"):kind>`` in a rule."""

    def __init__(self, url_map, regex: str):
        super().__init__(url_map)
        self.regex = regex


def js(data, status=200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


def err(errcode: int, errmsg: str) -> Response:
    return js({"errcode": errcode, "errmsg": errmsg})


def html(body: str, status=200) -> Response:
    return Response(body, status, content_type="text/html; charset=utf-8")


def text(body: str, status=200) -> Response:
    return Response(body, status, content_type="text/plain")


def redirect(url: str) -> Response:
    return Response(b"", 302, content_type="text/plain", headers=[("Location", url)])


def png(data: str) -> Response:
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="png", scale=6, border=2)
    return Response(buf.getvalue(), 200, content_type="image/png")


class PayError(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message
