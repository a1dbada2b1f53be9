"""The log of what outside services pushed to us (WeChat pushes, pay notifies): one row per
delivery with what we did about it, in the public schema."""

from __future__ import annotations

from django_tenants.utils import schema_context

from core.models import InboundKind, InboundLog

__all__ = ["InboundKind", "InboundLog", "log_inbound"]


def log_inbound(*, kind: str, key: str = "", outcome: str, detail: str = "", schema_name: str = "") -> None:
    with schema_context("public"):
        InboundLog.objects.create(
            kind=kind, key=key[:128], outcome=outcome[:32], detail=detail[:4000], schema_name=schema_name
        )
