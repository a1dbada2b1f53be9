"""The emulator's memory: one dict, guarded by a lock, saved as JSON after each change (so a
second `make run` finds the same authorizers, orders and refunds), plus a call log."""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

CST = timezone(timedelta(hours=8))
LOG_LIMIT = 3000


def now_iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts or time.time(), CST).isoformat(timespec="seconds")


def empty() -> dict:
    return {
        "component": {"ticket": "", "tokens": {}},
        "pre_auth_codes": {},
        "auth_codes": {},
        "accounts": {},
        "js_codes": {},
        "phone_codes": {},
        "subscriptions": {},
        "messages": [],
        "code": {},
        "drafts": [{"draft_id": 1, "user_version": "1.0.0", "user_desc": "商城模板", "create_time": 0}],
        "templates": [],
        "orders": {},
        "prepay": {},
        "refunds": {},
        "receivers": {},
        "ps_orders": {},
        "ps_returns": {},
        "transfers": {},
        "notifies": {},
        "config": {
            "refund_outcome": "SUCCESS",  # SUCCESS | ABNORMAL | CLOSED | manual
            "refund_delay": 0.3,
            "profit_sharing_max_bps": 3000,
            "profit_sharing_min_seconds": 0,
            "profit_sharing_outcome": "SUCCESS",  # SUCCESS | CLOSED | manual (receivers stay PENDING)
            "profit_sharing_delay": 0.3,
        },
    }


class State:
    def __init__(self, path: Path | None):
        self.path = path
        self.lock = threading.RLock()
        self.data = empty()
        if path and path.exists():
            loaded = json.loads(path.read_text())
            self.data.update(loaded)
        self.log: list[dict] = []
        self._log_ids = itertools.count(1)
        self.faults: list[dict] = []

    def save(self) -> None:
        if not self.path:
            return
        with self.lock:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, ensure_ascii=False))
            tmp.replace(self.path)

    def record(self, kind: str, **entry) -> dict:
        with self.lock:
            item = {"id": next(self._log_ids), "at": now_iso(), "ts": time.time(), "kind": kind, **entry}
            self.log.append(item)
            del self.log[:-LOG_LIMIT]
            return item

    def entries(self, kind: str | None = None, since: int = 0) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(e) for e in self.log if e["id"] > since and (kind is None or e["kind"] == kind)]

    # -- fault injection: the next N calls under a path prefix fail or are slow -----------
    def take_fault(self, path: str) -> dict | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault["prefix"]) and fault["count"] > 0:
                    fault["count"] -= 1
                    return dict(fault)
        return None


def token(prefix: str = "", n: int = 24) -> str:
    return prefix + secrets.token_urlsafe(n).replace("-", "").replace("_", "")[:n]


def digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))
