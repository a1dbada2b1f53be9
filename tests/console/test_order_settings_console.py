"""The console's 订单设置: the owner changes the store's order rules through
``update_order_settings`` (bounds and the query-before-cancel rule give field errors in Chinese,
nothing saved on an error); other roles are denied (Wagtail redirects a denial); new orders take the new payment window."""

from __future__ import annotations

from django_tenants.utils import schema_context

from mall.orders.actions import place_order
from mall.orders.models import OrderSettings
from tests.console.conftest import login
from tests.factories import ProductFactory, buyer

URL = "/console/order-settings/"


def _row(tenant):
    with schema_context(tenant.schema_name):
        row = OrderSettings.current()
        return row.auto_cancel_minutes, row.unpaid_query_minutes, row.auto_complete_days


def test_the_owner_changes_the_rules_and_new_orders_follow_them(tenant_a, merchant_users, db):
    client = login(merchant_users["owner"], tenant_a.schema_name)
    host = tenant_a.primary_host
    page = client.get(URL, HTTP_HOST=host)
    assert page.status_code == 200
    html = page.content.decode()
    assert "未付款自动取消（分钟）" in html and "签收后自动完成（天）" in html
    saved = client.post(
        URL, {"auto_cancel_minutes": "45", "unpaid_query_minutes": "10", "auto_complete_days": "10"}, HTTP_HOST=host
    )
    assert saved.status_code == 302
    assert _row(tenant_a) == (45, 10, 10)
    with schema_context(tenant_a.schema_name):
        order = place_order(**buyer(), items=[(ProductFactory(stock=5).pk, 1)])
        assert round((order.expires_at - order.created).total_seconds() / 60) == 45
    menu = client.get("/console/", HTTP_HOST=host).content.decode()
    assert URL in menu  # the settings menu shows it to the owner


def test_bad_values_are_refused_on_their_fields_and_nothing_is_saved(tenant_a, merchant_users, db):
    client = login(merchant_users["owner"], tenant_a.schema_name)
    host = tenant_a.primary_host
    before = _row(tenant_a)
    for data, field_message in (
        ({"auto_cancel_minutes": "2", "unpaid_query_minutes": "1", "auto_complete_days": "7"}, "不能小于 5。"),
        ({"auto_cancel_minutes": "30", "unpaid_query_minutes": "5", "auto_complete_days": "99"}, "不能大于 30。"),
        ({"auto_cancel_minutes": "abc", "unpaid_query_minutes": "5", "auto_complete_days": "7"}, "请填写整数。"),
        (
            {"auto_cancel_minutes": "10", "unpaid_query_minutes": "10", "auto_complete_days": "7"},
            "补查支付须早于未付款自动取消。",
        ),
    ):
        response = client.post(URL, data, HTTP_HOST=host)
        assert response.status_code == 400, data
        assert field_message in response.content.decode(), data
    assert _row(tenant_a) == before


def test_other_roles_cannot_open_it(tenant_a, merchant_users, db):
    for role in ("operations", "customer_service", "finance"):
        client = login(merchant_users[role], tenant_a.schema_name, raise_errors=False)
        denied = client.get(URL, HTTP_HOST=tenant_a.primary_host)
        assert denied.status_code == 302 and "/order-settings/" not in denied["Location"], role  # Wagtail's denial
        response = client.post(
            URL, {"auto_cancel_minutes": "45", "unpaid_query_minutes": "10", "auto_complete_days": "10"},
            HTTP_HOST=tenant_a.primary_host,
        )  # fmt: skip
        assert response.status_code == 302, role
        assert URL not in client.get("/console/", HTTP_HOST=tenant_a.primary_host).content.decode(), role
    assert _row(tenant_a) == (30, 5, 7)  # the defaults: no denied POST changed anything
