"""State changes of a store's mini-program binding (public schema). Views and tasks call these."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from integrations.wechat.open_platform import ComponentClient
from saas_platform.miniprogram.models import AuditStatus, Authorizer, AuthorizerStatus, CodeAudit
from tenants.actions import bind_wechat_appid, forget_cached_tenants
from tenants.models import Tenant

log = logging.getLogger(__name__)


def save_authorization(*, info: dict, tenant: Tenant | None = None, nickname: str = "") -> Authorizer:
    """Store what ``api_query_auth`` returned (tokens, refresh token, permissions); bind the
    AppID to ``tenant`` when given. This is WeChat's proof that the store owns the mini-program:
    only now does the AppID resolve the store's API traffic (``tenants.selectors.tenant_for_appid``),
    and it is taken from another store that had merely typed it."""
    appid = info["authorizer_appid"]
    with schema_context("public"), transaction.atomic():
        auth, _created = Authorizer.objects.select_for_update().get_or_create(appid=appid)
        if (
            tenant is not None
            and auth.tenant_id not in (None, tenant.pk)
            and auth.status == AuthorizerStatus.AUTHORIZED
        ):
            raise ValidationError({"wechat_appid": _("该小程序已授权给另一家店铺。")})
        if info.get("authorizer_access_token"):
            auth.access_token = info["authorizer_access_token"]
            auth.access_token_expires_at = timezone.now() + timedelta(
                seconds=max(int(info.get("expires_in", 7200)) - 120, 1)
            )
        if info.get("authorizer_refresh_token"):
            auth.refresh_token = info["authorizer_refresh_token"]
        auth.func_info = info.get("func_info", auth.func_info)
        auth.status = AuthorizerStatus.AUTHORIZED
        auth.authorized_at = timezone.now()
        if nickname:
            auth.nickname = nickname[:100]
        if tenant is not None:
            auth.tenant = tenant
        auth.save()
        if tenant is not None:
            bind_wechat_appid(tenant=tenant, appid=appid, authorized=True)
        transaction.on_commit(forget_cached_tenants)
    return auth


def complete_authorization(*, tenant: Tenant, auth_code: str) -> Authorizer:
    """The merchant came back from the scan-to-authorize page with ``auth_code``."""
    auth_code = (auth_code or "").strip()
    if not auth_code:
        raise ValidationError({"auth_code": _("缺少授权码，请重新授权。")})
    component = ComponentClient()
    info = component.query_auth(auth_code)
    nickname = ""
    try:
        nickname = component.authorizer_info(info["authorizer_appid"])["authorizer_info"].get("nick_name", "")
    except Exception as exc:  # the name is a nicety: never lose an authorization over it
        log.warning("authorizer info for %s unavailable: %s", info["authorizer_appid"], exc)
    return save_authorization(info=info, tenant=tenant, nickname=nickname)


def mark_unauthorized(*, appid: str) -> None:
    with schema_context("public"), transaction.atomic():
        Authorizer.objects.filter(appid=appid).update(
            status=AuthorizerStatus.UNAUTHORIZED, access_token="", access_token_expires_at=None
        )
        transaction.on_commit(forget_cached_tenants)


def record_audit_submitted(*, appid: str, auditid: int) -> CodeAudit:
    with schema_context("public"), transaction.atomic():
        auth = Authorizer.objects.get(appid=appid)
        audit, _created = CodeAudit.objects.get_or_create(authorizer=auth, auditid=auditid)
    return audit


AUDIT_EVENTS = {
    "weapp_audit_success": AuditStatus.APPROVED,
    "weapp_audit_fail": AuditStatus.REJECTED,
    "weapp_audit_delay": AuditStatus.DELAYED,
}


def record_audit_result(*, appid: str, status: int, reason: str = "", auditid: int | None = None) -> CodeAudit | None:
    """Apply an audit verdict (pushed event or a status query) to the latest open audit."""
    with schema_context("public"), transaction.atomic():
        qs = CodeAudit.objects.select_for_update().filter(authorizer__appid=appid)
        audit = qs.filter(auditid=auditid).first() if auditid else qs.order_by("-submitted_at").first()
        if audit is None:
            return None
        audit.status = status
        audit.reason = reason or ""
        audit.save(update_fields=["status", "reason", "updated"])
    return audit
