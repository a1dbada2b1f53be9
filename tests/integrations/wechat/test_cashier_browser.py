"""A person pays on the emulator's cashier page (Native QR payment) in Chromium.

Playwright runs in a thread of its own: the browser tests' session-wide Playwright (tests/browser)
may already hold this thread's event loop."""

import json
import os
import threading
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from mall.orders.models import Order
from mall.payments.actions import start_native_payment
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DEFAULT_TIMEOUT_MS
from tests.integrations.wechat.conftest import wait_until
from tests.integrations.wechat.helpers import make_order, reload

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def in_chromium(steps) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}", pytrace=False)
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    errors: list[BaseException] = []

    def run():
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_context(locale="zh-CN").new_page()
                page.set_default_timeout(DEFAULT_TIMEOUT_MS)
                try:
                    steps(page)
                finally:
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / "test_shopper_pays_on_the_cashier_page.png"), full_page=True)
                    browser.close()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    if errors:
        raise errors[0]


def test_shopper_pays_on_the_cashier_page(emulator, wechat_web, wx_tenant, committed):
    order = make_order(wx_tenant, price_fen=8800)
    with schema_context(wx_tenant.schema_name):
        code_url = start_native_payment(order=order)

    def steps(page):
        from playwright.sync_api import expect

        expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
        page.goto(code_url)
        expect(page.locator("#amount")).to_have_text("¥88.00")
        # Each button posts the form; the next page carries the result (wait for it, not for the
        # old page's #result).
        with page.expect_navigation():
            page.click("#cancel")
        expect(page.locator("#result")).to_contain_text("已取消")
        with page.expect_navigation():
            page.click("#pay")
        expect(page.locator("#result")).to_have_text("支付成功")
        # The notify is sent after the page answers: wait until the emulator has logged it, then
        # the inspector lists it.
        assert wait_until(lambda: any("TRANSACTION.SUCCESS" in json.dumps(e) for e in emulator.log()), timeout=60)
        page.goto(f"{emulator.url}/_emulator/")
        expect(page.locator("#log").get_by_text("TRANSACTION.SUCCESS").first).to_be_visible()

    in_chromium(steps)
    assert wait_until(lambda: reload(wx_tenant, Order, pk=order.pk).status == "paid")
