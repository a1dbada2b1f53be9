import time

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django_tenants.utils import schema_context

from saas_platform.accounts.actions import issue_console_link
from tests.conftest import make_owner


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _owner(tenant):
    with schema_context("public"):
        return tenant.owner


def test_owner_reaches_its_console_through_a_single_use_link(tenant_a, committed):
    link = issue_console_link(user=_owner(tenant_a), tenant=tenant_a)
    client = Client()
    first = client.get(_path(link), HTTP_HOST=tenant_a.primary_host)
    assert first.status_code == 302
    assert first["Location"] == "/console/"
    dashboard = client.get("/console/", HTTP_HOST=tenant_a.primary_host)
    assert dashboard.status_code == 200
    assert "店铺概况" in dashboard.content.decode()
    # Replay, even by another browser, is refused.
    replay = Client().get(_path(link), HTTP_HOST=tenant_a.primary_host)
    assert replay.status_code == 403


def test_a_link_for_one_tenant_is_refused_by_another(tenant_a, tenant_b, committed):
    link = issue_console_link(user=_owner(tenant_a), tenant=tenant_a)
    response = Client().get(_path(link), HTTP_HOST=tenant_b.primary_host)
    assert response.status_code == 403
    # and the console of B stays closed to that browser
    assert Client().get("/console/", HTTP_HOST=tenant_b.primary_host).status_code == 302


def test_an_expired_link_is_refused(tenant_a, committed):
    link = issue_console_link(user=_owner(tenant_a), tenant=tenant_a)
    with override_settings(CONSOLE_LINK_MAX_AGE=0):
        time.sleep(1.1)
        assert Client().get(_path(link), HTTP_HOST=tenant_a.primary_host).status_code == 403


def test_a_forged_link_is_refused(tenant_a, db):
    response = Client().get("/console-link/?token=abc:def:ghi", HTTP_HOST=tenant_a.primary_host)
    assert response.status_code == 403


def test_only_the_owner_can_ask_for_a_link(tenant_a, tenant_b, committed):
    with pytest.raises(PermissionDenied):
        issue_console_link(user=_owner(tenant_b), tenant=tenant_a)


def test_platform_login_by_phone_and_console_button(tenant_a, committed):
    client = Client()
    login = client.post(
        "/accounts/login/", {"username": "13600000001", "password": "Test-Pass-2026"}, HTTP_HOST="localhost"
    )
    assert login.status_code == 302
    home = client.get("/accounts/home/", HTTP_HOST="localhost")
    assert tenant_a.name in home.content.decode()
    go = client.post(f"/accounts/stores/{tenant_a.slug}/console/", HTTP_HOST="localhost")
    assert go.status_code == 302
    assert go["Location"].startswith(f"http://{tenant_a.primary_host}")
    other = client.post("/accounts/stores/bravo/console/", HTTP_HOST="localhost")
    assert other.status_code == 403


def test_wrong_password_is_refused_with_a_message(db, tenant_a):
    make_owner("owner-alpha", "13600000001")
    response = Client().post(
        "/accounts/login/", {"username": "13600000001", "password": "wrong-password"}, HTTP_HOST="localhost"
    )
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
