from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fsm import StateMachine
from tenants.models import Tenant


class DocumentKind(models.TextChoices):
    BUSINESS_LICENCE = "business_licence", _("营业执照")
    LEGAL_PERSON_ID = "legal_person_id", _("法人身份证（实名认证）")
    ICP_FILING = "icp_filing", _("ICP 备案")
    FOOD_LICENCE = "food_licence", _("食品经营许可证")
    TRAVEL_LICENCE = "travel_licence", _("旅行社业务经营许可证")


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")
    EXPIRED = "expired", _("已过期")


# The allowed transitions, written once (house rule 3; ``core.fsm``). A resubmission replaces
# the file and goes back to PENDING.
DOCUMENT_FSM = StateMachine(
    DocumentStatus,
    {
        DocumentStatus.PENDING: {DocumentStatus.APPROVED, DocumentStatus.REJECTED, DocumentStatus.PENDING},
        DocumentStatus.APPROVED: {DocumentStatus.EXPIRED, DocumentStatus.PENDING},
        DocumentStatus.REJECTED: {DocumentStatus.PENDING},
        DocumentStatus.EXPIRED: {DocumentStatus.PENDING},
    },
    subject=_("资质"),
)
DOCUMENT_TRANSITIONS = DOCUMENT_FSM.transitions


class QualificationDocument(models.Model):
    """One qualification of a merchant: the current file and its review state (one row per
    kind and tenant; every decision is kept in ``AuditEntry``)."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("商户"), on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("资质类型"), max_length=24, choices=DocumentKind.choices)
    file_key = models.CharField(max_length=300)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    number = models.CharField(_("证照编号"), max_length=64, blank=True)
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=DocumentStatus.choices,
        default=DocumentStatus.PENDING,
        db_index=True,
        editable=False,
    )
    reject_reason = models.TextField(_("驳回原因"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reminded_for = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("资质文件")
        verbose_name_plural = _("资质文件")
        ordering = ["submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind"],
                name="review_one_document_per_kind",
                violation_error_message=_("这类资质已经提交过，请在原记录上重新上传。"),
            )
        ]
        permissions = [("decide_qualificationdocument", _("审核资质（通过或驳回）"))]

    def __str__(self) -> str:
        return f"{self.tenant.name} · {self.get_kind_display()}"


class AuditEntry(models.Model):
    """Append-only trail of staff and system decisions: who, when, what, why. The database
    refuses UPDATE and DELETE on this table (a trigger, migration 0002)."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("商户"), on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=40)
    subject = models.CharField(_("对象"), max_length=100, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    created = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("审核记录")
        verbose_name_plural = _("审核记录")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.action} {self.subject}"
