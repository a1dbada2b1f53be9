"""H5 storefront first load on a throttled "Fast 3G" profile (issue 12 point 7).

    .venv/bin/python -m infra.devstack exec .venv/bin/python bench/h5_load.py     # (make bench)

On the bench database (bench/_common.py): migrate_all + seed_demo, the H5 build (built with npm
when missing), gunicorn on a free loopback port, then Debian's Chromium through Playwright with
the DevTools network profile Chrome calls "Fast 3G" (562.5 ms latency, 1.44 Mbit/s down,
675 kbit/s up) and the browser cache disabled, at a 375×812 phone viewport. Each run opens the
demo store's ``/h5/`` cold and waits until the home page shows its products.

Figures (key=value on stdout; the median of ``--runs``):
* ``h5_home_load_ms``: navigation start → the first product card of the home page visible
  (config, blocks and the product list fetched and rendered). Target < 2,000 ms.
* ``h5_load_event_ms``: navigation start → the window's load event.
* ``h5_transferred_kb``: bytes on the wire for everything the page fetched (encoded, as
  DevTools' "transferred"). Target < 300 KB.
* ``h5_requests``: how many requests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from _common import ROOT, emit, log, machine_figures, median, setup_django
from hello import TENANT_SLUG, free_port, prepare, wait_ready

VENV_BIN = Path(sys.executable).parent
H5 = ROOT / "storefront" / "dist" / "build" / "h5"
READY = "[data-testid=product-card]"
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": int(1.6 * 1024 * 1024 / 8 * 0.9),
    "uploadThroughput": int(750 * 1024 / 8 * 0.9),
}


def ensure_build() -> None:
    if (H5 / "index.html").is_file():
        return
    if not shutil.which("npm"):
        raise SystemExit("the H5 build is missing and npm is not installed: run `make storefront`")
    log("building the H5 storefront (npm ci + uni build)…")
    subprocess.run(["make", "storefront"], cwd=ROOT, check=True)


def one_load(browser, url: str, timeout_ms: int) -> dict:
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    sizes: dict[str, float] = {}
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e.get("encodedDataLength", 0)))
    try:
        page.goto(url, wait_until="commit", timeout=timeout_ms)
        page.locator(READY).first.wait_for(state="visible", timeout=timeout_ms)
        home_ms = page.evaluate("() => performance.now()")
        page.wait_for_load_state("load", timeout=timeout_ms)
        page.wait_for_timeout(500)  # requests the render started (images) finish on the wire
        nav = page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return {start: n.startTime, load: n.loadEventEnd}; }"
        )
    finally:
        context.close()
    return {
        "home_ms": home_ms - nav["start"],
        "load_ms": nav["load"] - nav["start"],
        "kb": sum(sizes.values()) / 1024,
        "requests": len(sizes),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=30, help="seconds per load")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)

    setup_django("config.settings")
    for key, value in machine_figures().items():
        emit(key, value)
    ensure_build()
    prepare()
    port = free_port()
    env = dict(os.environ, PUBLIC_PORT=str(port), LOG_LEVEL="WARNING")
    cmd = [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--workers", "2", "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        wait_ready(port, server)
        from playwright.sync_api import sync_playwright

        url = f"http://{TENANT_SLUG}.localhost:{port}/h5/"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium,
                args=["--no-sandbox"],  # Chromium resolves *.localhost to loopback itself
            )
            try:
                one_load(browser, url, int(args.timeout * 1000))  # untimed: server caches warm
                runs = [one_load(browser, url, int(args.timeout * 1000)) for _ in range(args.runs)]
            finally:
                browser.close()
        for r in runs:
            log(f"home {r['home_ms']:.0f} ms, load {r['load_ms']:.0f} ms, {r['kb']:.1f} KB, {r['requests']} requests")
        emit("h5_runs", len(runs))
        emit("h5_home_load_ms", median([r["home_ms"] for r in runs]))
        emit("h5_load_event_ms", median([r["load_ms"] for r in runs]))
        emit("h5_transferred_kb", median([r["kb"] for r in runs]))
        emit("h5_requests", int(median([r["requests"] for r in runs])))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
