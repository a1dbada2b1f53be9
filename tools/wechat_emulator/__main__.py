"""``python -m tools.wechat_emulator --port N --data-dir DIR --callback-base URL``

Generates (once per data dir) both sides' keys and secrets, writes ``DIR/env.json`` (our
``WECHAT_*`` settings), serves on 127.0.0.1 only, and pushes a component_verify_ticket to
``<callback-base>/wechat/component/`` at start and every ``--ticket-interval`` seconds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from tools.wechat_emulator import keys
from tools.wechat_emulator.app import Emulator
from tools.wechat_emulator.outbound import Outbound
from tools.wechat_emulator.signing import Signer
from tools.wechat_emulator.state import State


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # the inspector keeps the log
        pass


def build(data_dir: Path, base_url: str, callback_base: str, retry_seconds=None, persist: bool = True) -> Emulator:
    s = keys.ensure(data_dir)
    signer = Signer(
        platform_private_pem=(data_dir / "platform_private.pem").read_bytes(),
        merchant_public_pem=(data_dir / "merchant_public.pem").read_bytes(),
        public_key_id=s["public_key_id"],
        apiv3_key=s["apiv3_key"],
    )
    state = State(data_dir / "state.json" if persist else None)
    outbound = Outbound(state, signer, s, callback_base, retry_seconds)
    return Emulator(state=state, signer=signer, outbound=outbound, secrets_=s, base_url=base_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local WeChat emulator (development and tests only)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--callback-base", default="", help="our platform host, e.g. http://localhost:8000")
    parser.add_argument("--ticket-interval", type=float, default=600.0)
    parser.add_argument("--notify-retry-seconds", default="", help="comma-separated waits between notify attempts")
    parser.add_argument("--no-persist", action="store_true", help="keep state in memory only")
    args = parser.parse_args(argv)

    base_url = f"http://127.0.0.1:{args.port}"
    retry = [float(x) for x in args.notify_retry_seconds.split(",") if x.strip()] or None
    app = build(args.data_dir, base_url, args.callback_base, retry, persist=not args.no_persist)
    env = keys.our_env(args.data_dir, base_url)
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=QuietHandler)
    (args.data_dir / keys.ENV_FILE).write_text(json.dumps(env, indent=2))
    if args.callback_base:
        app.out.ticket_loop(args.ticket_interval)
    print(f"WeChat emulator on {base_url} (inspector {base_url}/_emulator/)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
