"""Every console page, for every role, from one process serving both consoles.

The crawl starts at each console's home page, follows every sidebar menu item (the sidebar's
JSON props, submenus included) and then every same-console link found on those pages (list →
inspect/edit), one level deep. Each page must answer 200, stay in its own console and show no
English UI text in zh-hans.

Wagtail builds its menu once per process: which console is served first used to decide every
later menu's prefix. The crawl therefore runs both orders in one process (the menu caches are
cleared at the start, as in a fresh worker).

Add a role to ``ROLES`` to crawl its consoles too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Comment, Declaration, Doctype
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

STAFF_HOST, MERCHANT_HOST = "localhost", "alpha.localhost"

# ASCII words allowed in zh-hans console pages: brand and product names, units, codes, and the
# test data's own values (slugs, usernames).
ALLOWED_WORDS = {
    "AppID",
    "ID",
    "H5",
    "WeChat",
    "URL",
    "SMS",
    "PDF",
    "ICP",
    "OpenID",
    "English",
    "JPG",
    "PNG",
    "XLSX",  # file formats of Wagtail's export buttons (下载XLSX / 下载CSV)
    "CSV",
    "KB",
    "MB",
    "px",
    "alpha",
    "bravo",
    "localhost",
    "fresh",
    "Asia",
    "Shanghai",
    "public",  # the platform's schema name (a code, like t_alpha) on the staff outbox screen
}
TOKEN = re.compile(r"[A-Za-z0-9_'’.@-]+")
WORD = re.compile(r"^[A-Za-z][A-Za-z'’]+$")  # a token with a digit or underscore is a code (wx…, t_alpha)
URLISH = re.compile(r"https?://\S+|\S+@\S+")
SKIP_TAGS = {"script", "style", "template", "noscript", "code", "svg"}
# Links that change state or leave the page's purpose: the crawl only reads.
# (``wechat/authorize/`` leaves for WeChat's authorisation page.)
SKIP_LINK = re.compile(r"/(logout|delete|unpublish|copy|move|history|usage|bulk|authorize)/|\.(csv|xlsx)$|export=")


@dataclass(frozen=True)
class Role:
    name: str
    host: str
    base: str
    make_user: Callable  # (tenant_a) -> user, created in the schema of ``host``
    schema: Callable  # (tenant_a) -> schema name


def _staff_user(role: str, phone: str) -> Callable:
    def make(tenant):
        from saas_platform.accounts.actions import create_platform_user
        from saas_platform.accounts.models import User

        username = f"crawl-{role}"
        return User.objects.filter(username=username).first() or create_platform_user(
            username=username, password="Crawl-Pass-2026", phone=phone, is_staff=True, staff_role=role
        )

    return make


def _merchant_owner(tenant):
    from saas_platform.accounts.actions import ensure_console_user
    from saas_platform.accounts.models import User

    with schema_context("public"):
        owner = tenant.owner
    return ensure_console_user(platform_user=owner) if owner else User.objects.get(is_superuser=True)


def _merchant_member(role: str, phone: str) -> Callable:
    def make(tenant):
        from saas_platform.accounts.roles import MERCHANT_ROLES
        from saas_platform.accounts.team import invite_member

        def role_label(name):
            return str(MERCHANT_ROLES[name][0])

        return invite_member(phone=phone, role=role, name=f"{role_label(role)}小王")

    return make


def _tenant_schema(tenant) -> str:
    return tenant.schema_name


# Every role of both consoles (saas_platform/accounts/roles.py).
ROLES = [
    Role("staff-reviewer", STAFF_HOST, "/staff/", _staff_user("reviewer", "13911112221"), lambda t: "public"),
    Role("staff-operator", STAFF_HOST, "/staff/", _staff_user("operator", "13911112222"), lambda t: "public"),
    Role("merchant-owner", MERCHANT_HOST, "/console/", _merchant_owner, _tenant_schema),
    Role(
        "merchant-operations", MERCHANT_HOST, "/console/", _merchant_member("operations", "13711110001"), _tenant_schema
    ),
    Role(
        "merchant-customer_service",
        MERCHANT_HOST,
        "/console/",
        _merchant_member("customer_service", "13711110002"),
        _tenant_schema,
    ),
    Role("merchant-finance", MERCHANT_HOST, "/console/", _merchant_member("finance", "13711110003"), _tenant_schema),
]


def _reset_wagtail_menus():
    """What a fresh server process starts with: no menu built yet."""
    from wagtail.admin.menu import admin_menu, settings_menu
    from wagtail.admin.search import admin_search_areas

    for menu in (admin_menu, settings_menu):
        menu.__dict__.pop("registered_menu_items", None)
    admin_search_areas.__dict__.pop("registered_search_areas", None)


def menu_links(html: str) -> list[tuple[str, str]]:
    """(label, url) of every sidebar menu item, submenus included, from the sidebar's props."""
    soup = BeautifulSoup(html, "html.parser")
    props = soup.find("script", id="wagtail-sidebar-props")
    assert props is not None, "no sidebar on the page"
    found: list[tuple[str, str]] = []

    def walk(node):
        if isinstance(node, dict):
            args = node.get("_args")
            if node.get("_type") == "wagtail.sidebar.LinkMenuItem" and args:
                found.append((str(args[0].get("label")), str(args[0].get("url"))))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(props.string))
    assert "wagtail.sidebar.SearchModule" not in props.string, "the sidebar offers Wagtail's page search"
    shown = re.findall(r'"(?:label|footer_text)": "([^"]*Wagtail[^"]*)"', props.string)
    assert shown == [], f"the sidebar shows {shown}"
    return found


def english_words(html: str, data_words: frozenset[str] = frozenset()) -> set[str]:
    """ASCII words on the page outside ``ALLOWED_WORDS`` and the test data's own values."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(SKIP_TAGS):
        tag.decompose()
    for tag in soup.find_all(hidden=True):  # not shown (e.g. Wagtail's empty counters)
        tag.decompose()
    texts = [soup.title.string or ""] if soup.title else []
    texts += [s for s in soup.find_all(string=True) if not isinstance(s, (Comment, Doctype, Declaration))]
    for tag in soup.find_all(True):
        for attr in ("placeholder", "title", "aria-label", "alt"):
            if tag.get(attr):
                texts.append(tag[attr])
        if tag.name == "input" and tag.get("type") in ("submit", "button") and tag.get("value"):
            texts.append(tag["value"])
    words = set()
    for text in texts:
        for token in TOKEN.findall(URLISH.sub(" ", str(text))):
            token = token.strip(".-'’@")
            if WORD.match(token) and token not in ALLOWED_WORDS and token not in data_words:
                words.add(token)
    return words


def page_links(html: str, base: str) -> set[str]:
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup
    links = set()
    for a in main.find_all("a", href=True):
        href = a["href"]
        parts = urlsplit(href)
        if parts.netloc or not parts.path.startswith(base) or SKIP_LINK.search(href):
            continue
        links.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def crawl(client: Client, role: Role, data_words: frozenset[str] = frozenset()) -> dict[str, set[str]]:
    """Visit the role's console; return {url: english words} for pages with any."""
    home = client.get(role.base, HTTP_HOST=role.host)
    assert home.status_code == 200, f"{role.name}: home answered {home.status_code}"
    html = home.content.decode()
    items = menu_links(html)
    assert items, f"{role.name}: empty menu"
    problems: dict[str, set[str]] = {}
    bad_links = [(label, url) for label, url in items if not url.startswith(role.base)]
    assert bad_links == [], f"{role.name}: menu links outside {role.base}: {bad_links}"
    seen = {role.base}
    pages = [(role.base, html)]
    for label, url in items:
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, HTTP_HOST=role.host, follow=True)
        assert response.status_code == 200, f"{role.name}: menu item {label} ({url}) answered {response.status_code}"
        pages.append((url, response.content.decode()))
    paths = {urlsplit(u).path for u in seen}
    for url, page_html in list(pages):
        for link in sorted(page_links(page_html, role.base) - seen):
            seen.add(link)
            if urlsplit(link).path in paths:  # the same screen sorted or filtered differently
                continue
            paths.add(urlsplit(link).path)
            response = client.get(link, HTTP_HOST=role.host)
            if response.status_code not in (200, 302):
                problems[link] = {f"HTTP {response.status_code} (linked from {url})"}
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                pages.append((link, response.content.decode()))
    for url, page_html in pages:
        words = english_words(page_html, data_words)
        if words:
            problems[url] = words
    return problems


@pytest.fixture
def store_data(db, tenant_a):
    """One of everything the merchant console lists, so list, inspect and edit pages have rows."""
    from django.utils import timezone

    from mall.orders.actions import place_order, record_payment
    from mall.promoters.actions import make_promoter
    from mall.promoters.models import Promoter
    from tests.factories import CustomerFactory, ProductFactory, buyer

    with schema_context(tenant_a.schema_name):
        product = ProductFactory(price_fen=123456, stock=3)
        promoter = make_promoter(customer=CustomerFactory(phone="13800138000"))
        order = place_order(**buyer(), items=[(product.pk, 1)], promoter=promoter)
        record_payment(order_no=order.order_no, transaction_id="4200000001", amount_fen=123456, paid_at=timezone.now())
        # Invite codes are random letters: data, not UI text (every promoter's, committed ones too).
        codes = frozenset(Promoter.objects.values_list("invite_code", flat=True))
    connection.set_schema_to_public()
    assert promoter.invite_code in codes
    return codes


@pytest.fixture
def logged_in(db, tenant_a, tenant_b, store_data):
    clients = {}
    for role in ROLES:
        with schema_context(role.schema(tenant_a)):
            user = role.make_user(tenant_a)
            client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            client.force_login(user)
        clients[role.name] = client
    return clients


# Which console the process serves first (its menu is built then); every role is crawled each time.
@pytest.mark.parametrize("first", ["staff-operator", "merchant-owner"])
def test_every_console_page_opens_in_chinese_for_every_role(logged_in, store_data, first):
    _reset_wagtail_menus()
    order = sorted(ROLES, key=lambda r: r.name != first)
    report = {}
    for role in order:
        problems = crawl(logged_in[role.name], role, store_data)
        if problems:
            report[role.name] = {url: sorted(words) for url, words in problems.items()}
    assert report == {}, "English UI text on zh-hans console pages:\n" + json.dumps(
        report, ensure_ascii=False, indent=1
    )


@pytest.mark.parametrize(
    ("host", "path"),
    [
        (host, f"{base}{p}/")
        for host, base in ((STAFF_HOST, "/staff/"), (MERCHANT_HOST, "/console/"))
        for p in (
            "pages",
            "reports/site-history",
            "workflows/list",
            "sites",
            "collections",
            "images",
            "documents",
            "groups",
        )
    ],
)
def test_wagtail_cms_screens_are_refused_on_both_consoles(logged_in, host, path):
    role = next(r for r in ROLES if r.host == host)
    assert logged_in[role.name].get(path, HTTP_HOST=host).status_code == 404


@pytest.mark.parametrize(("host", "base"), [(STAFF_HOST, "/staff/"), (MERCHANT_HOST, "/console/")])
def test_login_pages_are_branded_and_chinese(db, tenant_a, host, base):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    # Passwords are reset by SMS on the platform (which ends every session); Wagtail's e-mail reset is off.
    assert client.get(base + "password_reset/", HTTP_HOST=host).status_code == 404
    response = client.get(base + "login/", HTTP_HOST=host)
    assert response.status_code == 200
    html = response.content.decode()
    assert english_words(html) == set()
    assert "- 分销云</title>" in html
    assert "console/brand/favicon.svg" in html
    assert "Wagtail" not in BeautifulSoup(html, "html.parser").get_text()
