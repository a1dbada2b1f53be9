"""The tracking API client (Kuaidi100/Cainiao style), the only code that talks to it.

Protocol (what ``tools/carrier_emulator`` speaks too). Every request and every push carries
``X-Logistics-Customer`` (our account), ``X-Logistics-Timestamp`` (Unix seconds) and
``X-Logistics-Signature`` = hex HMAC-SHA256 of ``"<timestamp>.<body>"`` with ``LOGISTICS_KEY``.

* ``POST /v1/subscribe`` ``{"carrier", "tracking_no", "callback_url"}`` → ``{"code": "ok"}``;
  subscribing again is harmless. From then on the carrier pushes the parcel's whole track to
  ``callback_url`` on every change.
* ``POST /v1/query`` ``{"carrier", "tracking_no"}`` → ``{"code": "ok", "state", "events"}``;
  404 ``{"code": "not_found"}`` for a parcel the carrier has no record of.
* Push body: ``{"carrier", "tracking_no", "state", "events": [{"state", "description",
  "location", "time"}]}`` (ISO 8601 times); we answer 2xx once it is recorded.

States: ``collected`` → ``in_transit`` → ``delivering`` → ``delivered`` (``exception`` too).
Retries with backoff on 5xx, connection errors and timeouts (both calls are idempotent)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_datetime
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from integrations.logistics.errors import (
    LogisticsAPIError,
    LogisticsNotFound,
    LogisticsSignatureError,
    LogisticsUnavailable,
)

STATES = ("collected", "in_transit", "delivering", "delivered", "exception")
HEADER_CUSTOMER = "X-Logistics-Customer"
HEADER_TIMESTAMP = "X-Logistics-Timestamp"
HEADER_SIGNATURE = "X-Logistics-Signature"


@dataclass(frozen=True)
class TrackStep:
    state: str
    description: str
    location: str
    occurred_at: datetime


@dataclass(frozen=True)
class Track:
    carrier: str
    tracking_no: str
    state: str
    events: list[TrackStep] = field(default_factory=list)


def sign(key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(key: str, customer: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    ts = str(int(now if now is not None else time.time()))
    return {
        "Content-Type": "application/json",
        HEADER_CUSTOMER: customer,
        HEADER_TIMESTAMP: ts,
        HEADER_SIGNATURE: sign(key, ts, body),
    }


def parse_track(data: Mapping) -> Track:
    """A push body or a query answer → ``Track``; malformed data raises ``LogisticsAPIError``."""
    try:
        carrier = str(data["carrier"])
        tracking_no = str(data["tracking_no"])
        state = str(data.get("state") or "")
        steps = []
        for raw in data.get("events") or []:
            when = parse_datetime(str(raw["time"]))
            if when is None or when.tzinfo is None:
                raise ValueError(f"bad time {raw.get('time')!r}")
            step_state = str(raw.get("state") or "")
            if step_state not in STATES:
                raise ValueError(f"unknown state {step_state!r}")
            steps.append(
                TrackStep(
                    state=step_state,
                    description=str(raw.get("description") or "")[:200],
                    location=str(raw.get("location") or "")[:60],
                    occurred_at=when,
                )
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LogisticsAPIError("bad_payload", f"物流数据格式错误：{exc}") from exc
    if state and state not in STATES:
        raise LogisticsAPIError("bad_payload", f"未知的物流状态：{state}")
    return Track(carrier=carrier, tracking_no=tracking_no, state=state, events=steps)


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, *args, timeout, **kwargs):
        self._timeout = timeout
        super().__init__(*args, **kwargs)

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class LogisticsClient:
    def __init__(
        self,
        *,
        base_url: str | None = None,
        key: str | None = None,
        customer: str | None = None,
    ):
        self.base_url = (base_url if base_url is not None else settings.LOGISTICS_API_BASE).rstrip("/")
        self.key = key if key is not None else settings.LOGISTICS_KEY
        self.customer = customer if customer is not None else settings.LOGISTICS_CUSTOMER
        retries = settings.LOGISTICS_RETRIES
        adapter = _TimeoutAdapter(
            timeout=(settings.LOGISTICS_CONNECT_TIMEOUT, settings.LOGISTICS_READ_TIMEOUT),
            max_retries=Retry(
                total=retries,
                connect=retries,
                read=retries,
                status=retries,
                backoff_factor=settings.LOGISTICS_RETRY_BACKOFF,
                status_forcelist=(500, 502, 503, 504),
                allowed_methods=None,  # POST too: subscribe and query are idempotent
                raise_on_status=False,
                respect_retry_after_header=False,
            ),
        )
        self.session = requests.Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _require(self, *, key_only: bool = False) -> None:
        missing = [n for n, v in (("LOGISTICS_KEY", self.key),) if not v]
        if not key_only:
            missing += [
                n for n, v in (("LOGISTICS_API_BASE", self.base_url), ("LOGISTICS_CUSTOMER", self.customer)) if not v
            ]
        if missing:
            raise ImproperlyConfigured(f"the tracking API is not configured: {', '.join(missing)}")

    # -- calls ------------------------------------------------------------------------------
    def _post(self, path: str, payload: dict) -> dict:
        self._require()
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            resp = self.session.post(
                f"{self.base_url}{path}", data=body, headers=signed_headers(self.key, self.customer, body)
            )
        except requests.RequestException as exc:
            raise LogisticsUnavailable(None, f"物流接口无法连接或超时：{exc.__class__.__name__}") from exc
        if resp.status_code >= 500:
            raise LogisticsUnavailable(None, f"物流接口暂时不可用（HTTP {resp.status_code}）", status=resp.status_code)
        try:
            data = resp.json()
        except ValueError as exc:
            raise LogisticsAPIError("bad_response", f"物流接口返回了无法解析的内容（HTTP {resp.status_code}）") from exc
        if resp.status_code >= 400 or data.get("code") != "ok":
            code, message = str(data.get("code") or resp.status_code), str(data.get("message") or "")
            cls = LogisticsNotFound if resp.status_code == 404 or code == "not_found" else LogisticsAPIError
            raise cls(code, message, status=resp.status_code)
        return data

    def subscribe(self, *, carrier: str, tracking_no: str, callback_url: str, phone: str = "") -> None:
        """Ask the carrier to push this parcel's track to ``callback_url`` (idempotent)."""
        payload = {"carrier": carrier, "tracking_no": tracking_no, "callback_url": callback_url}
        if phone:
            payload["phone"] = phone
        self._post("/v1/subscribe", payload)

    def query(self, *, carrier: str, tracking_no: str) -> Track:
        """The parcel's whole track now (``LogisticsNotFound`` when the carrier has none)."""
        data = self._post("/v1/query", {"carrier": carrier, "tracking_no": tracking_no})
        return parse_track({"carrier": carrier, "tracking_no": tracking_no, **data})

    # -- pushes -----------------------------------------------------------------------------
    def parse_push(self, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> Track:
        """Verify a push (signature over timestamp and body, timestamp within
        ``LOGISTICS_PUSH_MAX_SKEW_SECONDS``) and parse it. A bad one raises
        ``LogisticsSignatureError``; a well-signed but malformed one ``LogisticsAPIError``."""
        self._require(key_only=True)
        ts = headers.get(HEADER_TIMESTAMP) or ""
        given = headers.get(HEADER_SIGNATURE) or ""
        if not ts or not given:
            raise LogisticsSignatureError("missing_signature", "缺少签名")
        if not hmac.compare_digest(sign(self.key, ts, body), given):
            raise LogisticsSignatureError("bad_signature", "签名不正确")
        try:
            skew = abs((now if now is not None else time.time()) - int(ts))
        except ValueError as exc:
            raise LogisticsSignatureError("bad_timestamp", "时间戳格式错误") from exc
        if skew > settings.LOGISTICS_PUSH_MAX_SKEW_SECONDS:
            raise LogisticsSignatureError("stale", "推送时间戳超出允许范围")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise LogisticsAPIError("bad_payload", "推送内容不是有效的 JSON") from exc
        if not isinstance(data, dict):
            raise LogisticsAPIError("bad_payload", "推送内容格式错误")
        return parse_track(data)
