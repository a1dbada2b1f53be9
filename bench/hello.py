"""Throughput benchmark: a plain Django JSON view vs a one-query tenant API view, side by side.

    make bench        # or: .venv/bin/python -m infra.devstack exec .venv/bin/python bench/hello.py

On the separate database ``fenxiao_bench`` (bench/_common.py): migrate_all + seed_demo, then
gunicorn (sync workers, 4 by default) on a free loopback port with bench/settings_bench.py:

* plain:  ``GET /bench/plain`` with ``Host: localhost:<port>`` - a Django view returning a small
  JsonResponse, through the full middleware stack (tenant resolution: one Domain lookup).
* tenant: ``GET /api/v1/products/<id>`` with ``Host: xianguo.localhost:<port>`` - the DRF product
  detail view of the demo tenant after tenant resolution, served from the per-tenant storefront
  cache (``mall/catalog/storefront_cache.py``: one Redis round trip, no SQL once warm).
  ``cached_detail_ratio`` = tenant_rps / plain_rps (issue 10 target: ≥ 0.5).
* bare:   ``GET /bench/bare`` - the same JsonResponse from a middleware placed before tenant
  resolution (no query, no other middleware). ``--no-bare`` skips it.

Load: ``wrk`` when installed (``-t2 -c16``), else a Python generator (processes, one HTTP/1.1
connection each, reconnecting when the server closes it). Targets are measured in turn, ``--rounds``
times; the figure is the median round. Output: key=value lines on stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, emit, log, machine_figures, median, setup_django

VENV_BIN = Path(sys.executable).parent
TENANT_SLUG = "xianguo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, host: str, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            status, _ = get(port, f"localhost:{port}", "/bench/bare")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer in time")


# --- load generators -------------------------------------------------------------------------


def _client(port: int, host: str, path: str, start_at: float, deadline: float, out) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ok = non2xx = errors = 0
    latency = 0.0
    conn = None
    while time.monotonic() < start_at:
        time.sleep(0.001)
    while True:
        t0 = time.monotonic()
        if t0 >= deadline:
            break
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Host": host})
            resp = conn.getresponse()
            resp.read()
            t1 = time.monotonic()
            if resp.will_close:  # gunicorn's sync workers close after every response
                conn.close()
                conn = None
            if t1 > deadline:
                break
            if 200 <= resp.status < 300:
                ok += 1
                latency += t1 - t0
            else:
                non2xx += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
    out.send((ok, non2xx, errors, latency))
    out.close()


def run_python(port: int, host: str, path: str, duration: float, connections: int) -> dict:
    ctx = multiprocessing.get_context("fork")
    start_at = time.monotonic() + 0.5
    deadline = start_at + duration
    procs, pipes = [], []
    for _ in range(connections):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_client, args=(port, host, path, start_at, deadline, send), daemon=True)
        p.start()
        send.close()
        procs.append(p)
        pipes.append(recv)
    ok = non2xx = errors = 0
    latency = 0.0
    for recv, p in zip(pipes, procs, strict=True):
        if recv.poll(duration + 30):
            a, b, c, d = recv.recv()
            ok, non2xx, errors, latency = ok + a, non2xx + b, errors + c, latency + d
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
    return {
        "rps": ok / duration,
        "requests": ok,
        "non2xx": non2xx,
        "errors": errors,
        "latency_ms": latency / ok * 1000 if ok else float("nan"),
    }


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def run_wrk(port: int, host: str, path: str, duration: float, connections: int, threads: int) -> dict:
    cmd = [
        shutil.which("wrk") or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{int(duration)}s",
        "--timeout",
        "10s",
        "-H",
        f"Host: {host}",
        f"http://127.0.0.1:{port}{path}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    lat = re.search(r"Latency\s+([\d.]+)(us|ms|s|m)\b", out)
    return {
        "rps": rps,
        "requests": requests,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "latency_ms": float(lat.group(1)) * _UNITS[lat.group(2)] if lat else float("nan"),
    }


# --- main ------------------------------------------------------------------------------------


def prepare() -> int:
    """migrate_all + seed_demo on the bench database; returns a product id of the demo tenant."""
    from django.core.management import call_command
    from django.db import connections
    from django_tenants.utils import schema_context

    from mall.catalog.selectors import shelf_products
    from tenants.models import Tenant

    log("migrate_all + seed_demo on the bench database (first run: a minute or two)…")
    call_command("migrate_all", verbosity=0, stdout=sys.stderr)
    call_command("seed_demo", stdout=sys.stderr)
    tenant = Tenant.objects.get(slug=TENANT_SLUG)
    with schema_context(tenant.schema_name):
        product_id = shelf_products().order_by("pk").values_list("pk", flat=True).first()
    if product_id is None:
        raise RuntimeError(f"the demo tenant {TENANT_SLUG} has no product on the shelf")
    connections.close_all()
    return product_id


def queries_per_request(targets: dict[str, tuple[str, str]]) -> dict[str, int]:
    """SQL statements per request, counted in-process with Django's test client after one warm-up
    request (the connection health check, run at the start of each real request by
    CONN_HEALTH_CHECKS, bypasses Django's cursor wrappers and is not counted)."""
    from django.db import connection, connections
    from django.test import Client

    counts = {}
    client = Client()
    for name, (host, path) in targets.items():
        host = host.split(":")[0]
        client.get(path, HTTP_HOST=host)  # warm (caches, first search_path)
        statements: list[str] = []

        def count(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            resp = client.get(path, HTTP_HOST=host)
        if resp.status_code != 200:
            raise RuntimeError(f"{name}: {path} on {host} answered {resp.status_code}")
        counts[name] = len(statements)
        log(f"{name}: {len(statements)} statements: " + " | ".join(s.split(" FROM ")[0][:40] for s in statements))
    connections.close_all()
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per target and round")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of untimed load per target first")
    parser.add_argument("--rounds", type=int, default=2, help="measure every target this many times, in turn")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--connections", type=int, help="concurrent connections (default: 16 wrk, 8 python)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--no-bare", action="store_true", help="skip /bench/bare")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.rounds < 1 or args.workers < 1:
        parser.error("--duration, --rounds and --workers must be at least 1")

    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "python"
    if loadgen == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed")
    connections = args.connections or (16 if loadgen == "wrk" else 8)

    setup_django("bench.settings_bench")
    for key, value in machine_figures().items():
        emit(key, value)
    product_id = prepare()

    port = free_port()
    targets = {
        "plain": (f"localhost:{port}", "/bench/plain"),
        "tenant": (f"{TENANT_SLUG}.localhost:{port}", f"/api/v1/products/{product_id}"),
    }
    if not args.no_bare:
        targets["bare"] = (f"localhost:{port}", "/bench/bare")
    for name, count in queries_per_request(targets).items():
        emit(f"{name}_queries", count)

    env = dict(os.environ, PUBLIC_PORT=str(port), DJANGO_SETTINGS_MODULE="bench.settings_bench", LOG_LEVEL="WARNING")
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    log(f"gunicorn ({args.workers} sync workers) on 127.0.0.1:{port}")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)
    results: dict[str, list[dict]] = {name: [] for name in targets}
    try:
        wait_ready(port, server)
        for name, (host, path) in targets.items():
            status, body = get(port, host, path)
            if status != 200:
                raise RuntimeError(f"{name}: GET {path} (Host {host}) answered {status}: {body[:200]!r}")
            if name == "tenant" and json.loads(body).get("id") != product_id:
                raise RuntimeError(f"tenant: unexpected body {body[:200]!r}")

        def load(host: str, path: str, seconds: float) -> dict:
            if loadgen == "wrk":
                return run_wrk(port, host, path, seconds, connections, args.threads)
            return run_python(port, host, path, seconds, connections)

        log(f"load generator: {loadgen}, {connections} connections, {args.duration:g}s x {args.rounds} rounds")
        if args.warmup > 0:
            for host, path in targets.values():
                load(host, path, max(1.0, args.warmup))
        for r in range(args.rounds):
            for name, (host, path) in targets.items():
                res = load(host, path, args.duration)
                results[name].append(res)
                log(f"round {r + 1} {name}: {res['rps']:.0f} req/s, {res['latency_ms']:.2f} ms mean latency")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        from django.core.cache import cache

        cache.clear()  # the bench Redis database only

    emit("loadgen", loadgen)
    emit("connections", connections)
    if loadgen == "wrk":
        emit("wrk_threads", args.threads)
    emit("workers", args.workers)
    emit("duration_s", args.duration)
    emit("rounds", args.rounds)
    emit("product_id", product_id)
    figures = {}
    for name, runs in results.items():
        figures[name] = median([run["rps"] for run in runs])
        emit(f"{name}_rps", figures[name])
        emit(f"{name}_rps_rounds", "/".join(f"{run['rps']:.0f}" for run in runs))
        emit(f"{name}_latency_ms", median([run["latency_ms"] for run in runs]))
        emit(f"{name}_non2xx", sum(run["non2xx"] for run in runs))
        emit(f"{name}_errors", sum(run["errors"] for run in runs))
    emit("ratio", figures["tenant"] / figures["plain"])
    emit("cached_detail_ratio", figures["tenant"] / figures["plain"])
    if "bare" in figures:
        emit("tenant_vs_bare", figures["tenant"] / figures["bare"])
    emit("loadavg_after", machine_figures()["loadavg"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
