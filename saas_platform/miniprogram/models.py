"""A store's mini-program binding (public schema): the authorizer WeChat confirmed for it, with
the tokens WeChat handed us, and the code audits of that mini-program. The tables keep their
names from ``integrations.wechat`` (moved with SeparateDatabaseAndState)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField


class AuthorizerStatus(models.TextChoices):
    AUTHORIZED = "authorized", _("已授权")
    UNAUTHORIZED = "unauthorized", _("已取消授权")


class Authorizer(models.Model):
    """A mini-program that authorised our platform. ``refresh_token`` must be kept: it is the only
    way to get a new authorizer_access_token without the merchant scanning again."""

    appid = models.CharField(_("小程序 AppID"), max_length=32, unique=True)
    tenant = models.ForeignKey(
        "tenants.Tenant",
        verbose_name=_("商户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wechat_authorizers",
    )
    nickname = models.CharField(_("小程序名称"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=AuthorizerStatus.choices, default=AuthorizerStatus.AUTHORIZED
    )
    access_token = EncryptedTextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = EncryptedTextField(blank=True, default="")
    func_info = models.JSONField(default=list, blank=True)
    authorized_at = models.DateTimeField(_("授权时间"), null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "wechat_authorizer"
        verbose_name = _("小程序授权")
        verbose_name_plural = _("小程序授权")

    def __str__(self) -> str:
        return self.appid

    @property
    def token_valid(self) -> bool:
        return bool(
            self.access_token and self.access_token_expires_at and self.access_token_expires_at > timezone.now()
        )


class AuditStatus(models.IntegerChoices):
    APPROVED = 0, _("审核通过")
    REJECTED = 1, _("审核被拒")
    IN_REVIEW = 2, _("审核中")
    WITHDRAWN = 3, _("已撤回")
    DELAYED = 4, _("审核延后")


class CodeAudit(models.Model):
    authorizer = models.ForeignKey(Authorizer, on_delete=models.CASCADE, related_name="audits")
    auditid = models.BigIntegerField()
    status = models.IntegerField(choices=AuditStatus.choices, default=AuditStatus.IN_REVIEW)
    reason = models.TextField(blank=True)
    released = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "wechat_codeaudit"
        constraints = [models.UniqueConstraint(fields=["authorizer", "auditid"], name="wechat_audit_unique")]
