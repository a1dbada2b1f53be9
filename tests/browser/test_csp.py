"""Issue 8 item 5: the Content Security Policy keeps the consoles working. Every page here is
loaded in Chromium under the real policy; none may report a CSP violation (console message or
``securitypolicyviolation`` event), and the API docs render from our own static files."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_consoles import enter_console, platform_login, staff_login, staff_user  # noqa: F401

CONTROL_URL = "https://cdn.example.com/x.js"  # the deliberate violation below
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));
"""


def watch(page) -> list[str]:
    messages: list[str] = []
    page.add_init_script(WATCH)
    page.on(
        "console",
        lambda m: messages.append(m.text) if "Content Security Policy" in m.text or "Refused to" in m.text else None,
    )
    return messages


def visit(page, url: str, problems: list[str]) -> None:
    response = page.goto(url)
    assert response.status == 200, (url, response.status)
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp, (url, csp)
    page.wait_for_load_state("networkidle")
    problems.extend(f"{url}: {v}" for v in page.evaluate("window.__csp"))


def test_staff_console_runs_under_the_csp(live_stack, staff_user, page):  # noqa: F811
    problems = watch(page)
    staff_login(page, live_stack)
    for path in ("/staff/", "/staff/tenants/", "/staff/review/documents/"):
        visit(page, live_stack.url("localhost", path), problems)
    assert not problems, problems
    # The watch sees a real violation: a script from a CDN is refused and reported.
    page.evaluate(
        "url => { const s = document.createElement('script'); s.src = url; document.head.appendChild(s); }",
        CONTROL_URL,
    )
    page.wait_for_function("window.__csp.length > 0")
    assert "script-src" in page.evaluate("window.__csp")[0]


def test_merchant_console_and_api_docs_run_under_the_csp(live_stack, tenant_a, page):
    problems = watch(page)
    platform_login(page, live_stack)
    enter_console(page, live_stack, "alpha")
    for path in ("/console/", "/console/catalog/products/", "/console/catalog/products/new/", "/console/orders/"):
        visit(page, live_stack.url("alpha.localhost", path), problems)
    visit(page, live_stack.url("alpha.localhost", "/api/docs/"), problems)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Fenxiao Cloud public API")
    expect(page.locator(".opblock").first).to_be_visible()
    visit(page, live_stack.url("alpha.localhost", "/"), problems)
    assert not problems, problems


@pytest.fixture(autouse=True)
def _no_external_requests(page, live_stack):
    """Nothing these pages load may come from another origin (no CDN)."""
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(("data:", "blob:", f"http://localhost:{live_stack.port}"))
            and f".localhost:{live_stack.port}" not in r.url
            else None
        ),
    )
    yield
    assert [u for u in outside if u != CONTROL_URL] == []
