"""Issue 8 item 4: schemathesis over the whole public API schema, in `make test`.

The app is called in process through its WSGI entry point (the real middleware stack, the
real test database), for a store whose mini-program is bound through the WeChat emulator, so
``auth/login`` really exchanges codes. Every operation gets a bounded number of generated
requests, valid and invalid, anonymous and with a real shopper token; no answer may be a
server error and every answer must match the documented status codes, content type and
schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from mall.catalog.models import Product
from mall.customers.actions import login_shopper
from tests.integrations.wechat.test_open_platform import bound_appid  # noqa: F401 (fixture)

HOST = "wxtest.localhost"
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
]


@pytest.fixture
def wsgi_app(bound_appid, db):  # noqa: F811
    """Django's WSGI handler inside the test's transaction: like ``django.test.Client``, the
    handler must not close the connection at the end of each request."""
    from django.core.wsgi import get_wsgi_application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        connection.set_schema_to_public()  # the last request left its tenant's schema active


@pytest.fixture
def api_schema(wsgi_app):
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers={"Host": HOST})


@pytest.fixture
def shopper_headers(wx_tenant, db):
    from mall.api.auth import issue_token

    with schema_context(wx_tenant.schema_name):
        for i in range(3):
            Product.objects.get_or_create(title=f"模糊测试商品 {i}", defaults={"price_fen": 990 + i, "stock": 50})
        token = issue_token(login_shopper(openid="o-schemathesis"))
    return {"Host": HOST, "Authorization": f"Bearer {token}"}


EXAMPLES_PER_OPERATION = 25  # per operation and generation mode (6 operations x 2 modes)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_and_never_errors(api_schema, shopper_headers, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 6, [op.label for op in operations]
    calls = []
    unsatisfiable = []

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            # Half the requests carry the real shopper token, the rest whatever was generated.
            headers = {"Host": HOST} if len(calls) % 2 else shopper_headers
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            calls.append((case.operation.label, response.status_code))

        try:
            run()
        except Unsatisfiable:
            # Negative mode: nothing of this operation can be made invalid (e.g. only free-text
            # headers); its positive run covers it.
            assert mode == GenerationMode.NEGATIVE, operation.label
            unsatisfiable.append(operation.label)
    statuses = {status for _, status in calls}
    assert all(s < 500 for s in statuses)
    called = {label for label, _ in calls}
    assert called | set(unsatisfiable) == {op.label for op in operations}
    # Only an operation with nothing to make invalid (no path, query or body, just the free-text
    # AppID header: GET store, cart, me) may be unsatisfiable; every other one was really called.
    by_label = {op.label: op for op in operations}
    for label in unsatisfiable:
        op = by_label[label]
        assert not len(op.path_parameters) and not len(op.query) and not len(op.body), label
    assert len(called) == len(operations) - len(unsatisfiable) and len(calls) >= len(called) * 5
