"""Browser tests: Debian's Chromium driven by Playwright (sync API) against ``live_stack``.

* ``browser`` (session): one Chromium. Missing /usr/bin/chromium fails the run on CI
  (``CI=true``) and skips it elsewhere.
* ``page``: a fresh context (locale zh-CN) per test; a screenshot of the last page goes to
  tests/artifacts/<test name>.png whatever the outcome.
* Every test in this folder is marked ``browser``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

# The sync Playwright API keeps an asyncio loop running in this thread; Django's ORM (fixtures
# such as ``committed``, and any test after the first browser test) would then refuse to run
# ("You cannot call this from an async context").
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous: on a busy machine (another `make test`, 2 cores) a page or a server answer takes
# seconds. Each step waits for a state (expect, wait_for_url, expect_navigation), never a fixed time,
# so these only bound how long a failing step takes to fail.
DEFAULT_TIMEOUT_MS = 30_000
NAVIGATION_TIMEOUT_MS = 60_000
LAUNCH_TIMEOUT_MS = 120_000


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium); browser tests need it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)  # expect()'s own default is 5 s
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS)
        try:
            yield chromium
        finally:
            chromium.close()
            # While Playwright's loop runs, asyncio.get_running_loop() succeeds in this thread,
            # so Django keeps DB connections in a context-local store instead of the thread's.
            # Close them now, or they outlive the loop and block DROP DATABASE at the end.
            from django.db import connections

            connections.close_all()


def new_context(browser, locale: str = "zh-CN", **kwargs):
    """A fresh browser context (own cookies) with this suite's timeouts."""
    context = browser.new_context(locale=locale, **kwargs)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return context


def screenshot_path(request) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    return ARTIFACTS / f"{name}.png"


@pytest.fixture
def page(browser, request):
    context = new_context(browser)
    pg = context.new_page()
    try:
        yield pg
    finally:
        try:
            if not pg.is_closed():
                pg.screenshot(path=str(screenshot_path(request)), full_page=True)
        finally:
            context.close()
