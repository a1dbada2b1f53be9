"""The consoles' shell in a real browser.

* One gunicorn process (``-w 1``) serves both consoles; whichever console it serves first,
  every sidebar menu item of both opens in its own console (Wagtail builds its menu once per
  process: it used to keep the first console's prefix).
* Brand: 分销云 logo, favicon and titles; no Wagtail CMS menus.
* At 390 px wide (a phone), the merchant dashboard (with its ECharts chart), the order list and
  the staff review queue fit the screen; their screenshots are written to docs/screenshots/
  (the README shows them).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser.conftest import new_context
from tests.browser.test_consoles import enter_console, platform_login, staff_login, staff_user  # noqa: F401
from tests.conftest import BIN, ROOT, Stack, free_port, stop_processes, subprocess_env, wait_for

SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
CMS_MENUS = ["页面", "报告", "工作流", "站点", "集合", "帮助", "图片", "文档"]

MENU_LINKS_JS = """() => {
  const found = [];
  const walk = (node) => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (node && typeof node === 'object') {
      if (node._type === 'wagtail.sidebar.LinkMenuItem') found.push([node._args[0].label, node._args[0].url]);
      Object.values(node).forEach(walk);
    }
  };
  walk(JSON.parse(document.getElementById('wagtail-sidebar-props').textContent));
  return found;
}"""


@pytest.fixture
def one_worker(live_stack, tenant_a, tenant_b, tmp_path):
    """A fresh single gunicorn worker on the test database (no request served yet)."""
    port = free_port()
    log = open(tmp_path / "web.log", "wb")
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "60"],
        cwd=ROOT,
        env=subprocess_env(PUBLIC_PORT=port),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost")
        yield Stack(port=port, procs=[proc], log_dir=tmp_path, sms_file=tmp_path / "sms.jsonl")
    finally:
        stop_processes([proc])
        log.close()


def _open_every_menu_item(page, stack, host: str, base: str) -> list[str]:
    page.goto(stack.url(host, base))
    links = page.evaluate(MENU_LINKS_JS)
    assert links, "empty sidebar"
    opened = []
    for label, url in links:
        assert url.startswith(base), f"menu item {label} points at {url}, outside {base}"
        response = page.goto(stack.url(host, url))
        assert response.status == 200, f"menu item {label} ({url}) answered {response.status}"
        assert page.url.startswith(stack.url(host, base)), f"menu item {label} left the console: {page.url}"
        opened.append(label)
    return opened


ROLE_PASSWORD = "Role-Pass-2026"
STAFF_ROLE_USERS = {"reviewer": "shell-reviewer", "operator": "shell-operator"}
MEMBER_PHONES = {"operations": "13722220001", "customer_service": "13722220002", "finance": "13722220003"}


@pytest.fixture
def role_logins(one_worker, tenant_a, committed):
    """A login for every console role: staff ``reviewer`` / ``operator`` (username) and the
    merchant ``owner`` plus one team member per member role (phone), all with passwords."""
    from saas_platform.accounts.actions import create_platform_user
    from saas_platform.accounts.models import User
    from saas_platform.accounts.team import invite_member
    from tenants.models import TeamMember
    from tests.browser.test_consoles import OWNER_PASSWORD, OWNER_PHONE

    with schema_context("public"):
        for role, username in STAFF_ROLE_USERS.items():
            if not User.objects.filter(username=username).exists():
                create_platform_user(username=username, password=ROLE_PASSWORD, is_staff=True, staff_role=role)
        for role, phone in MEMBER_PHONES.items():
            if not User.objects.filter(username=f"shell-{role}").exists():
                create_platform_user(username=f"shell-{role}", password=ROLE_PASSWORD, phone=phone)
        members = set(
            TeamMember.objects.filter(tenant=tenant_a, is_active=True).values_list("user__username", flat=True)
        )
    with schema_context(tenant_a.schema_name):
        for role, phone in MEMBER_PHONES.items():
            if f"shell-{role}" not in members:
                invite_member(phone=phone, role=role, name=f"成员{phone[-2:]}")
    return {
        "staff": [(role, username, ROLE_PASSWORD) for role, username in STAFF_ROLE_USERS.items()],
        "merchant": [("owner", OWNER_PHONE, OWNER_PASSWORD)]
        + [(role, phone, ROLE_PASSWORD) for role, phone in MEMBER_PHONES.items()],
    }


def _staff_login_as(page, stack, username: str, password: str) -> None:
    page.goto(stack.url("localhost", "/staff/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator('form button[type="submit"]').click()
    expect(page).to_have_url(stack.url("localhost", "/staff/"))


@pytest.mark.parametrize("first", ["staff", "merchant"])
def test_every_menu_item_opens_whichever_console_one_process_served_first(
    one_worker, role_logins, tenant_a, browser, first
):
    """Every role of both consoles (staff reviewer and operator; merchant owner, operations,
    customer service, finance) clicks through every sidebar item it is shown."""
    order = [first, "merchant" if first == "staff" else "staff"]
    opened_by_role = {}
    for side in order:
        for role, login, password in role_logins[side]:
            context = new_context(browser)
            try:
                page = context.new_page()
                if side == "staff":
                    _staff_login_as(page, one_worker, login, password)
                    host, base = "localhost", "/staff/"
                else:
                    platform_login(page, one_worker, login, password)
                    enter_console(page, one_worker, "alpha")
                    host, base = "alpha.localhost", "/console/"
                opened = _open_every_menu_item(page, one_worker, host, base)
            finally:
                context.close()
            assert not set(opened) & set(CMS_MENUS), f"{side}/{role}: CMS menus shown: {set(opened) & set(CMS_MENUS)}"
            opened_by_role[f"{side}/{role}"] = opened
    assert len(opened_by_role) == 6
    # The roles see different menus: a member's is a strict part of the owner's.
    owner = set(opened_by_role["merchant/owner"])
    for role in MEMBER_PHONES:
        assert set(opened_by_role[f"merchant/{role}"]) < owner, role


def test_console_pages_carry_the_brand(live_stack, tenant_a, page):
    page.goto(live_stack.url("alpha.localhost", "/console/login/"))
    expect(page).to_have_title("登录 - 分销云")
    expect(page.locator("h1")).to_have_text("登录分销云")
    expect(page.locator(".login-logo img")).to_have_attribute("alt", "分销云")
    favicon = page.locator('link[rel="icon"]').get_attribute("href")
    assert favicon.endswith("/static/console/brand/favicon.svg")
    assert page.request.get(live_stack.url("localhost", favicon)).status == 200  # static: any host
    assert "Wagtail" not in page.content().replace("wagtail", "")  # class names and paths aside


@pytest.fixture
def shop_activity(live_stack, tenant_a, committed):
    """A week of paid orders in alpha's store, for a dashboard worth looking at."""
    from mall.orders.actions import place_order, record_payment
    from tests.factories import ProductFactory, buyer

    with schema_context(tenant_a.schema_name):
        from django.core.cache import cache

        from saas_platform.console.selectors import dashboard_cache_key

        product = ProductFactory(title="截图用·赣南脐橙 5 斤装", price_fen=3990, stock=500)
        ProductFactory(title="截图用·库存不足的阳光玫瑰", price_fen=6800, stock=2)
        now = timezone.now()
        for day, count in enumerate([3, 5, 2, 6, 4, 7, 5]):
            for _ in range(count):
                order = place_order(**buyer(), items=[(product.pk, 1 + day % 2)])
                record_payment(
                    order_no=order.order_no,
                    transaction_id=f"shot-{order.order_no}",
                    amount_fen=order.total_fen,
                    paid_at=now - dt.timedelta(days=6 - day, minutes=1),
                )
        cache.delete(dashboard_cache_key("merchant"))
    yield


def _fits(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide at {PHONE['width']}px"


def _shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_merchant_dashboard_and_order_list_on_a_phone(live_stack, tenant_a, shop_activity, browser):
    context = new_context(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        platform_login(page, live_stack)
        enter_console(page, live_stack, "alpha")
        panel = page.locator('[data-panel="merchant-overview"]')
        expect(panel).to_contain_text("店铺概况")
        expect(panel.locator('[data-figure="today-paid"] strong')).to_contain_text("¥")
        expect(panel.locator('[data-todo="to_ship"] a')).to_have_attribute("href", "/console/orders/?status=paid")
        chart = page.locator("#merchant-sales-chart")
        expect(chart).to_have_attribute("data-ready", "true")
        expect(chart.locator("svg")).to_have_count(1)
        page.get_by_role("button", name="近 30 天").click()
        expect(chart).to_have_attribute("data-days", "30")
        page.get_by_role("button", name="近 7 天").click()
        _fits(page)
        _shot(page, "merchant-dashboard.png")

        page.locator('[data-todo="to_ship"] a').click()
        expect(page).to_have_url(live_stack.url("alpha.localhost", "/console/orders/?status=paid"))
        rows = page.locator("table.listing tbody tr")
        expect(rows.first).to_contain_text("¥")
        _fits(page)
        _shot(page, "order-list.png")
    finally:
        context.close()


def test_staff_review_queue_on_a_phone(live_stack, staff_user, tenant_a, committed, browser):  # noqa: F811
    from django.core.cache import cache

    from saas_platform.console.selectors import dashboard_cache_key
    from saas_platform.review.models import DocumentKind, QualificationDocument

    doc, created = QualificationDocument.objects.get_or_create(
        tenant=tenant_a,
        kind=DocumentKind.values[0],
        defaults={
            "file_key": "screenshots/licence.pdf",
            "original_name": "营业执照.pdf",
            "content_type": "application/pdf",
            "size": 1024,
            "submitted_at": timezone.now(),
        },
    )
    cache.delete(dashboard_cache_key("staff"))  # the figures are cached for a minute
    context = new_context(browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        staff_login(page, live_stack)
        panel = page.locator('[data-panel="staff-overview"]')
        expect(panel.locator('[data-figure="review-queue"] strong')).not_to_have_text("0")
        expect(page.locator("#staff-signups-chart")).to_have_attribute("data-ready", "true")
        _fits(page)
        _shot(page, "staff-dashboard.png")
        page.locator('[data-figure="review-queue"]').click()
        expect(page).to_have_url(live_stack.url("localhost", "/staff/review/documents/?status=pending"))
        expect(page.locator("table.listing tbody")).to_contain_text("阿尔法鲜果")
        _fits(page)
        _shot(page, "staff-review-queue.png")
    finally:
        context.close()
        if created:
            doc.delete()
