"""SMS: production refuses the development senders; actions record SMS in the outbox, and a
failed send stays pending and is sent on the next delivery."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from cryptography.fernet import Fernet
from django.test import override_settings

from core import outbox
from core.models import OutboxMessage
from integrations import sms
from saas_platform.onboarding import actions
from saas_platform.onboarding.models import SmsPurpose
from tests.conftest import ROOT, subprocess_env
from tests.onboarding.conftest import SMS_HANDLER, new_phone


def _start_in_production(**extra):
    env = subprocess_env(
        FENXIAO_ENV="production",
        DEBUG="0",
        SECRET_KEY="p" * 64,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        FIELD_HASH_KEY="production-hash-key-for-this-test",
        **extra,
    )
    env.pop("SMS_BACKEND", None)
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "sender", ["", "integrations.sms.backends.ConsoleSender", "integrations.sms.backends.FileSender"]
)
def test_production_refuses_to_start_with_a_development_sms_sender(sender):
    result = _start_in_production(**({"SMS_BACKEND": sender} if sender else {}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SMS_BACKEND" in result.stderr


def test_production_accepts_the_http_gateway_sender():
    result = _start_in_production(
        SMS_BACKEND="integrations.sms.backends.HttpSender", SMS_HTTP_URL="https://sms-gateway.example.com/send"
    )
    assert "SMS_BACKEND" not in result.stderr and "SMS_HTTP_URL" not in result.stderr


def test_production_refuses_a_plain_http_gateway():
    result = _start_in_production(SMS_BACKEND="integrations.sms.backends.HttpSender", SMS_HTTP_URL="http://gw/send")
    assert result.returncode != 0 and "SMS_HTTP_URL must be an https" in result.stderr


class FlakySender:
    """Fails the first ``failures`` sends (a provider timing out), then sends to memory."""

    failures = 1

    def send(self, *, phone: str, text: str, kind: str, ref: str = "") -> None:
        if FlakySender.failures > 0:
            FlakySender.failures -= 1
            raise ConnectionError("SMS provider timed out")
        sms.outbox.append({"phone": phone, "text": text, "kind": kind})


def _pending_sms():
    return OutboxMessage.objects.filter(handler=SMS_HANDLER, processed_at__isnull=True)


def test_a_code_sms_is_an_outbox_message_and_a_failed_send_is_retried(db, memory_sms):
    phone = new_phone()
    before = set(_pending_sms().values_list("pk", flat=True))
    actions.send_code(phone=phone, purpose=SmsPurpose.SIGN_UP, ip="10.7.7.7")
    [msg] = _pending_sms().exclude(pk__in=before)
    assert memory_sms == []  # nothing is sent inside the action
    assert phone not in str(msg.payload) and "验证码" not in str(msg.payload)  # stored encrypted

    FlakySender.failures = 1
    with override_settings(SMS_BACKEND="tests.integrations.test_sms.FlakySender"):
        with pytest.raises(ConnectionError):
            outbox.deliver(msg.pk)
        msg.refresh_from_db()
        assert msg.processed_at is None  # not lost: still pending for the relay
        assert outbox.deliver(msg.pk) is True
    msg.refresh_from_db()
    assert msg.processed_at is not None
    assert [m["phone"] for m in memory_sms] == [phone]
    assert "验证码" in memory_sms[0]["text"]
    assert outbox.deliver(msg.pk) is False  # sent once


def test_the_licence_reminder_goes_through_the_outbox(db, memory_sms):
    from django.db import transaction

    phone = new_phone()
    with transaction.atomic():
        sms.queue_sms(phone=phone, text="【分销云】提醒", kind="licence_reminder")
    [msg] = _pending_sms().order_by("-pk")[:1]
    assert outbox.deliver(msg.pk)
    assert memory_sms[-1] == {"phone": phone, "text": "【分销云】提醒", "kind": "licence_reminder"}


class _Gateway(BaseHTTPRequestHandler):
    """A stand-in SMS gateway on loopback: answers ``status`` and records what it received."""

    status = 200
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append((dict(self.headers), json.loads(body)))
        self.send_response(_Gateway.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.received = []
    settings.SMS_BACKEND = "integrations.sms.backends.HttpSender"
    settings.SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_HTTP_TOKEN = "gateway-token"
    yield _Gateway
    server.shutdown()
    server.server_close()


def test_the_http_sender_retries_through_the_outbox_with_one_idempotency_key(db, gateway):
    phone = new_phone()
    before = set(_pending_sms().values_list("pk", flat=True))
    actions.send_code(phone=phone, purpose=SmsPurpose.SIGN_UP, ip="10.7.7.8")
    [msg] = _pending_sms().exclude(pk__in=before)
    gateway.status = 503
    with pytest.raises(requests.HTTPError):
        outbox.deliver(msg.pk)
    gateway.status = 200
    assert outbox.deliver(msg.pk) is True
    (h1, first), (h2, second) = gateway.received
    assert first == second and first["phone"] == phone and "验证码" in first["text"]
    assert h1["Authorization"] == "Bearer gateway-token"
    assert h1["Idempotency-Key"] == h2["Idempotency-Key"] != ""
