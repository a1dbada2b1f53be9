"""Pluggable SMS sender (settings.SMS_BACKEND), like Django's e-mail backends.

* ``ConsoleSender`` (development default): logs the message.
* ``FileSender``: appends one JSON line per message to ``SMS_FILE_PATH`` (the browser tests'
  server uses it, and the tests read the codes from that file — through the sender, no back door).
* ``MemorySender``: keeps messages in ``integrations.sms.outbox`` (in-process tests).
* ``HttpSender`` (production): an SMS gateway over HTTPS (``SMS_HTTP_URL``, ``SMS_HTTP_TOKEN``).
A provider's own API (Aliyun / Tencent Cloud SMS) plugs in the same way; the first three are
development senders (``settings.SMS_DEVELOPMENT_SENDERS``), and production
(``FENXIAO_ENV=production``) refuses to start with one.

Actions never send an SMS themselves: ``queue_sms`` records it in the transactional outbox
(``core.outbox``) inside the action's transaction, and the worker sends it after commit. A
sender raises when a message was not sent, so the outbox keeps the message and retries it.
The number and the text are stored encrypted in the outbox row (a code is a secret).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils.module_loading import import_string

from core import crypto
from core import outbox as _outbox

outbox: list[dict] = []  # MemorySender's messages


def send_sms(*, phone: str, text: str, kind: str, ref: str = "") -> None:
    """Send now (raises when the sender could not send). Actions use ``queue_sms``. A sender's
    ``send(*, phone, text, kind, ref="")``: ``ref`` is the message's idempotency key."""
    import_string(settings.SMS_BACKEND)().send(phone=phone, text=text, kind=kind, ref=ref)


def queue_sms(*, phone: str, text: str, kind: str) -> None:
    """Record an SMS in the outbox, in the caller's transaction."""
    _outbox.record(
        "integrations.sms.deliver_queued_sms",
        phone=crypto.encrypt(phone),
        text=crypto.encrypt(text),
        kind=kind,
        ref=uuid.uuid4().hex,
    )


@_outbox.handler
def deliver_queued_sms(*, phone: str, text: str, kind: str, ref: str = "") -> None:
    """Outbox handler: send one recorded SMS. An exception leaves the message pending (retried)."""
    send_sms(phone=crypto.decrypt(phone), text=crypto.decrypt(text), kind=kind, ref=ref)
