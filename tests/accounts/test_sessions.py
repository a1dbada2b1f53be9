"""A password reset ends every session of the account: its platform sessions and every
console session standing for it, in each store's schema."""

from django.test import Client
from django_tenants.utils import schema_context

from saas_platform.accounts.actions import issue_console_link
from saas_platform.onboarding import actions as onboarding
from saas_platform.onboarding.models import SmsPurpose
from tests.conftest import make_owner
from tests.onboarding.conftest import last_code

OWNER_PHONE, OWNER_PASSWORD = "13600000001", "Test-Pass-2026"  # tests.conftest's alpha owner


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _console_session(tenant, owner) -> Client:
    client = Client()
    assert (
        client.get(_path(issue_console_link(user=owner, tenant=tenant)), HTTP_HOST=tenant.primary_host).status_code
        == 302
    )
    assert client.get("/console/", HTTP_HOST=tenant.primary_host).status_code == 200
    return client


def _platform_session() -> Client:
    client = Client()
    login = client.post(
        "/accounts/login/", {"username": OWNER_PHONE, "password": OWNER_PASSWORD}, HTTP_HOST="localhost"
    )
    assert login.status_code == 302
    assert client.get("/accounts/home/", HTTP_HOST="localhost").status_code == 200
    return client


def test_a_password_reset_ends_the_platform_and_every_console_session(tenant_a, committed, memory_sms):
    owner = make_owner("owner-alpha", OWNER_PHONE)
    platform = _platform_session()
    console = _console_session(tenant_a, owner)
    other_console = _console_session(tenant_a, owner)  # a second browser

    with schema_context("public"):
        onboarding.send_code(phone=OWNER_PHONE, purpose=SmsPurpose.RESET_PASSWORD, ip="10.9.9.9")
        code = last_code(memory_sms, OWNER_PHONE)
        # The same password again: still a new hash, and it keeps the fixture's password valid.
        onboarding.reset_password(phone=OWNER_PHONE, code=code, password=OWNER_PASSWORD)

    home = platform.get("/accounts/home/", HTTP_HOST="localhost")
    assert home.status_code == 302 and "/accounts/login/" in home["Location"]
    for client in (console, other_console):
        page = client.get("/console/", HTTP_HOST=tenant_a.primary_host)
        assert page.status_code == 302 and "/console/login/" in page["Location"]
    # A fresh console link works again.
    _console_session(tenant_a, owner)


def test_console_sessions_survive_when_nothing_changes(tenant_a, committed):
    owner = make_owner("owner-alpha", OWNER_PHONE)
    console = _console_session(tenant_a, owner)
    for _ in range(2):
        assert console.get("/console/", HTTP_HOST=tenant_a.primary_host).status_code == 200


def test_deactivating_the_platform_account_ends_its_console_sessions(tenant_b, committed):
    from saas_platform.accounts.models import User

    with schema_context("public"):
        owner = User.objects.get(pk=tenant_b.owner_id)
    console = _console_session(tenant_b, owner)
    try:
        with schema_context("public"):
            User.objects.filter(pk=owner.pk).update(is_active=False)
        page = console.get("/console/", HTTP_HOST=tenant_b.primary_host)
        assert page.status_code == 302 and "/console/login/" in page["Location"]
    finally:
        with schema_context("public"):
            User.objects.filter(pk=owner.pk).update(is_active=True)
