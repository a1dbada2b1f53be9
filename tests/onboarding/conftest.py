import uuid

import pytest
from django.test import override_settings

from integrations import sms


@pytest.fixture(autouse=True)
def memory_sms():
    """Codes reach the tests through the sender, as they reach a phone."""
    sms.outbox.clear()
    with override_settings(SMS_BACKEND="integrations.sms.backends.MemorySender"):
        yield sms.outbox
    sms.outbox.clear()


def new_phone() -> str:
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


def last_code(outbox, phone: str) -> str:
    import re

    texts = [m["text"] for m in outbox if m["phone"] == phone]
    assert texts, f"no SMS sent to {phone}"
    return re.search(r"验证码 (\d{6})", texts[-1]).group(1)
