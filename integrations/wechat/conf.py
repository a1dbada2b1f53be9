"""Credentials from settings (inline or from files), read when a client is built."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _key(inline: str, path: str, name: str) -> str:
    if inline:
        return inline
    if path:
        return _read(path)
    raise ImproperlyConfigured(f"{name} (or {name}_FILE) is not set; see docs/wechat.md")


@lru_cache(maxsize=8)
def _read(path: str) -> str:
    return Path(path).read_text()


def pay_private_key() -> str:
    return _key(settings.WECHAT_PAY_PRIVATE_KEY, settings.WECHAT_PAY_PRIVATE_KEY_FILE, "WECHAT_PAY_PRIVATE_KEY")


def pay_public_key() -> str:
    return _key(settings.WECHAT_PAY_PUBLIC_KEY, settings.WECHAT_PAY_PUBLIC_KEY_FILE, "WECHAT_PAY_PUBLIC_KEY")


def require(*names: str) -> None:
    missing = [n for n in names if not getattr(settings, n, "")]
    if missing:
        raise ImproperlyConfigured(f"WeChat is not configured: {', '.join(missing)} (see docs/wechat.md)")


def notify_url(path: str) -> str:
    return settings.WECHAT_NOTIFY_BASE_URL.rstrip("/") + path
