"""/healthz: database, cache/broker and Celery worker liveness, answered within
``HEALTH_TIMEOUT_SECONDS`` even when a service hangs.

Every check runs in its own thread and the answer waits for them at most the health timeout; a
check still running then is reported as failed ("timed out"). The database probe opens a fresh
connection with a short ``connect_timeout`` and ``statement_timeout`` (a PostgreSQL that accepts
and never answers, or one stopped with SIGSTOP, costs one second, not a hung worker). A probe
that is still stuck from an earlier request is not started again: it is reported as stuck.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

_in_flight: dict[str, float] = {}
_lock = threading.Lock()


def _database():
    import psycopg

    params = connection.get_connection_params()
    timeout = max(1, int(settings.HEALTH_TIMEOUT_SECONDS))
    keep = {k: params[k] for k in ("dbname", "user", "password", "host", "port") if params.get(k)}
    with psycopg.connect(
        **keep, connect_timeout=timeout, options=f"-c statement_timeout={int(timeout * 1000)}", autocommit=True
    ) as conn:
        conn.execute("SELECT 1").fetchone()


def _cache():
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", 5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just set")
    cache.delete(key)


def _broker():
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)


def _worker():
    from config.celery import app

    # The first reply is enough (limit=1 returns at once); a worker on a busy machine may take
    # most of the health timeout to answer, which still means it is live.
    wait = max(0.5, float(settings.HEALTH_TIMEOUT_SECONDS) - 0.3)
    replies = app.control.ping(timeout=wait, limit=1)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return {"workers": sorted(name for reply in replies for name in reply)}


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "celery": _worker}


def _run(name: str, fn, results: dict) -> None:
    start = time.monotonic()
    try:
        detail = fn()
        results[name] = {"ok": True, "ms": round((time.monotonic() - start) * 1000, 1), **(detail or {})}
    except Exception as exc:  # health reports failures, it does not raise them
        results[name] = {"ok": False, "ms": round((time.monotonic() - start) * 1000, 1), "error": str(exc)[:300]}
    finally:
        with _lock:
            _in_flight.pop(name, None)


def run_checks(timeout: float | None = None) -> dict:
    timeout = settings.HEALTH_TIMEOUT_SECONDS if timeout is None else timeout
    results: dict = {}
    threads = []
    started = time.monotonic()
    for name, fn in CHECKS.items():
        with _lock:
            stuck_since = _in_flight.get(name)
            if stuck_since is None:
                _in_flight[name] = started
        if stuck_since is not None:
            waited = round(started - stuck_since, 1)
            results[name] = {"ok": False, "ms": 0.0, "error": f"an earlier check is still waiting ({waited} s)"}
            continue
        thread = threading.Thread(target=_run, args=(name, fn, results), name=f"healthz-{name}", daemon=True)
        thread.start()
        threads.append((name, thread))
    for name, thread in threads:
        thread.join(max(0.0, timeout - (time.monotonic() - started)))
        if name not in results:
            results[name] = {"ok": False, "ms": round(timeout * 1000, 1), "error": f"timed out after {timeout} s"}
    return {name: results[name] for name in CHECKS}


def healthz(request):
    checks = run_checks()
    ok = all(c["ok"] for c in checks.values())
    body = {"status": "ok" if ok else "fail", "checks": checks}
    if run := os.environ.get("FENXIAO_RUN_TOKEN"):  # `make run`: proves the answer is from our server
        body["run"] = run
    return JsonResponse(body, status=200 if ok else 503)
