"""The merchant console's order detail page in a real browser, at phone width (390 px): lines,
totals in yuan, masked phone, timeline, and the cancel action with its field error."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from mall.catalog.actions import create_product
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_consoles import enter_console, platform_login
from tests.factories import home

PHONE_WIDTH = 390
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def orders(live_stack, tenant_a, committed):
    from mall.customers.models import Customer
    from mall.orders.actions import place_order, record_payment

    with schema_context(tenant_a.schema_name):
        product = create_product(title="手机宽度测试·阳光玫瑰葡萄", price_fen=3990, stock=10)
        customer = Customer.objects.create(openid=f"b-{uuid.uuid4().hex}", nickname="窄屏顾客", phone="13512340000")
        paid = place_order(customer=customer, address=home(customer), items=[(product.pk, 2)])
        record_payment(
            order_no=paid.order_no, transaction_id=f"t-b-{paid.pk}", amount_fen=paid.total_fen, paid_at=timezone.now()
        )
        unpaid = place_order(customer=customer, address=home(customer), items=[(product.pk, 1)])
    return {"paid": paid, "unpaid": unpaid}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH + 1


def test_order_detail_works_at_phone_width(live_stack, tenant_a, orders, page):
    from mall.orders.models import Order

    platform_login(page, live_stack)
    enter_console(page, live_stack)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto(live_stack.url("alpha.localhost", "/console/orders/"))
    expect(page.get_by_text(orders["paid"].order_no)).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "order-list-390.png"), full_page=True)

    page.goto(live_stack.url("alpha.localhost", f"/console/orders/inspect/{orders['paid'].pk}/"))
    detail = page.locator('[data-page="order-detail"]')
    expect(detail.locator("[data-line]")).to_contain_text("阳光玫瑰葡萄")
    expect(detail.locator("[data-total]")).to_have_text("¥79.80")
    expect(detail.locator("[data-phone]")).to_have_text("135****0000")
    expect(detail.locator('[data-event="paid"]')).to_be_visible()
    assert _fits(page), "the order detail scrolls sideways at 390 px"
    page.screenshot(path=str(ARTIFACTS / "order-detail-390.png"), full_page=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # the README shows this one
    page.screenshot(path=str(SCREENSHOTS / "order-detail.png"), full_page=True)

    page.goto(live_stack.url("alpha.localhost", f"/console/orders/inspect/{orders['unpaid'].pk}/"))
    page.get_by_role("button", name="取消订单").click()
    expect(page.locator(".error-message")).to_contain_text("请填写取消原因。")  # the field's own error
    page.fill("#id_reason", "顾客电话要求取消")
    page.get_by_role("button", name="取消订单").click()
    expect(page.locator('[data-status="cancelled"]')).to_be_visible()
    expect(page.locator('[data-event="cancelled"]')).to_contain_text("顾客电话要求取消")
    assert _fits(page)
    page.screenshot(path=str(ARTIFACTS / "order-cancelled-390.png"), full_page=True)
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=orders["unpaid"].pk).status == "cancelled"
