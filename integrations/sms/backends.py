import json
import logging
from datetime import datetime

from django.conf import settings

from core.crypto import mask_phone

log = logging.getLogger("fenxiao.sms")


class ConsoleSender:
    def send(self, *, phone: str, text: str, kind: str) -> None:
        log.warning("SMS to %s (%s): %s", mask_phone(phone), kind, text)
        print(f"[SMS] to {phone}: {text}", flush=True)


class FileSender:
    def send(self, *, phone: str, text: str, kind: str) -> None:
        line = json.dumps(
            {"phone": phone, "text": text, "kind": kind, "at": datetime.now().isoformat()}, ensure_ascii=False
        )
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class MemorySender:
    def send(self, *, phone: str, text: str, kind: str) -> None:
        from integrations.sms import outbox

        outbox.append({"phone": phone, "text": text, "kind": kind})
