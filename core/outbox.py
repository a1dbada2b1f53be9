"""Transactional outbox: side effects are never lost, take effect once, and never retry forever.

    from core import outbox
    outbox.record("mall.orders.effects.count_sales", order_id=order.pk)

``record`` must be called inside the action's ``transaction.atomic()``; it writes a row and
asks for a publish after commit. If the broker is down the row simply stays pending; the
beat-driven ``core.relay_outbox`` task (and every later publish) sends it again.

Handlers are plain functions registered with ``@outbox.handler``. Two kinds:

* **local** (default): database work only. It runs inside the tenant's schema, in the same
  transaction (with the message row locked) as the row's ``processed_at`` update, so it takes
  effect exactly once.
* **external** (``@outbox.handler(external=True)``): it calls another service (WeChat, SMS).
  No network call may run while row locks are held (house rule 10), so ``deliver`` works in
  three steps: claim the message in a short transaction (attempt counter + a lease of
  ``OUTBOX_LEASE_SECONDS`` instead of a lock), run the handler with no transaction open, then
  mark it done in another short transaction. The handler records the outcome through actions
  (their own short locked transactions) and must be idempotent: a worker that dies during the
  call leaves the lease to expire and the message runs again (WeChat refunds are idempotent on
  ``out_refund_no``).

A failed run is recorded (``attempts``, ``last_error``) and retried after an exponential backoff
(``OUTBOX_RETRY_BASE_SECONDS`` × 2ⁿ, at most ``OUTBOX_RETRY_MAX_SECONDS``); after
``OUTBOX_MAX_ATTEMPTS`` runs the message is **parked**: the staff console (/staff/outbox/) lists
it and ``replay`` (a button there) puts it back in the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from core.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handler:
    func: Callable[..., None]
    external: bool


_HANDLERS: dict[str, Handler] = {}


def handler(func: Callable[..., None] | None = None, *, external: bool = False):
    """Register an outbox handler: ``@outbox.handler`` or ``@outbox.handler(external=True)``."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        _HANDLERS[f"{fn.__module__}.{fn.__name__}"] = Handler(fn, external)
        return fn

    return register(func) if func is not None else register


def _resolve(name: str) -> Handler:
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


def due_messages(limit: int = 500) -> list[tuple[int, str]]:
    """(pk, schema) of pending messages to publish now: never sent, due for a retry, or sent long
    ago and not processed (a lost publish, a worker that died)."""
    now = timezone.now()
    resend_before = now - timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS)
    with schema_context("public"):
        return list(
            OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=resend_before))
            .order_by("pk")
            .values_list("pk", "schema_name")[:limit]
        )


def relay_pending(limit: int = 500) -> int:
    """Publish what ``due_messages`` returns; stop at the first refused publish."""
    sent = 0
    for pk, schema in due_messages(limit):
        if publish(pk, schema):
            sent += 1
            OutboxMessage.objects.filter(pk=pk).update(sent_at=timezone.now())
        else:
            break  # broker still down: try the rest on the next round
    return sent


def backoff_seconds(attempts: int) -> float:
    """Wait before run ``attempts + 1``: base × 2^(attempts-1), capped."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_RETRY_MAX_SECONDS)


def deliver(message_id: int) -> bool:
    """Run a message's handler once. Returns False when there was nothing to do (already done,
    parked, unknown, or an external run of another worker holds the lease). A failure is
    recorded (retry later with backoff, or parked at the cap) and re-raised."""
    in_outer_transaction = connection.in_atomic_block
    with transaction.atomic():  # claim: a short transaction, no handler code inside
        msg = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if msg is None or msg.status != OutboxStatus.PENDING:
            return False
        spec = _resolve(msg.handler)
        if spec.external and in_outer_transaction:
            raise RuntimeError(f"{msg.handler} calls another service: deliver it outside any transaction")
        now = timezone.now()
        if spec.external and msg.claimed_until is not None and msg.claimed_until > now:
            return False
        msg.attempts += 1
        msg.claimed_until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS) if spec.external else None
        msg.save(update_fields=["attempts", "claimed_until"])
    try:
        if spec.external:
            with schema_context(msg.schema_name):
                spec.func(**msg.payload)  # no transaction open here: no row lock is held
            _mark_done(msg.pk)
            return True
        with transaction.atomic():
            locked = OutboxMessage.objects.select_for_update().get(pk=msg.pk)
            if locked.status != OutboxStatus.PENDING:
                return False
            with schema_context(msg.schema_name):
                spec.func(**msg.payload)
            _mark_done(msg.pk)
        return True
    except Exception as exc:
        _record_failure(msg.pk, exc)
        raise


def _mark_done(message_id: int) -> None:
    OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.DONE, processed_at=timezone.now(), claimed_until=None, next_attempt_at=None
    )


def _record_failure(message_id: int, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    with transaction.atomic():
        msg = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if msg is None or msg.status != OutboxStatus.PENDING:
            return
        msg.last_error = error
        msg.claimed_until = None
        msg.sent_at = None  # the relay publishes it again once it is due
        if msg.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            msg.status = OutboxStatus.PARKED
            msg.parked_at = timezone.now()
            msg.next_attempt_at = None
            log.error("outbox message %s parked after %s attempts: %s", msg, msg.attempts, error)
        else:
            msg.next_attempt_at = timezone.now() + timedelta(seconds=backoff_seconds(msg.attempts))
            log.warning(
                "outbox message %s failed (attempt %s), retry at %s: %s", msg, msg.attempts, msg.next_attempt_at, error
            )
        msg.save(update_fields=["last_error", "claimed_until", "sent_at", "status", "parked_at", "next_attempt_at"])


def replay(*, message_id: int, actor=None) -> OutboxMessage:
    """Put a parked message back in the queue with a fresh attempt budget (staff console)."""
    with transaction.atomic():
        msg = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if msg is None:
            raise ValidationError({"message": _("消息不存在。")})
        if msg.status != OutboxStatus.PARKED:
            raise ValidationError({"status": _("只有已搁置的消息可以重放。")})
        msg.status = OutboxStatus.PENDING
        msg.attempts = 0
        msg.next_attempt_at = None
        msg.claimed_until = None
        msg.sent_at = None
        msg.parked_at = None
        msg.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until", "sent_at", "parked_at"])
        log.info("outbox message %s replayed by %s", msg, getattr(actor, "pk", None))
        transaction.on_commit(lambda: publish(msg.pk, msg.schema_name))
    return msg
