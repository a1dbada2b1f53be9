"""Reads of a store's mini-program binding (public schema)."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import schema_context

from saas_platform.miniprogram.models import Authorizer, AuthorizerStatus, CodeAudit


def authorizer_for_current_tenant() -> Authorizer | None:
    tenant = getattr(connection, "tenant", None)
    if not getattr(tenant, "pk", None):
        return None
    with schema_context("public"):
        return Authorizer.objects.filter(tenant_id=tenant.pk).order_by("-authorized_at").first()


def recent_audits(authorizer: Authorizer, limit: int = 5) -> list[CodeAudit]:
    with schema_context("public"):
        return list(CodeAudit.objects.filter(authorizer=authorizer).order_by("-submitted_at")[:limit])


def appid_authorized(tenant) -> bool:
    """Whether the store's recorded AppID was authorised through WeChat (not merely typed)."""
    if not tenant.wechat_appid:
        return False
    with schema_context("public"):
        return Authorizer.objects.filter(
            tenant_id=tenant.pk, appid=tenant.wechat_appid, status=AuthorizerStatus.AUTHORIZED
        ).exists()
