"""/healthz: database, cache/broker and Celery worker liveness."""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse


def _check(fn):
    start = time.monotonic()
    try:
        detail = fn()
        return {"ok": True, "ms": round((time.monotonic() - start) * 1000, 1), **(detail or {})}
    except Exception as exc:  # health reports failures, it does not raise them
        return {"ok": False, "ms": round((time.monotonic() - start) * 1000, 1), "error": str(exc)[:300]}


def _database():
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()


def _cache():
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", 5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just set")
    cache.delete(key)


def _broker():
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _worker():
    from config.celery import app

    replies = app.control.ping(timeout=0.5)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return {"workers": sorted(name for reply in replies for name in reply)}


def healthz(request):
    checks = {
        "database": _check(_database),
        "cache": _check(_cache),
        "broker": _check(_broker),
        "celery": _check(_worker),
    }
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)
