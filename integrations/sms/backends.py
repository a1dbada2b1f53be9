import json
import logging
from datetime import datetime

import requests
from django.conf import settings

from core.crypto import mask_phone

log = logging.getLogger("fenxiao.sms")


class ConsoleSender:
    def send(self, *, phone: str, text: str, kind: str, ref: str = "") -> None:
        log.warning("SMS to %s (%s): %s", mask_phone(phone), kind, text)
        print(f"[SMS] to {phone}: {text}", flush=True)


class FileSender:
    def send(self, *, phone: str, text: str, kind: str, ref: str = "") -> None:
        line = json.dumps(
            {"phone": phone, "text": text, "kind": kind, "at": datetime.now().isoformat()}, ensure_ascii=False
        )
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class MemorySender:
    def send(self, *, phone: str, text: str, kind: str, ref: str = "") -> None:
        from integrations.sms import outbox

        outbox.append({"phone": phone, "text": text, "kind": kind})


class HttpSender:
    """Production sender: an SMS gateway over HTTPS. POSTs ``{"phone", "text", "kind"}`` as JSON
    to ``SMS_HTTP_URL`` with ``Authorization: Bearer SMS_HTTP_TOKEN`` and an ``Idempotency-Key``
    (the same for every retry of one message, so the gateway sends it once). Anything but a 2xx
    raises, and the outbox retries the message."""

    def send(self, *, phone: str, text: str, kind: str, ref: str = "") -> None:
        headers = {"Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}"}
        if ref:
            headers["Idempotency-Key"] = ref
        response = requests.post(
            settings.SMS_HTTP_URL,
            json={"phone": phone, "text": text, "kind": kind},
            headers=headers,
            timeout=(settings.SMS_HTTP_CONNECT_TIMEOUT, settings.SMS_HTTP_READ_TIMEOUT),
        )
        response.raise_for_status()
        log.info("SMS to %s (%s) accepted by the gateway", mask_phone(phone), kind)
