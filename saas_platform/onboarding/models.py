from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedTextField, PhoneNumberMixin
from tenants.models import Tenant


class ServiceCategory(models.TextChoices):
    RETAIL = "retail", _("自营零售")
    FOOD = "food", _("食品生鲜")
    TRAVEL = "travel", _("旅游服务")
    BEAUTY = "beauty", _("美妆个护")
    BABY = "baby", _("母婴用品")


class SmsPurpose(models.TextChoices):
    SIGN_UP = "sign_up", _("注册")
    RESET_PASSWORD = "reset_password", _("找回密码")


class SmsCode(models.Model):
    """A one-time code sent by SMS. Only its hash is kept; it expires and is used once."""

    phone_index = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=20, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone_index", "purpose", "-created"], name="sms_lookup_idx")]


class MerchantProfile(PhoneNumberMixin, models.Model):
    """What a merchant tells us while onboarding (public schema; staff review it).
    ``phone`` is the business contact number (encrypted)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="profile")
    service_categories = ArrayField(
        models.CharField(max_length=16, choices=ServiceCategory.choices), verbose_name=_("经营类目"), default=list
    )
    template_key = models.CharField(_("店铺模板"), max_length=40, blank=True)
    template_version = models.PositiveIntegerField(_("模板版本"), null=True, blank=True)
    company_name = models.CharField(_("主体名称"), max_length=100, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    legal_person = models.CharField(_("法定代表人"), max_length=40, blank=True)
    address = EncryptedTextField(_("经营地址"), blank=True, default="")
    wechat_pay_mchid = models.CharField(_("微信支付商户号"), max_length=16, blank=True)
    previewed_at = models.DateTimeField(_("预览时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("商户资料")
        verbose_name_plural = _("商户资料")

    def __str__(self) -> str:
        return self.company_name or self.tenant.name

    @property
    def category_labels(self) -> list[str]:
        return [str(ServiceCategory(c).label) for c in self.service_categories if c in ServiceCategory.values]
