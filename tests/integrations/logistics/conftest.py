"""The carrier emulator as a real subprocess (``carrier``), with this test process's settings
pointed at it; ``shipping_stack``: our gunicorn and a Celery worker on the test database, with
the same LOGISTICS_* settings, receiving the emulator's pushes at http://localhost:<port>."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.conftest import (
    ARTIFACTS,
    ROOT,
    RUNNING_STACKS,
    free_port,
    start_processes,
    stop_processes,
    subprocess_env,
    wait_for,
    wait_ready,
    workers_paused,
)

BIN = Path(sys.executable).parent


@dataclass
class Carrier:
    url: str
    env: dict
    web_port: int

    def api(self, name: str, **payload) -> dict:
        resp = requests.post(f"{self.url}/_emulator/api/{name}", json=payload, timeout=20)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def state(self) -> dict:
        return requests.get(f"{self.url}/_emulator/api/state", timeout=10).json()

    def parcel(self, carrier: str, tracking_no: str) -> dict | None:
        return self.state()["parcels"].get(f"{carrier}:{tracking_no}")


@pytest.fixture(scope="session")
def carrier(tmp_path_factory, django_db_setup):
    data_dir = tmp_path_factory.mktemp("carrier-emulator")
    port, web_port = free_port(), free_port()
    log_dir = ARTIFACTS / f"carrier-{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "tools.carrier_emulator",
            "--port", str(port),
            "--data-dir", str(data_dir),
            "--step-seconds", "0",  # parcels move only when a test says so
            "--retry-seconds", "0.3,0.5,1,2",
        ],
        cwd=ROOT,
        stdout=open(log_dir / "emulator.log", "wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        logs = [log_dir / "emulator.log"]
        wait_ready(lambda: (data_dir / "env.json").exists(), what="carrier env.json", procs=[proc], logs=logs)
        wait_for(f"{url}/_emulator/health", "127.0.0.1", procs=[proc], logs=logs)
        env = json.loads((data_dir / "env.json").read_text())
        env["LOGISTICS_CALLBACK_BASE_URL"] = f"http://localhost:{web_port}"
        tuning = {"LOGISTICS_RETRY_BACKOFF": 0.05, "LOGISTICS_READ_TIMEOUT": 3.0, "LOGISTICS_RETRIES": 2}
        saved = {k: getattr(settings, k) for k in [*env, *tuning]}
        for k, v in {**env, **tuning}.items():
            setattr(settings, k, v)
        yield Carrier(url=url, env=env, web_port=web_port)
        for k, v in saved.items():
            setattr(settings, k, v)
    finally:
        stop_processes([proc])


@dataclass
class ShippingStack:
    port: int
    procs: list


@pytest.fixture(scope="session")
def shipping_stack(carrier, tenant_a, django_db_blocker):
    """gunicorn (the push endpoint) and a Celery worker (the outbox's subscribe handler)."""
    port = carrier.web_port
    log_dir = ARTIFACTS / f"shipping-stack-{port}"
    env = subprocess_env(PUBLIC_PORT=port, OUTBOX_RELAY_SECONDS=1, **carrier.env)
    procs = start_processes(env, port, log_dir, beat=False)
    try:
        logs = sorted(log_dir.glob("*.log"))
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost", procs=procs, logs=logs)
        wait_ready(
            lambda: requests.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"}, timeout=5).ok,
            what="shipping stack /healthz",
            procs=procs,
            logs=logs,
        )
        # Registered like the live stack: other tests pause its worker (``paused_live_workers``).
        RUNNING_STACKS.append(ShippingStack(port=port, procs=procs))
        yield f"http://localhost:{port}"
    finally:
        RUNNING_STACKS[:] = [s for s in RUNNING_STACKS if s.procs is not procs]
        stop_processes(procs)


@pytest.fixture
def only_shipping_worker(shipping_stack):
    """Every other stack's worker and beat paused for the test: the shipping stack's worker is
    the one that runs its outbox messages (another stack has no tracking-API settings: it would
    take the subscribe message, fail and back off past the test's waits, as seen on a busy
    machine)."""
    procs = next(s.procs for s in RUNNING_STACKS if isinstance(s, ShippingStack))
    with workers_paused(keep=[procs]):
        yield
