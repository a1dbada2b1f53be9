import uuid

import pytest
from django.test import override_settings

from integrations import sms

SMS_HANDLER = "integrations.sms.deliver_queued_sms"


@pytest.fixture(autouse=True)
def memory_sms():
    """Codes reach the tests through the outbox and the sender, as they reach a phone."""
    from tests.conftest import clear_rate_limits

    clear_rate_limits()
    sms.outbox.clear()
    with override_settings(SMS_BACKEND="integrations.sms.backends.MemorySender"):
        yield sms.outbox
    sms.outbox.clear()


def deliver_sms() -> int:
    """Do the worker's job in-process: run every pending SMS outbox message (``outbox.deliver``,
    the function the worker's task calls). Returns how many were sent."""
    from core import outbox
    from core.models import OutboxMessage

    pending = OutboxMessage.objects.filter(handler=SMS_HANDLER, processed_at__isnull=True).order_by("pk")
    return sum(1 for pk in list(pending.values_list("pk", flat=True)) if outbox.deliver(pk))


def queued_sms(*, after_pk: int = 0) -> list[dict]:
    """SMS the actions recorded in the outbox (decrypted), newest last. Deterministic where a live
    worker from another test may deliver committed messages before ``deliver_sms`` runs."""
    from core import crypto
    from core.models import OutboxMessage

    rows = OutboxMessage.objects.filter(handler=SMS_HANDLER, pk__gt=after_pk).order_by("pk")
    return [{"phone": crypto.decrypt(m.payload["phone"]), "text": crypto.decrypt(m.payload["text"])} for m in rows]


def last_outbox_pk() -> int:
    from core.models import OutboxMessage

    return OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def new_phone() -> str:
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


def last_code(outbox, phone: str) -> str:
    import re

    deliver_sms()
    # Read the code from what the action queued: in a committed test the live stack's worker may
    # deliver the message before this process does (then the memory sender never sees it).
    texts = [m["text"] for m in queued_sms() if m["phone"] == phone] or [
        m["text"] for m in outbox if m["phone"] == phone
    ]
    assert texts, f"no SMS sent to {phone}"
    return re.search(r"验证码 (\d{6})", texts[-1]).group(1)
