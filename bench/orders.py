"""Orders benchmark: place and pay orders through the real HTTP stack.

    .venv/bin/python -m infra.devstack exec .venv/bin/python bench/orders.py [--seconds 20] [--clients 8]

On the separate database ``fenxiao_bench`` (bench/_common.py): migrate_all + seed_demo, a bench
product with a large stock in the demo store 鲜果园 and one shopper (with a delivery address)
per client. Then gunicorn (sync workers) with the WeChat Pay settings of a WeChat emulator
started for the run (its keys are generated at start), and ``--clients`` load processes, each
repeating, on its own keep-alive connection:

1. ``POST /api/v1/orders`` (checkout: SKU row locks, stock, shipping, snapshots; Bearer token);
2. ``POST /wechat/pay/notify/`` (platform host): the TRANSACTION.SUCCESS notify WeChat Pay would
   send for that order, signed with the emulator's platform key and AEAD-encrypted with its
   API v3 key, exactly as the emulator sends it; our view verifies, decrypts and records the
   payment (``record_payment``), which marks the order paid.

A paid order is one whose notify was answered 200. Afterwards the bench checks in the database
that every answered order is paid exactly once. Output: key=value lines (``orders_per_s``,
``p50_ms``, ``p95_ms`` of checkout + notify per order, ``checkout_p95_ms``, ``notify_p95_ms``…).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import ROOT, emit, log, machine_figures, setup_django

VENV_BIN = Path(sys.executable).parent
TENANT_SLUG = "xianguo"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, host: str, path: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path, headers={"Host": host})
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"127.0.0.1:{port} not ready in {timeout}s")


def prepare(clients: int) -> dict:
    from django.core.management import call_command
    from django.db import connections
    from django_tenants.utils import schema_context

    from mall.api.auth import issue_token
    from mall.catalog.actions import create_product
    from mall.customers.actions import login_shopper, save_address
    from tenants.models import Tenant

    log("migrate_all + seed_demo on the bench database (first run: a minute or two)…")
    call_command("migrate_all", verbosity=0, stdout=sys.stderr)
    call_command("seed_demo", stdout=sys.stderr)
    tenant = Tenant.objects.get(slug=TENANT_SLUG)
    with schema_context(tenant.schema_name):
        product = create_product(
            title=f"压测商品 {uuid.uuid4().hex[:6]}",
            weight_g=500,
            skus=[{"name": "标准装", "price_fen": 1990, "stock": 10_000_000}],
        )
        sku_id = product.skus.get().pk
        tokens = []
        for i in range(clients):
            customer = login_shopper(openid=f"bench-orders-{uuid.uuid4().hex}")
            save_address(
                customer=customer,
                receiver=f"压测{i}",
                phone="13900009999",
                province="浙江省",
                city="杭州市",
                district="西湖区",
                detail="文三路 100 号压测楼",
            )
            tokens.append(issue_token(customer))
    connections.close_all()
    return {"tenant_id": tenant.pk, "schema": tenant.schema_name, "sku_id": sku_id, "tokens": tokens}


def start_emulator(data_dir: Path, web_port: int) -> tuple[subprocess.Popen, dict, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "tools.wechat_emulator",
            "--port", str(port), "--data-dir", str(data_dir),
            "--callback-base", f"http://localhost:{web_port}", "--no-persist",
        ],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (data_dir / "env.json").exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("the WeChat emulator did not start")
        time.sleep(0.2)
    time.sleep(0.5)
    return proc, json.loads((data_dir / "env.json").read_text()), port


def _signer(data_dir: Path):
    from tools.wechat_emulator.signing import Signer

    s = json.loads((data_dir / "secrets.json").read_text())
    return Signer(
        platform_private_pem=(data_dir / "platform_private.pem").read_bytes(),
        merchant_public_pem=(data_dir / "merchant_public.pem").read_bytes(),
        public_key_id=s["public_key_id"],
        apiv3_key=s["apiv3_key"],
    )


def client_loop(args) -> list[tuple[float, float, bool]]:
    """One load process: checkout + notify until the deadline; (checkout s, notify s, paid)."""
    port, token, sku_id, tenant_id, data_dir, mchid, appid, start_at, deadline = args
    signer = _signer(Path(data_dir))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    results = []
    while time.time() < start_at:
        time.sleep(0.01)
    body = json.dumps({"items": [{"sku_id": sku_id, "quantity": 1}]})
    while time.time() < deadline:
        t0 = time.perf_counter()
        conn.request(
            "POST",
            "/api/v1/orders",
            body=body,
            headers={
                "Host": f"{TENANT_SLUG}.localhost",
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
        resp = conn.getresponse()
        order = json.loads(resp.read())
        t1 = time.perf_counter()
        if resp.status != 201:
            results.append((t1 - t0, 0.0, False))
            continue
        resource = {
            "appid": appid,
            "mchid": mchid,
            "out_trade_no": f"{tenant_id}_{order['order_no']}",
            "transaction_id": "4200" + secrets.token_hex(12),
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "payer": {"openid": "o-bench"},
            "amount": {"total": order["total_fen"], "payer_total": order["total_fen"], "currency": "CNY"},
        }
        notify = json.dumps(
            {
                "id": secrets.token_hex(18),
                "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": signer.encrypt_resource(resource, "transaction", "transaction"),
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Host": "localhost", "Content-Type": "application/json"}
        headers.update(dict(signer.response_headers(notify)))
        conn.request("POST", "/wechat/pay/notify/", body=notify, headers=headers)
        resp = conn.getresponse()
        resp.read()
        t2 = time.perf_counter()
        results.append((t1 - t0, t2 - t1, resp.status == 200))
    conn.close()
    return results


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=8, help="concurrent load processes")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds first")
    args = parser.parse_args(argv)

    setup_django("bench.settings_bench")
    for key, value in machine_figures().items():
        emit(key, value)
    info = prepare(args.clients)
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-wechat-"))
    emulator, wx_env, _emu_port = start_emulator(tmp, port)
    env = dict(
        os.environ,
        **{k: str(v) for k, v in wx_env.items()},
        PUBLIC_PORT=str(port),
        DJANGO_SETTINGS_MODULE="bench.settings_bench",
        LOG_LEVEL="WARNING",
    )
    cmd = [
        str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--worker-class", "sync", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    log(f"gunicorn ({args.workers} sync workers) on 127.0.0.1:{port}, {args.clients} clients")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        wait_http(port, f"{TENANT_SLUG}.localhost", "/api/v1/store", server)
        mchid, appid = wx_env.get("WECHAT_PAY_MCHID", ""), wx_env.get("WECHAT_PAY_APPID", "")

        def run(seconds: float) -> list:
            start_at = time.time() + 1.0
            jobs = [
                (port, token, info["sku_id"], info["tenant_id"], str(tmp), mchid, appid, start_at, start_at + seconds)
                for token in info["tokens"]
            ]
            with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
                return [r for chunk in pool.map(client_loop, jobs) for r in chunk]

        if args.warmup > 0:
            run(args.warmup)
        results = run(args.seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        emulator.terminate()

    paid = [r for r in results if r[2]]
    failed = len(results) - len(paid)
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from mall.orders.models import Order
    from mall.payments.models import Payment

    with schema_context(info["schema"]):
        orders = Order.objects.filter(lines__sku_id=info["sku_id"])
        paid_rows = orders.filter(status="paid").count()
        doubles = Payment.objects.values("order_id").annotate(n=Count("id")).filter(n__gt=1).count()
    emit("workers", args.workers)
    emit("clients", args.clients)
    emit("seconds", args.seconds)
    emit("orders_paid", len(paid))
    emit("orders_failed", failed)
    emit("orders_per_s", len(paid) / args.seconds)
    emit("p50_ms", pct([a + b for a, b, ok in paid], 50))
    emit("p95_ms", pct([a + b for a, b, ok in paid], 95))
    emit("checkout_p95_ms", pct([a for a, _b, ok in paid], 95))
    emit("notify_p95_ms", pct([b for _a, b, ok in paid], 95))
    emit("db_paid_orders", paid_rows)
    emit("db_orders_paid_twice", doubles)
    emit("loadavg_after", machine_figures()["loadavg"])
    return 0 if doubles == 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
