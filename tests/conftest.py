"""Test harness: real PostgreSQL (the test database), real Redis/Valkey, real Celery worker,
real gunicorn, real Chromium.

* ``django_db_setup`` migrates the test database, the tenant template and a small spare pool,
  and provisions two session tenants (``tenant_a``, ``tenant_b``) the way sign-up does.
* ``live_stack`` starts gunicorn + a Celery worker + beat against the test database and yields
  its base URL; tests that use it write data with ``committed`` (autocommit, no rollback).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    from tenants import provisioning
    from tenants.models import Domain, Tenant
    from tools.demo.management.commands.seed_demo import Command as Seed  # noqa: F401 (imports every app)

    # pytest-django creates the test database only when some collected test is marked for the
    # database; a run of `committed`-only tests must never touch the developer's database.
    own = None
    test_name = settings.DATABASES["default"]["TEST"]["NAME"]
    if connection.settings_dict["NAME"] != test_name:
        with django_db_blocker.unblock():
            own = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    assert connection.settings_dict["NAME"] == test_name, "tests must run on the test database"
    with django_db_blocker.unblock():
        provisioning.ensure_template()
        provisioning.refill_spare_pool(size=2, wait=True)
        public, _ = Tenant.objects.get_or_create(
            schema_name="public", defaults={"slug": "platform", "name": "平台", "status": "active"}
        )
        Domain.objects.get_or_create(domain="localhost", defaults={"tenant": public, "is_primary": True})
    yield
    if own is not None:
        with django_db_blocker.unblock():
            connection.close()
            teardown_databases(own, verbosity=0)


@pytest.fixture(autouse=True)
def _own_storefront_cache(monkeypatch):
    """Each test reads its own storefront cache entries: the database is rolled back between
    tests but Redis is not, and rows written without an action (bulk_create) bump no version."""
    import uuid

    from mall.catalog import storefront_cache

    monkeypatch.setattr(storefront_cache, "EPOCH", uuid.uuid4().hex[:12])
    monkeypatch.setattr(storefront_cache, "_down_until", [0.0])  # no outage left over from another test


@pytest.fixture(scope="session", autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters (per IP, per phone) are kept in Redis across runs; every browser test
    comes from 127.0.0.1, so a run starts from zero."""
    clear_rate_limits()


def clear_rate_limits() -> None:
    """Remove our ``rl:`` counters only. Every test comes from the same address, so tests that
    send codes start from zero instead of sharing one hour's per-IP budget with the whole run
    (the limits themselves are tested on their own)."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    for key in client.scan_iter(match="*:rl:*", count=500):
        client.delete(key)
    client.close()


# What a production process needs besides its secrets: development SMS senders are refused there.
PRODUCTION_SMS = {
    "SMS_BACKEND": "integrations.sms.backends.HttpSender",
    "SMS_HTTP_URL": "https://sms-gateway.example.com/send",  # never called: the processes only start
}


def make_owner(username: str, phone: str, password: str = "Test-Pass-2026"):
    from saas_platform.accounts.actions import create_platform_user
    from saas_platform.accounts.models import User

    with schema_context("public"):
        user = User.objects.filter(username=username).first()
        return user or create_platform_user(username=username, password=password, phone=phone)


def authorize_appid(tenant, appid: str):
    """The store completed WeChat's authorization of ``appid`` (what the component's
    ``api_query_auth`` answer is turned into): from now on the AppID resolves its API traffic."""
    from saas_platform.miniprogram.actions import save_authorization

    save_authorization(info={"authorizer_appid": appid, "func_info": []}, tenant=tenant)
    tenant.refresh_from_db()
    return tenant


def _provision(slug: str, name: str, appid: str, phone: str):
    from tenants.actions import provision_tenant
    from tenants.models import Tenant

    existing = Tenant.objects.filter(slug=slug).first()
    if existing:
        return existing
    owner = make_owner(f"owner-{slug}", phone)
    tenant = provision_tenant(slug=slug, name=name, owner=owner, industry="fresh", wechat_appid=appid)
    return authorize_appid(tenant, appid)


@pytest.fixture(scope="session")
def tenant_a(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return _provision("alpha", "阿尔法鲜果", "wx00000000000000a1", "13600000001")


@pytest.fixture(scope="session")
def tenant_b(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return _provision("bravo", "布拉沃旅行", "wx00000000000000b2", "13600000002")


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Autocommit database access (on the test database), for data other processes (server,
    worker) must see."""
    with django_db_blocker.unblock():
        yield
    connection.set_schema_to_public()


@pytest.fixture
def in_tenant():
    """``with in_tenant(t): …`` runs ORM code in that tenant's schema."""

    def enter(tenant):
        return schema_context(tenant.schema_name)

    yield enter
    connection.set_schema_to_public()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SESSION_SMS_FILE = ARTIFACTS / f"sms-{os.getpid()}.jsonl"


def subprocess_env(**extra) -> dict[str, str]:
    """Environment for child processes: the *test* database, this session's Redis."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    url = url._replace(path="/" + db["NAME"])
    env = dict(os.environ, DATABASE_URL=urllib.parse.urlunsplit(url), DJANGO_SETTINGS_MODULE="config.settings")
    # Every stack's worker sends SMS into one file of this session: the stacks share the
    # database and the broker, so any of their workers may run a message another stack's web
    # process recorded (``Stack.sms_code`` reads this file).
    env.update({"SMS_BACKEND": "integrations.sms.backends.FileSender", "SMS_FILE_PATH": str(SESSION_SMS_FILE)})
    env.update({k: str(v) for k, v in extra.items()})
    return env


# A busy machine (another `make test` running, 2 cores) starts gunicorn, Celery, moto or the
# emulator in tens of seconds, not one or two: every readiness wait gets this long.
READY_TIMEOUT = float(os.environ.get("TEST_READY_TIMEOUT", "120"))
# What a probe of a server that is not up yet may raise: refused or reset connections and every
# kind of timeout (socket.timeout, urllib's URLError, requests' ConnectionError and ReadTimeout
# are all OSError), and a half-written HTTP answer (http.client.HTTPException).
NOT_READY = (OSError, http.client.HTTPException)


def wait_ready(
    probe: Callable[[], object],
    *,
    what: str,
    procs: Sequence[subprocess.Popen] = (),
    logs: Sequence[Path] = (),
    timeout: float = READY_TIMEOUT,
    interval: float = 0.25,
):
    """Call ``probe()`` until it returns a true value, and return that value.

    A probe raising one of ``NOT_READY`` means "not yet". The wait fails when ``timeout`` passes
    or a child in ``procs`` exits; on any failure (Ctrl-C included) every child in ``procs`` is
    stopped before the error goes up, and the error shows the last probe's problem and the tail
    of each file in ``logs``."""
    deadline = time.monotonic() + timeout
    last = "no probe yet"
    try:
        while True:
            try:
                value = probe()
            except NOT_READY as exc:
                value, last = None, f"{type(exc).__name__}: {exc}"
            else:
                if value:
                    return value
                last = f"probe answered {value!r}"
            dead = [p for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{what}: {dead[0].args[0]} exited with {dead[0].returncode} ({last})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not ready after {timeout:.0f} s ({last})")
            time.sleep(interval)
    except BaseException as exc:
        stop_processes(procs)
        tails = [f"--- {log} ---\n{log.read_text(errors='replace')[-2000:]}" for log in logs if log.exists()]
        if tails and isinstance(exc, RuntimeError):
            raise RuntimeError("\n".join([str(exc), *tails])) from None
        raise


def http_answers(url: str, host: str, timeout: float = 10.0) -> bool:
    """True once the server at ``url`` answers HTTP at all (an error status counts)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Host": host}), timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True


def wait_for(url: str, host: str, timeout: float = READY_TIMEOUT, *, procs=(), logs=()) -> None:
    wait_ready(lambda: http_answers(url, host), what=url, procs=procs, logs=logs, timeout=timeout)


# Live stacks of this session (``live_stack``): tests of the outbox's own mechanics pause their
# Celery workers (``paused_live_workers``) so that no other consumer runs the messages they check.
RUNNING_STACKS: list = []


def _worker_name(stack) -> str:
    import socket

    return f"test-{stack.port}@{socket.gethostname()}"  # ``-n test-{port}@%h`` in start_processes


def _consuming(names: list[str], on: bool) -> None:
    """Ask these workers to stop (or start again) taking messages from the queue, and wait for
    their answers. A paused process alone is not enough: a Redis consumer's BRPOP, sent before
    SIGSTOP, still receives the next message, which the worker runs once it is resumed (seen: a
    live stack's worker took another stack's subscribe message that way)."""
    if not names:
        return
    from config.celery import app

    queue = app.conf.task_default_queue
    command = app.control.add_consumer if on else app.control.cancel_consumer
    command(queue, destination=names, reply=True, timeout=10)
    if not on:
        # A BRPOP already sent when the consumer was cancelled still returns the next message
        # within kombu's ``brpop_timeout`` (1 s); a worker with no consumer puts it back at
        # once, but only while it runs: let that window pass before the workers are stopped.
        time.sleep(1.5)


@contextlib.contextmanager
def workers_paused(keep: Sequence[list] = ()):
    """Pause the Celery worker and beat (with their pool children) of every running stack of
    this session except those whose ``procs`` list is in ``keep``: each worker first stops
    consuming (``cancel_consumer``), then worker and beat are SIGSTOPped; after the test, SIGCONT
    and the workers consume again."""
    import signal

    import psutil

    stacks = [s for s in RUNNING_STACKS if not any(s.procs is procs for procs in keep)]
    names = [_worker_name(s) for s in stacks if len(s.procs) > 1 and s.procs[1].poll() is None]
    _consuming(names, on=False)
    stopped = []
    for stack in stacks:
        for proc in stack.procs[1:]:  # [web, worker, beat]: the web server keeps serving
            if proc.poll() is not None:
                continue
            parent = psutil.Process(proc.pid)
            for p in [parent, *parent.children(recursive=True)]:
                try:
                    p.send_signal(signal.SIGSTOP)
                    stopped.append(p)
                except psutil.NoSuchProcess:
                    pass
    try:
        yield
    finally:
        for p in reversed(stopped):
            try:
                p.send_signal(signal.SIGCONT)
            except psutil.NoSuchProcess:
                pass
        _consuming(names, on=True)


@pytest.fixture
def paused_live_workers():
    """Pause the worker and beat of every running stack for the test: they share the test
    database and broker, and would otherwise take the committed outbox messages a test is
    checking."""
    with workers_paused():
        yield


@dataclass
class Stack:
    port: int
    procs: list
    log_dir: Path
    sms_file: Path

    def sms_code(self, phone: str, timeout: float = 10.0) -> str:
        """The latest code the SMS sender sent to ``phone``. SMS go through the outbox (the
        worker sends them after the request's commit), so wait up to ``timeout`` seconds."""
        import json
        import re

        deadline = time.monotonic() + timeout
        while True:
            lines = self.sms_file.read_text(encoding="utf-8").splitlines() if self.sms_file.exists() else []
            texts = [json.loads(line)["text"] for line in lines if json.loads(line)["phone"] == phone]
            if texts or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if not texts:
            raise AssertionError(f"no SMS was sent to {phone}")
        return re.search(r"验证码 (\d{6})", texts[-1]).group(1)

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def get(self, host: str, path: str, headers: dict | None = None):
        """(status, body bytes, headers) of a GET sent to 127.0.0.1 with a Host header."""
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Host": f"{host}:{self.port}", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)


def start_processes(env: dict, port: int, log_dir: Path, *, beat: bool = False) -> list:
    log_dir.mkdir(parents=True, exist_ok=True)

    def spawn(name, args):
        out = open(log_dir / f"{name}.log", "wb")
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    commands = {
        "web": [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2"]
        + ["--timeout", "60"],
        "worker": [str(BIN / "celery"), "-A", "config", "worker", "-l", "INFO", "-c", "2", "-n", f"test-{port}@%h"],
    }
    if beat:
        commands["beat"] = [
            str(BIN / "celery"),
            "-A",
            "config",
            "beat",
            "-l",
            "INFO",
            "-s",
            str(log_dir / "beat-schedule"),
        ]
    procs: list = []
    try:
        for name, args in commands.items():
            procs.append(spawn(name, args))
    except BaseException:
        stop_processes(procs)  # a failed spawn leaves none of the others running
        raise
    return procs


def stop_processes(procs: list) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.fixture(scope="session")
def live_stack(tenant_a, tenant_b, django_db_blocker):
    port = free_port()
    log_dir = ARTIFACTS / f"stack-{port}"
    log_dir.mkdir(parents=True, exist_ok=True)
    sms_file = SESSION_SMS_FILE
    env = subprocess_env(
        PUBLIC_PORT=port,
        OUTBOX_RELAY_SECONDS=2,
    )
    procs = start_processes(env, port, log_dir, beat=True)
    try:
        logs = sorted(log_dir.glob("*.log"))
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost", procs=procs, logs=logs)
        stack = Stack(port=port, procs=procs, log_dir=log_dir, sms_file=sms_file)
        RUNNING_STACKS.append(stack)
        # /healthz answers 200 once the worker answers pings too.
        wait_ready(
            lambda: stack.get("localhost", "/healthz")[0] == 200, what="live stack /healthz", procs=procs, logs=logs
        )
        yield stack
    finally:
        RUNNING_STACKS[:] = [s for s in RUNNING_STACKS if s.procs is not procs]
        stop_processes(procs)


def remove_tenant_rows(tenant) -> None:
    """Test teardown: delete a throw-away tenant's public rows. The audit trail is append-only
    (a trigger refuses DELETE); only here, in one transaction, the table owner switches the
    trigger off and on again (DDL is transactional, so no other session ever sees it off)."""
    from django.db import transaction

    from saas_platform.onboarding.models import MerchantProfile
    from saas_platform.review.models import AuditEntry, QualificationDocument
    from tenants.models import Domain, Tenant

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("ALTER TABLE review_auditentry DISABLE TRIGGER review_auditentry_append_only")
        QualificationDocument.objects.filter(tenant=tenant).delete()
        AuditEntry.objects.filter(tenant=tenant).delete()
        MerchantProfile.objects.filter(tenant=tenant).delete()
        Domain.objects.filter(tenant=tenant).delete()
        Tenant.objects.filter(pk=tenant.pk).delete()
        cur.execute("ALTER TABLE review_auditentry ENABLE TRIGGER review_auditentry_append_only")
