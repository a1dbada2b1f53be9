from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from core.fsm import StateMachine


class Industry(models.TextChoices):
    FRESH = "fresh", _("生鲜果蔬")
    TRAVEL = "travel", _("旅游出行")
    BEAUTY = "beauty", _("美妆个护")
    BABY = "baby", _("母婴")
    GENERAL = "general", _("综合")


class TenantStatus(models.TextChoices):
    TRIAL = "trial", _("试用中")
    ACTIVE = "active", _("正常")
    READ_ONLY = "read_only", _("只读")
    SUSPENDED = "suspended", _("已停用")


# Lifecycle: the allowed transitions, written once (house rule 3; ``core.fsm``).
TENANT_FSM = StateMachine(
    TenantStatus,
    {
        TenantStatus.TRIAL: {TenantStatus.ACTIVE, TenantStatus.READ_ONLY, TenantStatus.SUSPENDED},
        TenantStatus.ACTIVE: {TenantStatus.READ_ONLY, TenantStatus.SUSPENDED},
        TenantStatus.READ_ONLY: {TenantStatus.ACTIVE, TenantStatus.SUSPENDED},
        TenantStatus.SUSPENDED: {TenantStatus.ACTIVE, TenantStatus.TRIAL, TenantStatus.READ_ONLY},
    },
    subject=_("店铺"),
)


class Tenant(TenantMixin):
    """A merchant. Its store lives in its own PostgreSQL schema (``schema_name``)."""

    slug = models.SlugField(_("店铺标识"), max_length=40, unique=True)
    name = models.CharField(_("店铺名称"), max_length=100)
    status = models.CharField(
        _("状态"), max_length=16, choices=TenantStatus.choices, default=TenantStatus.TRIAL, editable=False
    )
    industry = models.CharField(_("行业"), max_length=16, choices=Industry.choices, default=Industry.GENERAL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("店主"),
        on_delete=models.PROTECT,
        related_name="owned_tenants",
        null=True,
        blank=True,
    )
    wechat_appid = models.CharField(_("小程序 AppID"), max_length=32, unique=True, null=True, blank=True)
    trial_ends_at = models.DateTimeField(_("试用截止"), null=True, blank=True)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)

    auto_create_schema = True  # only used by the fallback path; provisioning manages schemas itself
    auto_drop_schema = False

    class Meta:
        verbose_name = _("商户")
        verbose_name_plural = _("商户")
        ordering = ["-created"]
        permissions = [("suspend_tenant", _("停用或恢复店铺"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def primary_host(self) -> str:
        return f"{self.slug}.{settings.PLATFORM_DOMAIN}"

    def absolute_url(self, path: str = "/") -> str:
        port = settings.PUBLIC_PORT
        default = (settings.PUBLIC_SCHEME == "http" and port == "80") or (
            settings.PUBLIC_SCHEME == "https" and port == "443"
        )
        netloc = self.primary_host if default else f"{self.primary_host}:{port}"
        return f"{settings.PUBLIC_SCHEME}://{netloc}{path}"


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("域名")
        verbose_name_plural = _("域名")


class SpareSchema(models.Model):
    """A pre-cloned, fully migrated, empty tenant schema waiting to be renamed to a new tenant's.

    ``fingerprint`` names the set of migrations applied in it; only spares whose fingerprint
    equals the code's are handed out (``tenants.provisioning``)."""

    schema_name = models.CharField(max_length=63, unique=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return self.schema_name


class ConsoleLinkUse(models.Model):
    """A console link (saas_platform.accounts.actions)'s nonce, recorded when the link is used: a second use is refused."""

    nonce = models.CharField(max_length=32, unique=True)
    user_id = models.BigIntegerField()
    schema_name = models.CharField(max_length=63)
    used_at = models.DateTimeField(auto_now_add=True)


class TeamMember(models.Model):
    """A platform account the store owner invited into the store's console (a sub-account).
    The role itself is the console user's group in the tenant schema; this row (public schema)
    says who may open the console from the platform (``issue_console_link``)."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("商户"), on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="memberships"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created = models.DateTimeField(_("邀请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("店铺成员")
        verbose_name_plural = _("店铺成员")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="tenants_one_membership")]

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.user_id}"
