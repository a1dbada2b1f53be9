"""The outbox retries a failed side effect with exponential backoff up to a cap, then parks it
where staff see it and can replay it; an external handler's call runs with no row lock held."""

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, connections, transaction
from django.db.utils import OperationalError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from core import outbox
from core.models import OutboxMessage, OutboxStatus
from tests.core import outbox_handlers  # noqa: F401 (registers the handlers)

FAIL = "tests.core.outbox_handlers.fail_until_file"
CALL = "tests.core.outbox_handlers.call_url"


def _message(handler: str, schema: str = "public", **payload) -> OutboxMessage:
    # Written directly (not through ``record``) so nothing is published to the shared broker.
    return OutboxMessage.objects.create(schema_name=schema, handler=handler, payload=payload)


@pytest.fixture
def retry_settings(settings, paused_live_workers):
    """Small retry budget; no live worker of another test may run the messages checked here."""
    settings.OUTBOX_MAX_ATTEMPTS = 4
    settings.OUTBOX_RETRY_BASE_SECONDS = 10
    settings.OUTBOX_RETRY_MAX_SECONDS = 25
    return settings


def test_a_failed_handler_is_retried_with_exponential_backoff(committed, retry_settings, tmp_path):
    msg = _message(FAIL, path=str(tmp_path / "ready"))
    waits = []
    for attempt in (1, 2, 3):
        before = timezone.now()
        with pytest.raises(RuntimeError):
            outbox.deliver(msg.pk)
        msg.refresh_from_db()
        assert msg.status == OutboxStatus.PENDING and msg.attempts == attempt
        assert "is missing" in msg.last_error and msg.sent_at is None
        waits.append((msg.next_attempt_at - before).total_seconds())
        # Not due yet: the relay leaves it alone until next_attempt_at.
        assert msg.pk not in [pk for pk, _ in outbox.due_messages()]
    assert [round(w) for w in waits] == [10, 20, 25]  # 10 × 2ⁿ, capped at OUTBOX_RETRY_MAX_SECONDS
    OutboxMessage.objects.filter(pk=msg.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert msg.pk in [pk for pk, _ in outbox.due_messages()]  # due: the relay publishes it again
    (tmp_path / "ready").touch()
    assert outbox.deliver(msg.pk) is True
    msg.refresh_from_db()
    assert msg.status == OutboxStatus.DONE and msg.processed_at and msg.attempts == 4
    assert outbox.deliver(msg.pk) is False  # done once, never again


def test_after_the_cap_the_message_is_parked_and_never_retried(committed, retry_settings, tmp_path):
    msg = _message(FAIL, path=str(tmp_path / "never"))
    for _ in range(4):
        with pytest.raises(RuntimeError):
            outbox.deliver(msg.pk)
    msg.refresh_from_db()
    assert msg.status == OutboxStatus.PARKED and msg.parked_at and msg.attempts == 4
    assert msg.next_attempt_at is None
    OutboxMessage.objects.filter(pk=msg.pk).update(created=timezone.now() - timedelta(days=1))
    assert msg.pk not in [pk for pk, _ in outbox.due_messages()]
    assert outbox.deliver(msg.pk) is False  # a stray redelivery does not run it


def test_replay_puts_a_parked_message_back_with_a_fresh_budget(committed, retry_settings, tmp_path):
    from django.core.exceptions import ValidationError

    msg = _message(FAIL, path=str(tmp_path / "later"))
    with pytest.raises(ValidationError):
        outbox.replay(message_id=msg.pk)  # only parked messages
    OutboxMessage.objects.filter(pk=msg.pk).update(status=OutboxStatus.PARKED, attempts=4, parked_at=timezone.now())
    (tmp_path / "later").touch()  # the cause is fixed before staff replay it
    replayed = outbox.replay(message_id=msg.pk)
    assert replayed.status == OutboxStatus.PENDING and replayed.attempts == 0 and replayed.parked_at is None
    # Published again after commit: a live worker of another test may run it before this process
    # does, so deliver here and wait for the one run, whoever makes it.
    outbox.deliver(msg.pk)
    deadline = time.monotonic() + 30
    msg.refresh_from_db()
    while msg.status != OutboxStatus.DONE and time.monotonic() < deadline:
        time.sleep(0.2)
        msg.refresh_from_db()
    assert msg.status == OutboxStatus.DONE and msg.attempts == 1  # one run, on the fresh budget
    assert msg.sent_at is not None  # it was published again


def _staff(username: str, phone: str, *perms: str):
    from saas_platform.accounts.actions import create_platform_user
    from saas_platform.accounts.models import User

    with schema_context("public"):
        user = User.objects.filter(username=username).first() or create_platform_user(
            username=username, password="Outbox-Pass-2026", phone=phone, is_staff=True, staff_role="reviewer"
        )  # the reviewer's group has no outbox permission: exactly ``perms`` decide
        user.is_superuser = False  # console users are never superusers: exactly these permissions
        user.save(update_fields=["is_superuser"])
        wanted = [("wagtailadmin", "access_admin"), *(tuple(p.split(".")) for p in perms)]
        user.user_permissions.set(
            [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in wanted]
        )
        return User.objects.get(pk=user.pk)  # no cached permissions


def test_staff_see_parked_messages_and_replay_them_but_never_edit(committed, retry_settings, tmp_path):
    msg = _message(FAIL, path=str(tmp_path / "x"))
    OutboxMessage.objects.filter(pk=msg.pk).update(
        status=OutboxStatus.PARKED, attempts=4, parked_at=timezone.now(), last_error="RuntimeError: 短信网关 503"
    )
    operator = Client()
    operator.force_login(
        _staff("outbox-operator", "13911113331", "core.view_outboxmessage", "core.replay_outboxmessage")
    )
    listing = operator.get("/staff/outbox/?status=parked", HTTP_HOST="localhost")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert FAIL in html and f"/staff/outbox/replay/{msg.pk}/" in html
    inspect = operator.get(f"/staff/outbox/inspect/{msg.pk}/", HTTP_HOST="localhost")
    assert inspect.status_code == 200 and "短信网关 503" in inspect.content.decode()
    for path in ("/staff/outbox/new/", f"/staff/outbox/edit/{msg.pk}/", f"/staff/outbox/delete/{msg.pk}/"):
        response = operator.get(path, HTTP_HOST="localhost")
        assert response.status_code in (302, 403, 404), path
        assert not (response.status_code == 302 and "/outbox/" in response["Location"]), path
    assert operator.post(f"/staff/outbox/delete/{msg.pk}/", HTTP_HOST="localhost").status_code in (302, 403, 404)
    assert OutboxMessage.objects.filter(pk=msg.pk).exists()
    confirm = operator.get(f"/staff/outbox/replay/{msg.pk}/", HTTP_HOST="localhost")
    assert confirm.status_code == 200 and "重放" in confirm.content.decode()
    msg.refresh_from_db()
    assert msg.status == OutboxStatus.PARKED  # GET changes nothing
    done = operator.post(f"/staff/outbox/replay/{msg.pk}/", HTTP_HOST="localhost")
    assert done.status_code == 302
    msg.refresh_from_db()
    assert msg.status == OutboxStatus.PENDING and msg.attempts == 0
    # A viewer without the replay permission sees the list but gets no button and no replay.
    OutboxMessage.objects.filter(pk=msg.pk).update(status=OutboxStatus.PARKED, parked_at=timezone.now())
    viewer = Client()
    viewer.force_login(_staff("outbox-viewer", "13911113332", "core.view_outboxmessage"))
    listing = viewer.get("/staff/outbox/", HTTP_HOST="localhost")
    assert listing.status_code == 200 and f"/staff/outbox/replay/{msg.pk}/" not in listing.content.decode()
    refused = viewer.post(f"/staff/outbox/replay/{msg.pk}/", HTTP_HOST="localhost")
    assert refused.status_code == 403 or (refused.status_code == 302 and refused["Location"] == "/staff/")
    msg.refresh_from_db()
    assert msg.status == OutboxStatus.PARKED


class _SlowServer:
    """A loopback HTTP server whose answer waits until the test has looked at the locks."""

    def __init__(self):
        self.arrived = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.arrived.set()
                outer.release.wait(10)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/effect"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()


def _lock_nowait(table: str, pk: int, schema: str = "public") -> bool:
    """From this thread's own connection: can the row be locked right now?"""
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(f'SELECT 1 FROM "{schema}"."{table}" WHERE id = %s FOR UPDATE NOWAIT', [pk])
        return True
    except OperationalError:
        return False


def test_an_external_handler_runs_its_call_with_no_row_lock_held(committed, paused_live_workers):
    # paused: a live stack's worker relaying this pending message would lock its row for a moment
    server = _SlowServer()
    msg = _message(CALL, url=server.url)
    result = {}

    def worker():
        try:
            result["delivered"] = outbox.deliver(msg.pk)
        except Exception as exc:  # reported below
            result["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert server.arrived.wait(10), "the handler never made its call"
        assert _lock_nowait("core_outboxmessage", msg.pk)  # the message row is free during the call
        in_flight = OutboxMessage.objects.get(pk=msg.pk)
        assert in_flight.status == OutboxStatus.PENDING and in_flight.claimed_until > timezone.now()
        assert outbox.deliver(msg.pk) is False  # a second delivery respects the lease
    finally:
        server.release.set()
        thread.join(15)
        server.close()
    assert result == {"delivered": True}
    msg.refresh_from_db()
    assert msg.status == OutboxStatus.DONE and msg.claimed_until is None


def test_a_dead_workers_lease_expires_and_the_message_runs_again(committed, paused_live_workers):
    server = _SlowServer()
    server.release.set()
    try:
        msg = _message(CALL, url=server.url)
        OutboxMessage.objects.filter(pk=msg.pk).update(
            attempts=1, claimed_until=timezone.now() - timedelta(seconds=1)
        )  # claimed by a worker that died during its call
        assert outbox.deliver(msg.pk) is True
        msg.refresh_from_db()
        assert msg.status == OutboxStatus.DONE and msg.attempts == 2
    finally:
        server.close()


def test_backoff_never_exceeds_the_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 10
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    assert [outbox.backoff_seconds(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert outbox.backoff_seconds(50) == 3600


def test_the_outbox_screen_is_not_part_of_a_merchant_console(tenant_a, committed):
    """Every tenant's messages live in the public schema: a store's console never shows them."""
    from saas_platform.accounts.actions import issue_console_link

    owner = type(tenant_a).objects.get(pk=tenant_a.pk).owner
    merchant = Client()
    link = issue_console_link(user=owner, tenant=tenant_a)
    merchant.get("/" + link.split("/", 3)[3], HTTP_HOST=tenant_a.primary_host)
    assert merchant.get("/console/", HTTP_HOST=tenant_a.primary_host).status_code == 200
    assert merchant.get("/console/outbox/", HTTP_HOST=tenant_a.primary_host).status_code == 404
    assert "/console/outbox/" not in merchant.get("/console/", HTTP_HOST=tenant_a.primary_host).content.decode()


def test_an_external_handler_refuses_to_run_inside_a_transaction(committed):
    msg = _message(CALL, url="http://127.0.0.1:9/never-called")
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            outbox.deliver(msg.pk)
    msg.refresh_from_db()
    assert msg.status == OutboxStatus.PENDING and msg.attempts == 0  # nothing claimed, nothing called
