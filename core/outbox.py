"""Transactional outbox: side effects are never lost, and take effect once.

    from core import outbox
    outbox.record("mall.orders.effects.count_sales", order_id=order.pk)

``record`` must be called inside the action's ``transaction.atomic()``; it writes a row and
asks for a publish after commit. If the broker is down the row simply stays pending; the
beat-driven ``core.relay_outbox`` task (and every later publish) sends it again. Handlers are
plain functions registered with ``@outbox.handler``; they run inside the tenant's schema, in
the same transaction as the row's ``processed_at`` update.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context

from core.models import OutboxMessage

log = logging.getLogger(__name__)

_HANDLERS: dict[str, Callable[..., None]] = {}


def handler(func: Callable[..., None]) -> Callable[..., None]:
    _HANDLERS[f"{func.__module__}.{func.__name__}"] = func
    return func


def _resolve(name: str) -> Callable[..., None]:
    if name not in _HANDLERS:
        import_string(name)  # importing the module registers the handler
    return _HANDLERS[name]


def record(handler_name: str, **payload) -> OutboxMessage:
    if not connection.in_atomic_block:
        raise RuntimeError("outbox.record must run inside the action's transaction")
    _resolve(handler_name)  # fail now, not in the worker, on a typo
    msg = OutboxMessage.objects.create(schema_name=connection.schema_name, handler=handler_name, payload=payload)
    transaction.on_commit(lambda: publish(msg.pk, msg.schema_name))
    return msg


def publish(message_id: int, schema_name: str) -> bool:
    """Send one message to the broker. Never raises: a failure leaves it pending."""
    from core.tasks import deliver_outbox_message

    try:
        with schema_context(schema_name):
            deliver_outbox_message.apply_async(args=[message_id], retry=False)
    except Exception as exc:  # broker down, timeouts: the relay tries again later
        log.warning("outbox publish of %s failed: %s", message_id, exc)
        OutboxMessage.objects.filter(pk=message_id).update(
            send_attempts=F("send_attempts") + 1, last_error=str(exc)[:2000]
        )
        return False
    OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).update(sent_at=timezone.now())
    return True


def relay_pending(limit: int = 500) -> int:
    """Publish messages never sent, and re-publish those sent long ago but not processed."""
    resend_before = timezone.now() - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    with schema_context("public"):
        pending = list(
            OutboxMessage.objects.filter(processed_at__isnull=True)
            .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=resend_before))
            .order_by("pk")
            .values_list("pk", "schema_name")[:limit]
        )
    sent = 0
    for pk, schema in pending:
        if publish(pk, schema):
            sent += 1
            OutboxMessage.objects.filter(pk=pk).update(sent_at=timezone.now())
        else:
            break  # broker still down: try the rest on the next round
    return sent


def deliver(message_id: int) -> bool:
    """Run a message's handler exactly once. Returns False when it had already run."""
    with transaction.atomic():
        msg = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if msg is None or msg.processed_at is not None:
            return False
        with schema_context(msg.schema_name):
            _resolve(msg.handler)(**msg.payload)
        msg.processed_at = timezone.now()
        msg.save(update_fields=["processed_at"])
    return True
