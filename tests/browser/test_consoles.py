"""The two consoles in a real browser, against gunicorn + Celery on the test database.

* staff console (/staff/ on the platform host ``localhost``): Wagtail login, the platform
  overview panel, the merchant list;
* merchant console: platform login → "我的店铺" → "进入商家后台" → signed single-use console
  link → Wagtail at http://<slug>.localhost:<port>/console/; the link cannot be replayed;
* a console session of one store does not open another store's console;
* unknown store hosts answer 404; the UI language follows the selector / Accept-Language.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from mall.catalog.actions import create_product
from tests.browser.conftest import new_context

ROOT = Path(__file__).resolve().parents[2]
OWNER_PHONE = "13600000001"
OWNER_PASSWORD = "Test-Pass-2026"
STAFF_USERNAME = "browser-staff"
STAFF_PASSWORD = "Staff-Pass-2026"
PRODUCT_TITLE = "浏览器测试·软籽石榴"


@pytest.fixture
def staff_user(live_stack, committed):
    from saas_platform.accounts.actions import create_platform_user
    from saas_platform.accounts.models import User

    with schema_context("public"):
        user = User.objects.filter(username=STAFF_USERNAME).first()
        if user is None:
            user = create_platform_user(
                username=STAFF_USERNAME, password=STAFF_PASSWORD, phone="13911110000", is_staff=True
            )
    return user


@pytest.fixture
def alpha_product(live_stack, tenant_a, committed):
    from mall.catalog.models import Product

    with schema_context(tenant_a.schema_name):
        Product.objects.filter(title=PRODUCT_TITLE).delete()
        product = create_product(title=PRODUCT_TITLE, price_fen=1990, stock=7)
    yield product
    with schema_context(tenant_a.schema_name):
        Product.objects.filter(pk=product.pk).delete()


def platform_login(page, stack, username: str = OWNER_PHONE, password: str = OWNER_PASSWORD) -> None:
    page.goto(stack.url("localhost", "/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(stack.url("localhost", "/accounts/home/"))


def enter_console(page, stack, slug: str = "alpha") -> str:
    """From "我的店铺", click "进入商家后台" for ``slug``; return the console link used."""
    card = page.locator(f'[data-store="{slug}"]')
    with page.expect_response(lambda r: "/console-link/" in r.url) as link_response:
        card.get_by_role("button", name="进入商家后台").click()
    link = link_response.value
    assert link.status == 302, f"console link answered {link.status}"
    page.wait_for_url(stack.url(f"{slug}.localhost", "/console/"))
    return link.url


def staff_login(page, stack) -> None:
    page.goto(stack.url("localhost", "/staff/login/"))
    # Wagtail's own strings come out in Chinese for a zh-CN browser.
    expect(page.locator("form")).to_contain_text("登录")
    page.fill("#id_username", STAFF_USERNAME)
    page.fill("#id_password", STAFF_PASSWORD)
    with page.expect_navigation():
        page.locator('form button[type="submit"]').click()
    expect(page).to_have_url(stack.url("localhost", "/staff/"))


def test_staff_console_dashboard_and_tenant_list(live_stack, staff_user, tenant_a, committed, page):
    from tenants.models import Tenant

    staff_login(page, live_stack)

    panel = page.locator('[data-panel="staff-overview"]')
    expect(panel).to_contain_text("平台概况")
    # The latest sign-ups (five): whichever stores the tests before this one created.
    newest = Tenant.objects.exclude(schema_name="public").order_by("-created").first()
    expect(panel).to_contain_text(newest.name)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    expect(page).to_have_title(re.compile("控制面板"))  # Wagtail's "Dashboard"
    expect(page.locator("body")).not_to_contain_text("店铺概况")

    response = page.goto(live_stack.url("localhost", "/staff/tenants/"))
    assert response.status == 200
    listing = page.locator("table.listing tbody")
    row = listing.locator("tr", has_text="阿尔法鲜果")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("alpha")
    expect(listing).to_contain_text("布拉沃旅行")

    # Merchant screens answer 404 on the staff side (same session, page left on the list).
    assert page.request.get(live_stack.url("localhost", "/staff/catalog/products/")).status == 404


def test_merchant_console_through_platform_and_single_use_link(live_stack, tenant_a, alpha_product, page, browser):
    started = time.perf_counter()
    platform_login(page, live_stack)
    expect(page.get_by_role("heading", name="我的店铺")).to_be_visible()
    card = page.locator('[data-store="alpha"]')
    expect(card).to_contain_text("阿尔法鲜果")
    expect(page.locator('[data-store="bravo"]')).to_have_count(0)  # not this owner's store

    link = enter_console(page, live_stack, "alpha")
    panel = page.locator('[data-panel="merchant-overview"]')
    expect(panel).to_contain_text("店铺概况")
    expect(panel).to_contain_text("阿尔法鲜果")
    print(f"merchant flow (platform login → alpha console dashboard): {time.perf_counter() - started:.2f}s")

    assert link.startswith(live_stack.url("alpha.localhost", "/console-link/?token="))
    expect(page.locator('[data-panel="staff-overview"]')).to_have_count(0)

    # The staff console's screens are not part of the merchant console.
    assert page.goto(live_stack.url("alpha.localhost", "/console/tenants/")).status == 404

    response = page.goto(live_stack.url("alpha.localhost", "/console/catalog/products/"))
    assert response.status == 200
    expect(page.locator("table.listing tbody")).to_contain_text(PRODUCT_TITLE)
    expect(page).to_have_title(re.compile("商品"))

    # Replaying the link: in the owner's own browser …
    replay = page.goto(link)
    assert replay.status == 403
    expect(page.get_by_role("heading", name="链接无效或已使用")).to_be_visible()

    # … and in another browser (say someone who copied it from the history): refused, and
    # that browser gets no console session.
    other = new_context(browser)
    try:
        other_page = other.new_page()
        replay = other_page.goto(link)
        assert replay.status == 403
        expect(other_page.get_by_role("heading", name="链接无效或已使用")).to_be_visible()
        other_page.goto(live_stack.url("alpha.localhost", "/console/"))
        expect(other_page).to_have_url(re.compile(r"/console/login/"))
    finally:
        other.close()


@pytest.mark.parametrize("side", ["staff", "merchant"])
def test_sidebar_offers_only_this_consoles_screens(live_stack, staff_user, tenant_a, page, side):
    if side == "staff":
        staff_login(page, live_stack)
        shown, absent = [("link", "商户")], [("button", "商品管理"), ("button", "分销")]
    else:
        platform_login(page, live_stack)
        enter_console(page, live_stack, "alpha")
        shown, absent = [("button", "商品管理"), ("button", "分销")], [("link", "商户")]
    nav = page.get_by_role("navigation", name="主菜单")  # drawn by Wagtail's sidebar JS
    for role, name in shown:
        expect(nav.get_by_role(role, name=name, exact=True)).to_be_visible()
    for role, name in absent:
        expect(nav.get_by_role(role, name=name, exact=True)).to_have_count(0)


def test_a_console_session_does_not_open_another_stores_console(live_stack, tenant_a, tenant_b, page):
    platform_login(page, live_stack)
    enter_console(page, live_stack, "alpha")
    expect(page.locator('[data-panel="merchant-overview"]')).to_contain_text("阿尔法鲜果")

    page.goto(live_stack.url("bravo.localhost", "/console/"))
    expect(page).to_have_url(re.compile(re.escape(live_stack.url("bravo.localhost", "/console/login/"))))
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator('[data-panel="merchant-overview"]')).to_have_count(0)

    # Even alpha's session cookie presented to bravo's host opens nothing: sessions live in
    # each store's own schema.
    context = page.context
    alpha_session = next(c for c in context.cookies(live_stack.url("alpha.localhost", "/")) if c["name"] == "sessionid")
    context.add_cookies(
        [{"name": "sessionid", "value": alpha_session["value"], "url": live_stack.url("bravo.localhost", "/")}]
    )
    page.goto(live_stack.url("bravo.localhost", "/console/"))
    expect(page).to_have_url(re.compile(re.escape(live_stack.url("bravo.localhost", "/console/login/"))))
    expect(page.locator("body")).not_to_contain_text("阿尔法鲜果")

    # alpha's console is still open in the same browser.
    page.goto(live_stack.url("alpha.localhost", "/console/"))
    expect(page.locator('[data-panel="merchant-overview"]')).to_contain_text("阿尔法鲜果")


def test_unknown_store_host_shows_not_found(live_stack, page):
    response = page.goto(live_stack.url("nosuchshop.localhost", "/"))
    assert response.status == 404
    expect(page.get_by_role("heading", name="店铺不存在")).to_be_visible()
    expect(page.locator("body")).to_contain_text("nosuchshop.localhost")


def test_unknown_store_host_shows_not_found_in_english_too(live_stack, browser):
    context = new_context(browser, locale="en-US", extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
    try:
        page = context.new_page()
        response = page.goto(live_stack.url("nosuchshop.localhost", "/"))
        assert response.status == 404
        expect(page.get_by_role("heading", name="Store not found")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("店铺不存在")
    finally:
        context.close()


def test_platform_language_selector(live_stack, page):
    page.goto(live_stack.url("localhost", "/accounts/login/"))
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    heading = page.locator("main h2")
    username_label = page.locator('label[for="id_username"]')
    expect(heading).to_have_text("登录")
    expect(username_label).to_have_text("手机号或用户名")

    with page.expect_navigation():
        page.select_option('select[name="language"]', "en")
    expect(page).to_have_url(live_stack.url("localhost", "/accounts/login/"))
    assert page.locator("html").get_attribute("lang") == "en"
    expect(heading).to_have_text("Log in")
    expect(username_label).to_have_text("Phone number or username")
    expect(page.locator('label[for="id_password"]')).to_have_text("Password")
    expect(page.locator('select[name="language"]')).to_have_value("en")
    cookies = page.context.cookies(live_stack.url("localhost"))
    assert any(c["name"] == "django_language" and c["value"] == "en" for c in cookies)

    # The choice sticks across pages, and switching back restores Chinese.
    page.goto(live_stack.url("localhost", "/accounts/login/"))
    expect(heading).to_have_text("Log in")
    with page.expect_navigation():
        page.select_option('select[name="language"]', "zh-hans")
    expect(heading).to_have_text("登录")
    assert page.locator("html").get_attribute("lang") == "zh-hans"


@pytest.mark.parametrize(
    ("locale", "accept_language", "sign_in"),
    [("en-US", "en-US,en;q=0.9", "Sign in"), ("zh-CN", "zh-CN,zh;q=0.9", "登录")],
    ids=["en", "zh"],
)
def test_wagtail_login_follows_accept_language(live_stack, browser, request, locale, accept_language, sign_in):
    from tests.browser.conftest import screenshot_path

    context = new_context(browser, locale=locale, extra_http_headers={"Accept-Language": accept_language})
    try:
        page = context.new_page()
        page.goto(live_stack.url("localhost", "/staff/login/"))
        expect(page.locator('form button[type="submit"]')).to_contain_text(sign_in)
        other = "登录" if sign_in == "Sign in" else "Sign in"
        expect(page.locator("form")).not_to_contain_text(other)
        page.screenshot(path=str(screenshot_path(request)), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"], ids=["staff", "merchant"])
def test_console_assets_are_served(live_stack, tenant_a, page, host):
    """Both consoles' login pages load Wagtail's CSS and JS from /static/."""
    failed = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    base = "/staff/" if host == "localhost" else "/console/"
    with page.expect_response(lambda r: "/static/wagtailadmin/css/core.css" in r.url) as css:
        page.goto(live_stack.url(host, base + "login/"))
    assert css.value.status == 200
    assert "text/css" in css.value.headers.get("content-type", "")
    page.wait_for_load_state("load")
    rules = page.evaluate(
        """() => [...document.styleSheets]
            .filter(s => (s.href || '').includes('/static/wagtailadmin/css/core.css'))
            .reduce((n, s) => n + s.cssRules.length, 0)"""
    )
    assert rules > 100, "Wagtail's core.css did not apply"
    assert failed == [], f"assets not served: {failed[:5]}"
