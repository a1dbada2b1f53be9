"""Pluggable SMS sender (settings.SMS_BACKEND), like Django's e-mail backends.

* ``ConsoleSender`` (development default): logs the message.
* ``FileSender``: appends one JSON line per message to ``SMS_FILE_PATH`` (the browser tests'
  server uses it, and the tests read the codes from that file — through the sender, no back door).
* ``MemorySender``: keeps messages in ``integrations.sms.outbox`` (in-process tests).
A production sender (Aliyun / Tencent Cloud SMS) plugs in the same way.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

outbox: list[dict] = []


def send_sms(*, phone: str, text: str, kind: str) -> None:
    import_string(settings.SMS_BACKEND)().send(phone=phone, text=text, kind=kind)
