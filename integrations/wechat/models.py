"""Token storage of the WeChat clients (public schema): the third-party platform's verify
ticket and component_access_token. Each authorizer's tokens are kept by the app that owns the
binding (``WECHAT_AUTHORIZER_TOKENS``, see ``storage.py``)."""

from __future__ import annotations

from django.db import models

from core.fields import EncryptedTextField


class ComponentState(models.Model):
    """The third-party platform (component): its verify ticket (pushed every 10 minutes by
    WeChat, valid 12 hours) and its component_access_token."""

    component_appid = models.CharField(max_length=32, unique=True)
    verify_ticket = EncryptedTextField(blank=True, default="")
    ticket_received_at = models.DateTimeField(null=True, blank=True)
    access_token = EncryptedTextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.component_appid
