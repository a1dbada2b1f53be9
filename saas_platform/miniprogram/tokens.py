"""The authorizer-token store ``integrations.wechat.storage`` uses (``WECHAT_AUTHORIZER_TOKENS``):
each authorised mini-program's access and refresh tokens, kept on its ``Authorizer`` row."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from saas_platform.miniprogram.models import Authorizer


class AuthorizerTokens:
    def get(self, appid: str, name: str):
        auth = Authorizer.objects.filter(appid=appid).first()
        if auth is None:
            return None
        if name == "refresh_token":
            return auth.refresh_token
        if name == "access_token_expires_at":
            return int(auth.access_token_expires_at.timestamp()) if auth.access_token_expires_at else None
        return auth.access_token if auth.token_valid else None

    def set(self, appid: str, name: str, value: str, expires_at: datetime | None) -> None:
        if name == "access_token":
            defaults = {"access_token": value, "access_token_expires_at": expires_at or timezone.now()}
        else:
            defaults = {"refresh_token": value}
        Authorizer.objects.update_or_create(appid=appid, defaults=defaults)

    def clear(self, appid: str) -> None:
        Authorizer.objects.filter(appid=appid).update(access_token="", access_token_expires_at=None)
