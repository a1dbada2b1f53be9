"""Every login form is throttled by one counter per account (django-axes at the
authentication-backend level): the platform login, Wagtail's /staff/login/ and each store's
/console/login/. Attempts come from a new IP each time, as from a botnet: the lock is the
account's, not the address's."""

import uuid

import pytest
from axes.models import AccessAttempt
from django.db.models import Sum
from django.test import Client
from django_tenants.utils import schema_context

from saas_platform.accounts.actions import create_platform_user, ensure_console_user
from saas_platform.accounts.models import User
from tests.onboarding.conftest import new_phone

PASSWORD = "Right-Pass-2026"


def _ip() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def _post(client, host, path, username, password):
    return client.post(path, {"username": username, "password": password}, HTTP_HOST=host, REMOTE_ADDR=_ip())


def _failures(key: str) -> int:
    """axes keeps one row per (account, IP, user agent) and sums them for the account."""
    return AccessAttempt.objects.filter(username=key).aggregate(n=Sum("failures_since_start"))["n"] or 0


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _platform_user(**extra):
    phone = new_phone()
    with schema_context("public"):
        return create_platform_user(username=f"m{phone}", password=PASSWORD, phone=phone, **extra), phone


def test_forty_wrong_passwords_at_staff_login_then_the_right_one_is_refused(db):
    staff, _phone = _platform_user(is_staff=True)
    client = Client()
    for _ in range(40):
        _post(client, "localhost", "/staff/login/", staff.username, "wrong-pass-1")
    last = _post(client, "localhost", "/staff/login/", staff.username, PASSWORD)
    assert last.status_code == 429
    assert "账号已锁定" in last.content.decode()
    assert not _logged_in(client)
    assert _failures(f"acct:{staff.pk}") == 41


def test_the_staff_login_still_works_below_the_limit(db):
    staff, _phone = _platform_user(is_staff=True)
    client = Client()
    for _ in range(4):
        assert _post(client, "localhost", "/staff/login/", staff.username, "wrong-pass-1").status_code == 200
    ok = _post(client, "localhost", "/staff/login/", staff.username, PASSWORD)
    assert ok.status_code == 302 and _logged_in(client)
    assert not AccessAttempt.objects.filter(username=f"acct:{staff.pk}").exists()  # reset on success


def test_forty_wrong_passwords_at_console_login_then_the_right_one_is_refused(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        clerk = User.objects.create_user(username=f"clerk-{uuid.uuid4().hex[:8]}", password=PASSWORD, is_staff=True)
    host = tenant_a.primary_host
    client = Client()
    for _ in range(40):
        _post(client, host, "/console/login/", clerk.username, "wrong-pass-1")
    last = _post(client, host, "/console/login/", clerk.username, PASSWORD)
    assert last.status_code == 429
    assert not _logged_in(client)
    # Counted in the public schema, against this store's user.
    assert AccessAttempt.objects.filter(username=f"{tenant_a.schema_name}:user:{clerk.pk}").exists()


def test_the_phone_and_the_username_share_one_counter(db, settings):
    user, phone = _platform_user()
    client = Client()
    strings = [phone, f"m{phone}", f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", f"M{phone}"]
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            _post(client, "localhost", "/accounts/login/", strings[i % len(strings)], "nope-nope-1").status_code == 200
        )
    assert AccessAttempt.objects.filter(username__contains=phone).count() == 0  # keyed by account, not string
    assert _failures(f"acct:{user.pk}") == settings.AXES_FAILURE_LIMIT - 1
    _post(client, "localhost", "/accounts/login/", f"m{phone}", "nope-nope-1")
    for login in (phone, f"m{phone}"):
        refused = _post(client, "localhost", "/accounts/login/", login, PASSWORD)
        assert refused.status_code == 429
        assert not _logged_in(client)


def test_a_platform_accounts_lock_holds_in_its_store_consoles(tenant_a, db, settings):
    """A console user standing for a platform account shares that account's counter."""
    user, phone = _platform_user()
    with schema_context(tenant_a.schema_name):
        console_user = ensure_console_user(platform_user=user)
        console_user.set_password(PASSWORD)  # as if it had one: the lock must refuse it anyway
        console_user.save()
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post(client, "localhost", "/accounts/login/", phone, "nope-nope-1")
    refused = _post(client, tenant_a.primary_host, "/console/login/", phone, PASSWORD)
    assert refused.status_code == 429
    assert not _logged_in(client)


def test_unknown_accounts_are_counted_too(db, settings):
    client = Client()
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post(client, "localhost", "/accounts/login/", name, "nope-nope-1")
    assert _failures(f"public:login:{name}") == settings.AXES_FAILURE_LIMIT


def test_one_address_is_limited_across_accounts(db, settings):
    from core import ratelimit

    settings.LOGIN_LIMIT_PER_IP = 3
    ip = _ip()
    client = Client(REMOTE_ADDR=ip)
    try:
        for _ in range(3):
            page = client.post(
                "/accounts/login/", {"username": new_phone(), "password": "x-x-x-x-1"}, HTTP_HOST="localhost"
            )
            assert page.status_code == 200
        user, phone = _platform_user()
        throttled = client.post("/accounts/login/", {"username": phone, "password": PASSWORD}, HTTP_HOST="localhost")
        assert throttled.status_code == 429
        assert "登录尝试过于频繁" in throttled.content.decode()
        assert not _logged_in(client)
    finally:
        ratelimit.reset(f"login:ip:{ip}")


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [("13800138002", "m13800138002"), (" 138 0013 8002", "13800138002"), ("+8613800138002", "M13800138002")],
)
def test_login_strings_normalise_to_one_phone(typed, same_as):
    from saas_platform.accounts.throttle import _login_string

    assert _login_string(typed) == _login_string(same_as) == "13800138002"
