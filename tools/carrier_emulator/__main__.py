"""``python -m tools.carrier_emulator --port N [--data-dir DIR] [--step-seconds S]``"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from tools.carrier_emulator.app import CarrierEmulator

ENV_FILE = "env.json"


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def credentials(data_dir: Path, key: str, customer: str) -> tuple[str, str]:
    """The shared key and account: given, or generated once per data dir (a restarted emulator
    keeps them, so the running web and worker still verify its pushes)."""
    path = data_dir / "credentials.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    key = key or saved.get("key") or secrets.token_hex(24)
    customer = customer or saved.get("customer") or "FENXIAO" + secrets.token_hex(4).upper()
    path.write_text(json.dumps({"key": key, "customer": customer}))
    return key, customer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local carrier tracking API (development and tests only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--key", default="", help="shared signing key (default: generated once per data dir)")
    parser.add_argument("--customer", default="", help="our account id (default: generated once per data dir)")
    parser.add_argument("--step-seconds", type=float, default=20.0, help="seconds between steps; 0: only on demand")
    parser.add_argument("--retry-seconds", default="", help="comma-separated waits between push attempts")
    args = parser.parse_args(argv)

    args.data_dir.mkdir(parents=True, exist_ok=True)
    key, customer = credentials(args.data_dir, args.key, args.customer)
    base_url = f"http://127.0.0.1:{args.port}"
    retry = [float(x) for x in args.retry_seconds.split(",") if x.strip()] or None
    app = CarrierEmulator(key=key, customer=customer, step_seconds=args.step_seconds, retry_seconds=retry)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=QuietHandler)
    env = {"LOGISTICS_API_BASE": base_url, "LOGISTICS_KEY": key, "LOGISTICS_CUSTOMER": customer}
    (args.data_dir / ENV_FILE).write_text(json.dumps(env, indent=2))
    app.start()
    print(f"Carrier emulator on {base_url} (state {base_url}/_emulator/api/state)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
