"""The carrier emulator's WSGI app (werkzeug). It signs and verifies on its own (HMAC-SHA256 of
``"<timestamp>.<body>"``), independently of our client, so the tests check the protocol."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

CARRIERS = {
    "shunfeng": "顺丰速运",
    "zhongtong": "中通快递",
    "yuantong": "圆通速递",
    "yunda": "韵达快递",
    "shentong": "申通快递",
    "jtexpress": "极兔速递",
    "jd": "京东物流",
    "ems": "邮政 EMS",
    "youzhengguonei": "邮政快递包裹",
    "debangwuliu": "德邦快递",
}
# (state, description, location): the route every parcel takes here.
STEPS = (
    ("collected", "【杭州市】{carrier} 快递员已揽收", "杭州市"),
    ("in_transit", "快件已到达【上海转运中心】，正发往下一站", "上海市"),
    ("delivering", "快件已到达【北京朝阳营业点】，快递员正在派送", "北京市"),
    ("delivered", "快件已签收，签收人：本人，感谢使用{carrier}", "北京市"),
)
DEFAULT_RETRY_SECONDS = (1, 2, 5, 10, 30, 60)
MAX_SKEW = 300


def sign(key: str, ts: str, body: bytes) -> str:
    return hmac.new(key.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()


def js(data, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")


@dataclass
class Parcel:
    carrier: str
    tracking_no: str
    callback_url: str = ""
    unknown: bool = False
    events: list[dict] = field(default_factory=list)
    next_at: float | None = None
    pushes: list[dict] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.events[-1]["state"] if self.events else ""

    def track(self) -> dict:
        return {"carrier": self.carrier, "tracking_no": self.tracking_no, "state": self.state, "events": self.events}


class CarrierEmulator:
    def __init__(self, *, key: str, customer: str, step_seconds: float = 20.0, retry_seconds=None):
        self.key = key
        self.customer = customer
        self.step_seconds = step_seconds
        self.retry_seconds = tuple(retry_seconds or DEFAULT_RETRY_SECONDS)
        self.lock = threading.RLock()
        self.parcels: dict[str, Parcel] = {}
        self.unknown: set[str] = set()
        self.faults: dict[str, list[int]] = {}
        self.calls: list[dict] = []
        self.url_map = Map(
            [
                Rule("/v1/subscribe", methods=["POST"], endpoint="subscribe"),
                Rule("/v1/query", methods=["POST"], endpoint="query"),
                Rule("/_emulator/health", methods=["GET"], endpoint="health"),
                Rule("/_emulator/api/state", methods=["GET"], endpoint="state"),
                Rule("/_emulator/api/advance", methods=["POST"], endpoint="advance"),
                Rule("/_emulator/api/push", methods=["POST"], endpoint="repush"),
                Rule("/_emulator/api/unknown", methods=["POST"], endpoint="mark_unknown"),
                Rule("/_emulator/api/fault", methods=["POST"], endpoint="fault"),
                Rule("/_emulator/api/step-seconds", methods=["POST"], endpoint="set_step_seconds"),
            ]
        )

    # -- plumbing ---------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        req = Request(environ)
        with self.lock:
            pending = self.faults.get(req.path)
            status = pending.pop(0) if pending else None
        if status:
            resp = js({"code": "system_error", "message": "系统繁忙"}, status)
        else:
            try:
                endpoint, args = self.url_map.bind_to_environ(environ).match()
                resp = getattr(self, endpoint)(req, **args)
            except HTTPException as exc:
                resp = js({"code": "not_found", "message": "接口不存在"}, exc.code or 404)
            except (ValueError, KeyError, TypeError) as exc:
                resp = js({"code": "invalid", "message": f"参数错误：{exc}"}, 400)
        if not req.path.startswith("/_emulator"):
            with self.lock:
                self.calls.append({"path": req.path, "status": resp.status_code, "at": time.time()})
        return resp(environ, start_response)

    def start(self) -> None:
        threading.Thread(target=self._ticker, name="carrier-ticker", daemon=True).start()

    def _ticker(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self.lock:
                due = [p for p in self.parcels.values() if p.next_at is not None and p.next_at <= now]
                for p in due:
                    p.next_at = None
            for parcel in due:
                self._advance(parcel)
                with self.lock:
                    if parcel.state != "delivered" and self.step_seconds > 0:
                        parcel.next_at = time.monotonic() + self.step_seconds

    def _verified(self, req: Request) -> dict:
        body = req.get_data(cache=True)
        ts = req.headers.get("X-Logistics-Timestamp", "")
        given = req.headers.get("X-Logistics-Signature", "")
        if req.headers.get("X-Logistics-Customer") != self.customer:
            raise PermissionError("unknown customer")
        if not ts or not hmac.compare_digest(sign(self.key, ts, body), given):
            raise PermissionError("bad signature")
        if abs(time.time() - int(ts)) > MAX_SKEW:
            raise PermissionError("stale timestamp")
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
        return data

    @staticmethod
    def _key(carrier: str, tracking_no: str) -> str:
        return f"{carrier}:{tracking_no}"

    # -- the API ----------------------------------------------------------------------------
    def subscribe(self, req: Request) -> Response:
        try:
            data = self._verified(req)
        except PermissionError as exc:
            return js({"code": "unauthorized", "message": f"签名验证失败：{exc}"}, 401)
        carrier, no, url = str(data["carrier"]), str(data["tracking_no"]).strip(), str(data["callback_url"])
        if carrier not in CARRIERS:
            return js({"code": "invalid_carrier", "message": f"不支持的快递公司：{carrier}"}, 400)
        if not no or len(no) > 40:
            return js({"code": "invalid_tracking_no", "message": "运单号格式错误"}, 400)
        if not url.startswith(("http://", "https://")):
            return js({"code": "invalid_callback", "message": "回调地址格式错误"}, 400)
        key = self._key(carrier, no)
        with self.lock:
            parcel = self.parcels.get(key) or Parcel(carrier=carrier, tracking_no=no)
            parcel.callback_url = url
            parcel.unknown = parcel.unknown or key in self.unknown
            if not parcel.unknown and not parcel.events and parcel.next_at is None and self.step_seconds > 0:
                parcel.next_at = time.monotonic() + self.step_seconds
            self.parcels[key] = parcel
        return js({"code": "ok", "message": "订阅成功"})

    def query(self, req: Request) -> Response:
        try:
            data = self._verified(req)
        except PermissionError as exc:
            return js({"code": "unauthorized", "message": f"签名验证失败：{exc}"}, 401)
        with self.lock:
            parcel = self.parcels.get(self._key(str(data["carrier"]), str(data["tracking_no"])))
            if parcel is None or parcel.unknown or not parcel.events:
                return js({"code": "not_found", "message": "查询无结果，请隔段时间再查"}, 404)
            return js({"code": "ok", **parcel.track()})

    # -- pushes -----------------------------------------------------------------------------
    def _advance(self, parcel: Parcel, steps: int = 1, push: bool = True) -> int:
        with self.lock:
            if parcel.unknown:
                return 0
            for _ in range(steps):
                if len(parcel.events) >= len(STEPS):
                    break
                state, text, location = STEPS[len(parcel.events)]
                parcel.events.append(
                    {
                        "state": state,
                        "description": text.format(carrier=CARRIERS[parcel.carrier]),
                        "location": location,
                        "time": datetime.now(UTC).isoformat(),
                    }
                )
        return self._push(parcel) if push else 0

    def _push_once(self, parcel: Parcel) -> int:
        with self.lock:
            body = json.dumps(parcel.track(), ensure_ascii=False).encode()
            url = parcel.callback_url
        if not url:
            return 0
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Logistics-Customer": self.customer,
            "X-Logistics-Timestamp": ts,
            "X-Logistics-Signature": sign(self.key, ts, body),
        }
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 (loopback)
                status, answer = resp.status, resp.read(500).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read(500).decode("utf-8", "replace")
        except OSError as exc:
            status, answer = 0, f"{exc.__class__.__name__}: {exc}"
        with self.lock:
            parcel.pushes.append({"status": status, "answer": answer, "state": parcel.state, "at": time.time()})
        return status

    def _push(self, parcel: Parcel) -> int:
        status = self._push_once(parcel)
        if not 200 <= status < 300 and parcel.callback_url:

            def retry():
                for wait in self.retry_seconds:
                    time.sleep(wait)
                    if 200 <= self._push_once(parcel) < 300:
                        return

            threading.Thread(target=retry, daemon=True).start()
        return status

    # -- test API ---------------------------------------------------------------------------
    def _parcel(self, data: dict) -> Parcel | None:
        with self.lock:
            return self.parcels.get(self._key(str(data["carrier"]), str(data["tracking_no"])))

    def health(self, req: Request) -> Response:
        return js({"ok": True})

    def state(self, req: Request) -> Response:
        with self.lock:
            return js(
                {
                    "parcels": {
                        k: {**p.track(), "callback_url": p.callback_url, "unknown": p.unknown, "pushes": p.pushes}
                        for k, p in self.parcels.items()
                    },
                    "calls": self.calls[-200:],
                    "step_seconds": self.step_seconds,
                }
            )

    def advance(self, req: Request) -> Response:
        """Advance a subscribed parcel ``steps`` steps now (default 1) and push its track
        (``"push": false``: the push is lost, as real carriers' pushes sometimes are; only a
        query finds the new steps)."""
        data = json.loads(req.get_data() or b"{}")
        parcel = self._parcel(data)
        if parcel is None:
            return js({"code": "not_found", "message": "未订阅的运单"}, 404)
        with self.lock:
            parcel.next_at = None
        status = self._advance(parcel, int(data.get("steps", 1)), push=bool(data.get("push", True)))
        return js({"code": "ok", "state": parcel.state, "push_status": status})

    def repush(self, req: Request) -> Response:
        """Push the parcel's current track again (a carrier's duplicate push)."""
        parcel = self._parcel(json.loads(req.get_data() or b"{}"))
        if parcel is None:
            return js({"code": "not_found", "message": "未订阅的运单"}, 404)
        return js({"code": "ok", "push_status": self._push(parcel)})

    def mark_unknown(self, req: Request) -> Response:
        """This tracking number is unknown to the carrier: subscribing works, no track ever comes."""
        data = json.loads(req.get_data() or b"{}")
        key = self._key(str(data["carrier"]), str(data["tracking_no"]))
        with self.lock:
            self.unknown.add(key)
            if key in self.parcels:
                self.parcels[key].unknown = True
                self.parcels[key].next_at = None
        return js({"code": "ok"})

    def fault(self, req: Request) -> Response:
        """The next ``count`` calls to ``path`` answer ``status``."""
        data = json.loads(req.get_data() or b"{}")
        with self.lock:
            self.faults.setdefault(str(data["path"]), []).extend([int(data["status"])] * int(data.get("count", 1)))
        return js({"code": "ok"})

    def set_step_seconds(self, req: Request) -> Response:
        data = json.loads(req.get_data() or b"{}")
        with self.lock:
            self.step_seconds = float(data["seconds"])
        return js({"code": "ok"})
