"""Query count of the mini-program login (/api/v1/auth/login, the code exchanged with the WeChat
emulator): the same statements with 1 and with 20 more shoppers in the store, under a fixed
bound (the other /api/v1 endpoints: tests/api/test_query_counts.py)."""

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tests.factories import CustomerFactory
from tests.integrations.wechat.test_open_platform import bound_appid  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

# Measured, then written down: AppID resolution (SET search_path, the tenant), the component
# state (SET search_path, its row), SET search_path to the store, "is the shopper new", the
# shopper, and for a new one BEGIN, INSERT, COMMIT.
NEW_SHOPPER_BOUND = 10
RETURNING_SHOPPER_BOUND = 7


def test_shopper_login_runs_the_same_statements_with_1_and_20_more_shoppers(
    emulator,
    bound_appid,  # noqa: F811
    wx_tenant,
    committed,
    settings,
):
    settings.TENANT_CACHE_SECONDS = 0  # every request resolves its AppID: counts do not depend on timing
    client = Client()

    def login(openid: str) -> list[str]:
        code = emulator.api("login-code", appid=bound_appid, openid=openid)["code"]
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(
                "/api/v1/auth/login",
                data={"code": code},
                content_type="application/json",
                HTTP_HOST="api.localhost",
                HTTP_X_WX_APPID=bound_appid,
            )
        connection.set_schema_to_public()
        assert response.status_code == 200, response.content
        return [q["sql"] for q in ctx.captured_queries]

    login(f"o-qc-{uuid.uuid4().hex[:8]}")  # warm-up
    one = login(f"o-qc-{uuid.uuid4().hex[:8]}")
    with schema_context(wx_tenant.schema_name):
        for _ in range(20):
            CustomerFactory()
    returning = f"o-qc-{uuid.uuid4().hex[:8]}"
    many = login(returning)
    assert len(one) == len(many), "\n".join(many)
    assert len(many) <= NEW_SHOPPER_BOUND, "\n".join(many)
    again = login(returning)
    assert len(again) <= RETURNING_SHOPPER_BOUND, "\n".join(again)
