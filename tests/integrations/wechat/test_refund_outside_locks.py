"""The refund call to WeChat runs with no row lock held: while the (slowed) call is in flight,
another connection can lock the refund, its order and its outbox message at once (NOWAIT)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.utils import OperationalError
from django.utils import timezone
from django_tenants.utils import schema_context

from core import outbox
from core.models import OutboxMessage, OutboxStatus
from mall.payments.actions import request_refund
from mall.payments.models import Refund
from tests.integrations.wechat.conftest import wait_until
from tests.integrations.wechat.helpers import reload
from tests.integrations.wechat.test_pay import paid_order

pytestmark = pytest.mark.slow


def _lockable(schema: str, table: str, pk: int) -> bool:
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(f'SELECT 1 FROM "{schema}"."{table}" WHERE id = %s FOR UPDATE NOWAIT', [pk])
        return True
    except OperationalError:
        return False


def test_the_refund_call_holds_no_row_lock(emulator, wechat_web, wx_tenant, committed, paused_live_workers):
    order, _ = paid_order(emulator, wx_tenant, price_fen=900)
    with schema_context(wx_tenant.schema_name):
        refund = request_refund(order=order, amount_fen=900, reason="锁测试")
    message = OutboxMessage.objects.get(handler="mall.payments.effects.submit_refund", payload__refund_id=refund.pk)
    # The live stack's worker and beat are paused for this test (``paused_live_workers``); wait
    # until no run holds the message anyway, and keep any relay away from it: the delivery below is ours.
    assert wait_until(
        lambda: not OutboxMessage.objects.filter(pk=message.pk, claimed_until__gt=timezone.now()).exists(), timeout=30
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + timedelta(hours=1), sent_at=timezone.now()
    )
    assert reload(wx_tenant, Refund, pk=refund.pk).status == "requested"
    since = emulator.last_log_id()
    emulator.api("faults", prefix="/v3/refund/domestic/refunds", delay=1.5, count=1)
    result = {}

    def worker():  # what the Celery worker does, in its own thread and connection
        try:
            result["delivered"] = outbox.deliver(message.pk)
        except Exception as exc:
            result["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        time.sleep(0.6)  # claimed, and the call is waiting in the emulator (1.5 s)
        for _ in range(3):
            assert thread.is_alive()
            assert _lockable(wx_tenant.schema_name, "payments_refund", refund.pk)
            assert _lockable(wx_tenant.schema_name, "orders_order", order.pk)
            assert _lockable("public", "core_outboxmessage", message.pk)
            time.sleep(0.15)
        assert thread.is_alive()  # the checks above all happened during the call
    finally:
        thread.join(15)
        emulator.api("faults", clear=True)
    calls = [e for e in emulator.log("call", since) if e["path"].startswith("/v3/refund/domestic/refunds")]
    assert calls and calls[0]["ms"] >= 1400  # the delayed call is the one the checks overlapped
    assert result == {"delivered": True}
    message.refresh_from_db()
    assert message.status == OutboxStatus.DONE
    assert wait_until(lambda: reload(wx_tenant, Refund, pk=refund.pk).status == "success")
