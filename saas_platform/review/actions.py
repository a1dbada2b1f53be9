"""Qualification review (SPEC P2) and the tenant lifecycle decisions staff take."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from saas_platform.accounts.models import User
from saas_platform.review import storage
from saas_platform.review.models import (
    DOCUMENT_FSM,
    AuditEntry,
    DocumentKind,
    DocumentStatus,
    QualificationDocument,
)
from saas_platform.review.selectors import required_kinds
from tenants.actions import set_tenant_status
from tenants.models import Tenant, TenantStatus


def _audit(*, tenant: Tenant, actor: User | None, action: str, subject: str = "", reason: str = "") -> AuditEntry:
    """Every review and lifecycle decision leaves an audit row (and makes the staff dashboard's
    cached figures stale: they are recomputed after commit)."""
    from saas_platform.console.selectors import forget_staff_dashboard

    transaction.on_commit(forget_staff_dashboard)
    return AuditEntry.objects.create(tenant=tenant, actor=actor, action=action, subject=subject, reason=reason)


def _required_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": ValidationError(message, code="required")})
    return reason


def _move(doc: QualificationDocument, to: str) -> None:
    DOCUMENT_FSM.move(doc, to)


def submit_document(
    *,
    tenant: Tenant,
    kind: str,
    upload,
    number: str = "",
    expires_on: dt.date | None = None,
    actor: User | None = None,
) -> QualificationDocument:
    """Store an uploaded qualification (PDF, PNG or JPEG, ≤ QUALIFICATION_MAX_BYTES) and queue
    it for review. A resubmission replaces the previous file. Nothing is left behind on error:
    the new file is removed if the database write fails, the old one only after commit."""
    if kind not in required_kinds(tenant) and kind not in DocumentKind.values:
        raise ValidationError({"kind": _("无效的资质类型。")})
    errors: dict[str, list] = {}  # every field's error at once
    sniffed = None
    if upload is None:
        errors["file"] = [ValidationError(_("请选择要上传的文件。"), code="required")]
    elif upload.size > settings.QUALIFICATION_MAX_BYTES:
        errors["file"] = [
            ValidationError(
                _("文件太大（%(size)s MB），不能超过 %(max)s MB。")
                % {
                    "size": round(upload.size / 1024 / 1024, 1),
                    "max": settings.QUALIFICATION_MAX_BYTES // 1024 // 1024,
                },
                code="too_large",
            )
        ]
    else:
        data = upload.read()
        sniffed = storage.sniff(data[:16])
        if sniffed is None:
            errors["file"] = [ValidationError(_("只支持 PDF、PNG 或 JPG 格式的文件。"), code="bad_type")]
    if expires_on is not None and expires_on <= timezone.localdate():
        errors["expires_on"] = [ValidationError(_("有效期须晚于今天。"), code="expired")]
    if errors:
        raise ValidationError(errors)
    content_type, ext = sniffed
    key = storage.save(tenant.schema_name, data, ext)
    try:
        with transaction.atomic():
            doc = QualificationDocument.objects.select_for_update().filter(tenant=tenant, kind=kind).first()
            old_key = doc.file_key if doc else ""
            if doc is None:
                doc = QualificationDocument(tenant=tenant, kind=kind)
            else:
                _move(doc, DocumentStatus.PENDING)
            doc.file_key = key
            doc.original_name = (getattr(upload, "name", "") or f"upload.{ext}")[:200]
            doc.content_type = content_type
            doc.size = len(data)
            doc.number = (number or "").strip()[:64]
            doc.expires_on = expires_on
            doc.reject_reason = ""
            doc.submitted_at = timezone.now()
            doc.reviewed_at = None
            doc.reviewed_by = None
            doc.reminded_for = None
            doc.save()
            _audit(tenant=tenant, actor=actor, action="document_submitted", subject=doc.get_kind_display())
            if old_key:
                transaction.on_commit(lambda: storage.delete(old_key))
    except Exception:
        storage.delete(key)
        raise
    return doc


def approve_document(*, document: QualificationDocument, reviewer: User) -> QualificationDocument:
    with transaction.atomic():
        doc = QualificationDocument.objects.select_for_update().get(pk=document.pk)
        _move(doc, DocumentStatus.APPROVED)
        doc.reject_reason = ""
        doc.reviewed_at = timezone.now()
        doc.reviewed_by = reviewer
        doc.save()
        _audit(tenant=doc.tenant, actor=reviewer, action="document_approved", subject=doc.get_kind_display())
    return doc


def reject_document(*, document: QualificationDocument, reviewer: User, reason: str) -> QualificationDocument:
    reason = _required_reason(reason, _("请填写驳回原因，商户会看到它。"))
    with transaction.atomic():
        doc = QualificationDocument.objects.select_for_update().get(pk=document.pk)
        _move(doc, DocumentStatus.REJECTED)
        doc.reject_reason = reason
        doc.reviewed_at = timezone.now()
        doc.reviewed_by = reviewer
        doc.save()
        _audit(
            tenant=doc.tenant, actor=reviewer, action="document_rejected", subject=doc.get_kind_display(), reason=reason
        )
    return doc


def suspend_tenant(*, tenant: Tenant, actor: User, reason: str) -> Tenant:
    reason = _required_reason(reason, _("请填写停用原因。"))
    with transaction.atomic():
        tenant = set_tenant_status(tenant=tenant, status=TenantStatus.SUSPENDED)
        _audit(tenant=tenant, actor=actor, action="tenant_suspended", subject=tenant.name, reason=reason)
    return tenant


def reinstate_tenant(*, tenant: Tenant, actor: User, reason: str) -> Tenant:
    reason = _required_reason(reason, _("请填写恢复原因。"))
    with transaction.atomic():
        target = (
            TenantStatus.TRIAL
            if tenant.trial_ends_at and tenant.trial_ends_at > timezone.now()
            else TenantStatus.ACTIVE
        )
        tenant = set_tenant_status(tenant=tenant, status=target)
        _audit(tenant=tenant, actor=actor, action="tenant_reinstated", subject=tenant.name, reason=reason)
    return tenant


def check_licence_expiry(*, today: dt.date | None = None) -> dict[str, int]:
    """Daily (beat): remind owners N days before a licence expires (once per expiry date), and
    flag licences past their date as expired. Returns counts."""
    from integrations.sms import queue_sms

    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=settings.LICENCE_REMINDER_DAYS)
    reminded = expired = 0
    for doc in QualificationDocument.objects.select_related("tenant__owner").filter(
        status=DocumentStatus.APPROVED, expires_on__lt=today
    ):
        with transaction.atomic():
            locked = QualificationDocument.objects.select_for_update().get(pk=doc.pk)
            if locked.status != DocumentStatus.APPROVED:
                continue
            _move(locked, DocumentStatus.EXPIRED)
            locked.save(update_fields=["status"])
            _audit(tenant=doc.tenant, actor=None, action="document_expired", subject=doc.get_kind_display())
            expired += 1
    due = QualificationDocument.objects.select_related("tenant__owner").filter(
        status=DocumentStatus.APPROVED, expires_on__gte=today, expires_on__lte=horizon
    )
    for doc in due.exclude(reminded_for=F("expires_on")):
        with transaction.atomic():
            n = (
                QualificationDocument.objects.filter(pk=doc.pk)
                .exclude(reminded_for=doc.expires_on)
                .update(reminded_for=doc.expires_on)
            )
            if not n:
                continue
            _audit(tenant=doc.tenant, actor=None, action="licence_reminder", subject=doc.get_kind_display())
            owner = doc.tenant.owner
            if owner and owner.phone:
                text = f"【分销云】您的店铺“{doc.tenant.name}”的{doc.get_kind_display()}将于 {doc.expires_on:%Y-%m-%d} 到期，请及时更新。"
                queue_sms(phone=owner.phone, text=text, kind="licence_reminder")  # outbox: retried if it fails
            reminded += 1
    return {"reminded": reminded, "expired": expired}
