"""wechatpy's session storage, kept in the public schema: the component ticket and token in
``ComponentState``; each authorizer's tokens in the store named by ``WECHAT_AUTHORIZER_TOKENS``
(an object with ``get(appid, name)``, ``set(appid, name, value, expires_at)`` and
``clear(appid)``: the app that owns the mini-program binding provides it, so this client
imports no business app). Every web and worker process sees the same tokens, and a refresh
token survives restarts."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context
from wechatpy.session import SessionStorage

from integrations.wechat.models import ComponentState

AUTHORIZER_TOKEN_NAMES = ("access_token", "refresh_token", "access_token_expires_at")


@lru_cache(maxsize=1)
def authorizer_tokens():
    return import_string(settings.WECHAT_AUTHORIZER_TOKENS)()


def _public():
    return schema_context("public") if connection.schema_name != "public" else _Null()


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _expiry(ttl) -> datetime | None:
    # WeChat's expires_in; keep a safety margin so a token is refreshed before WeChat rejects it.
    return timezone.now() + timedelta(seconds=max(int(ttl) - 120, 1)) if ttl else None


class DatabaseStorage(SessionStorage):
    def __init__(self, component_appid: str):
        self.component_appid = component_appid
        self._memory: dict = {}

    def _split(self, key: str) -> tuple[str, str]:
        prefix, _, name = key.partition("_")
        return prefix, name

    def get(self, key, default=None):
        prefix, name = self._split(key)
        with _public():
            if prefix == self.component_appid and name in ("component_verify_ticket", "component_access_token"):
                state = ComponentState.objects.filter(component_appid=prefix).first()
                if state is None:
                    return default
                if name == "component_verify_ticket":
                    return state.verify_ticket or default
                if (
                    state.access_token
                    and state.access_token_expires_at
                    and state.access_token_expires_at > timezone.now()
                ):
                    return state.access_token
                return default
            if name in AUTHORIZER_TOKEN_NAMES:
                value = authorizer_tokens().get(prefix, name)
                return default if value in (None, "") else value
        value = self._memory.get(key)
        if value is None or (value[1] and value[1] < time.time()):
            return default
        return value[0]

    def set(self, key, value, ttl=None):
        if value is None:
            return
        prefix, name = self._split(key)
        with _public():
            if prefix == self.component_appid and name == "component_verify_ticket":
                ComponentState.objects.update_or_create(
                    component_appid=prefix, defaults={"verify_ticket": value, "ticket_received_at": timezone.now()}
                )
                return
            if prefix == self.component_appid and name == "component_access_token":
                ComponentState.objects.update_or_create(
                    component_appid=prefix,
                    defaults={"access_token": value, "access_token_expires_at": _expiry(ttl or 7200)},
                )
                return
            if name == "access_token":
                authorizer_tokens().set(prefix, name, value, _expiry(ttl or 7200))
                return
            if name == "refresh_token":
                authorizer_tokens().set(prefix, name, value, None)
                return
            if name == "access_token_expires_at":
                return  # derived from the access token's expiry above
        self._memory[key] = (value, time.time() + ttl if ttl else None)

    def delete(self, key):
        prefix, name = self._split(key)
        with _public():
            if name == "access_token":
                authorizer_tokens().clear(prefix)
            elif prefix == self.component_appid and name == "component_access_token":
                ComponentState.objects.filter(component_appid=prefix).update(access_token="")
        self._memory.pop(key, None)
