"""Shared set-up of the benchmarks: a separate database and Redis database, never the developer's.

Both scripts run under ``python -m infra.devstack exec`` (``make bench``), which exports
DATABASE_URL and REDIS_URL. Before Django is set up, :func:`use_bench_services` points them at

* the database ``fenxiao_bench`` (or ``BENCH_DATABASE``) on the same PostgreSQL server (created if
  missing), and
* the Redis/Valkey logical database ``BENCH_REDIS_DB`` (default 15) on the same server, so cache
  entries and Celery messages published by the benchmarks never reach the developer's.

The new values are written to ``os.environ``, so child processes (gunicorn) inherit them.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DATABASE", "fenxiao_bench")  # another name for parallel runs
BENCH_REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "15"))

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    """Progress goes to stderr; stdout carries only the key=value figures."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def emit(key: str, value) -> None:
    if isinstance(value, float):
        value = f"{value:.2f}"
    print(f"{key}={value}", flush=True)


def _with_path(url: str, path: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=path))


def bench_database_url(url: str) -> str:
    return _with_path(url, f"/{BENCH_DB}")


def bench_redis_url(url: str) -> str:
    return _with_path(url, f"/{BENCH_REDIS_DB}")


def ensure_database(url: str) -> None:
    """Create ``fenxiao_bench`` if missing, connecting to ``postgres`` on the same server."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    params = {
        "dbname": "postgres",
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
    }
    params = {k: v for k, v in params.items() if v not in (None, "")}
    with psycopg.connect(autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
        if not exists:
            log(f"creating database {cfg['NAME']}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))


def use_bench_services() -> dict[str, str]:
    """Switch this process (and its children) to the bench database and Redis database."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        sys.exit("DATABASE_URL and REDIS_URL must be set: run via `python -m infra.devstack exec ...` (make bench)")
    db_url = bench_database_url(database_url)
    r_url = bench_redis_url(redis_url)
    ensure_database(db_url)
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": r_url,
        "CACHE_URL": r_url,
        "CELERY_BROKER_URL": r_url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_DJANGO_SETTINGS", "config.settings"),
        # Measure what production runs: DEBUG off (no per-query recording). BENCH_DEBUG=1 to override.
        "DEBUG": os.environ.get("BENCH_DEBUG", "0"),
    }
    os.environ.update(env)
    return env


def setup_django(settings_module: str = "config.settings") -> None:
    os.environ["BENCH_DJANGO_SETTINGS"] = settings_module
    use_bench_services()
    import django

    django.setup()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine_figures() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = "n/a"
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu.replace(" ", "_"),
        "python": platform.python_version(),
        "loadavg": load.replace(" ", "/"),
    }
