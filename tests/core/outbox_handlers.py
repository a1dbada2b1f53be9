"""Outbox handlers used by the outbox tests only (registered on import)."""

from pathlib import Path

import requests

from core import outbox


@outbox.handler
def fail_until_file(*, path: str) -> None:
    if not Path(path).exists():
        raise RuntimeError(f"{path} is missing")


@outbox.handler(external=True)
def call_url(*, url: str) -> None:
    """An external side effect: one HTTP call (the tests' loopback server)."""
    requests.post(url, timeout=10).raise_for_status()
