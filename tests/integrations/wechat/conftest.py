"""The WeChat emulator as a real subprocess on a free loopback port, our web app (gunicorn)
receiving its pushes and notifies, and a store of our own (``wx_tenant``) whose mini-program
binding the tests may change freely.

* ``emulator`` (session): the emulator; this test process's settings point at it (the real
  SDKs talk to it over HTTP). ``emulator.api(name, **payload)`` drives its test API.
* ``wechat_web`` (session): gunicorn on the test database with the same WeChat settings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.conftest import ARTIFACTS, ROOT, _provision, free_port, subprocess_env, wait_for, wait_ready

BIN = Path(sys.executable).parent


@dataclass
class Emulator:
    url: str
    env: dict
    web_port: int
    data_dir: Path

    def api(self, name: str, **payload):
        resp = requests.post(f"{self.url}/_emulator/api/{name}", json=payload, timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def log(self, kind: str | None = None, since: int = 0) -> list[dict]:
        params = {"since": since, **({"kind": kind} if kind else {})}
        return requests.get(f"{self.url}/_emulator/api/log", params=params, timeout=10).json()["entries"]

    def last_log_id(self) -> int:
        entries = self.log()
        return entries[-1]["id"] if entries else 0

    def state(self) -> dict:
        return requests.get(f"{self.url}/_emulator/api/state", timeout=10).json()


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory, django_db_setup):
    data_dir = tmp_path_factory.mktemp("wechat-emulator")
    port, web_port = free_port(), free_port()
    log_dir = ARTIFACTS / f"wechat-{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "tools.wechat_emulator",
            "--port", str(port),
            "--data-dir", str(data_dir),
            "--callback-base", f"http://localhost:{web_port}",
            "--notify-retry-seconds", "0.3,0.5,1,1,2,2,3",
            "--no-persist",
        ],
        cwd=ROOT,
        stdout=open(log_dir / "emulator.log", "wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        logs = [log_dir / "emulator.log"]
        wait_ready(lambda: (data_dir / "env.json").exists(), what="emulator env.json", procs=[proc], logs=logs)
        wait_for(f"{url}/_emulator/health", "127.0.0.1", procs=[proc], logs=logs)
        env = json.loads((data_dir / "env.json").read_text())
        env["WECHAT_NOTIFY_BASE_URL"] = f"http://localhost:{web_port}"
        saved = {k: getattr(settings, k) for k in env}
        for k, v in env.items():
            setattr(settings, k, v)
        # Short waits in tests: a retry after 50 ms, a timeout after 2 s.
        tuning = {"WECHAT_RETRY_BACKOFF": 0.05, "WECHAT_READ_TIMEOUT": 2.0, "WECHAT_RETRIES": 2}
        saved.update({k: getattr(settings, k) for k in tuning})
        for k, v in tuning.items():
            setattr(settings, k, v)
        yield Emulator(url=url, env=env, web_port=web_port, data_dir=data_dir)
        for k, v in saved.items():
            setattr(settings, k, v)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def wechat_web(emulator, tenant_a, django_db_blocker):
    """gunicorn on the test database, reached by the emulator at http://localhost:<port>."""
    port = emulator.web_port
    log_dir = ARTIFACTS / f"wechat-web-{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    # The after-sales tests subscribe a probe to ``order_line_refunded`` (the refund notify
    # lands in this process): mall.orders.hooks publishes to it (tests/mall/aftersales_probe.py).
    env = subprocess_env(
        PUBLIC_PORT=port, ORDER_LINE_REFUNDED_HANDLERS="tests.mall.aftersales_probe.line_refunded", **emulator.env
    )
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "60"],
        cwd=ROOT,
        env=env,
        stdout=open(log_dir / "web.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        logs = [log_dir / "web.log"]
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost", procs=[proc], logs=logs)
        # The emulator pushes a verify ticket at start (and retries until we answer). Wait for that
        # push to land before pushing another: two pushes in flight can land out of order, leaving
        # us the older ticket ("61006 component ticket is invalid"), seen on a busy machine.
        wait_ready(
            lambda: any(
                200 <= e.get("status", 0) < 300 and "ComponentVerifyTicket" in (e.get("request") or "")
                for e in emulator.log("push")
            ),
            what="the emulator's first ticket push",
            procs=[proc],
            logs=logs,
        )
        status = emulator.api("push-ticket")["status"]
        assert status == 200, (log_dir / "web.log").read_text()[-3000:]
        yield f"http://localhost:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def wx_tenant(django_db_setup, django_db_blocker):
    """A store of these tests' own: its mini-program binding changes here."""
    with django_db_blocker.unblock():
        return _provision("wxtest", "微信测试店", "wx00000000000000c3", "13600000003")
