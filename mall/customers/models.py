from django.db import models
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.fields import EncryptedTextField, PhoneNumberMixin


class Customer(PhoneNumberMixin, models.Model):
    """A shopper of this store (mini-program or H5). Phone encrypted, shown masked."""

    # NULL for a shopper who has only logged in on the H5 storefront (phone + SMS code); the
    # mini-program's login attaches the openid when that phone is bound there (``bind_phone``).
    openid = models.CharField(_("OpenID"), max_length=64, unique=True, null=True, blank=True)
    nickname = models.CharField(_("昵称"), max_length=64, blank=True)
    avatar_url = models.URLField(_("头像"), blank=True)
    registered_at = models.DateTimeField(_("注册时间"), auto_now_add=True)
    phone_bound_at = models.DateTimeField(_("绑定手机时间"), null=True, blank=True, editable=False)
    tags = models.ManyToManyField(
        "CustomerTag", verbose_name=_("标签"), through="CustomerTagging", related_name="customers", blank=True
    )

    class Meta:
        verbose_name = _("顾客")
        verbose_name_plural = _("顾客")
        ordering = ["-registered_at"]
        permissions = [("tag_customer", _("给顾客打标签"))]

    def __str__(self) -> str:
        return self.nickname or self.masked_phone or self.openid or f"#{self.pk}"


class ShopperLoginCode(models.Model):
    """A one-time SMS code for the H5 storefront's phone login. Only its hash is kept; it
    expires and is used once. Per store (tenant schema): a code of one store never logs in at
    another."""

    phone_index = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        default_permissions = ()


class TagRule(models.TextChoices):
    MANUAL = "", _("手动")
    FREQUENT_BUYER = "frequent_buyer", _("近 90 天付款订单数 ≥ N")


class CustomerTag(models.Model):
    name = models.CharField(_("标签名"), max_length=20, unique=True)
    rule = models.CharField(_("规则"), max_length=20, choices=TagRule.choices, blank=True, default="")
    rule_value = models.PositiveIntegerField(_("规则参数 N"), default=3)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("顾客标签")
        verbose_name_plural = _("顾客标签")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class CustomerTagging(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(CustomerTag, on_delete=models.CASCADE, related_name="taggings")
    by_rule = models.BooleanField(_("规则自动"), default=False)
    created = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("顾客标签")
        verbose_name_plural = _("顾客标签")
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="customers_tagging_unique")]


class Address(models.Model):
    """A shopper's delivery address. Name, phone and street are encrypted at rest (PIPL) and
    shown masked in lists; province/city/district stay plain (shipping fees are by region)."""

    customer = models.ForeignKey(Customer, verbose_name=_("顾客"), on_delete=models.CASCADE, related_name="addresses")
    receiver = EncryptedTextField(_("收货人"))
    phone = EncryptedTextField(_("手机号"))
    province = models.CharField(_("省份"), max_length=20)
    city = models.CharField(_("城市"), max_length=30)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    detail = EncryptedTextField(_("详细地址"))
    is_default = models.BooleanField(_("默认地址"), default=False)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("收货地址")
        verbose_name_plural = _("收货地址")
        ordering = ["-is_default", "-pk"]

    def __str__(self) -> str:
        return f"{self.masked_receiver} {self.region}"

    @property
    def region(self) -> str:
        return "".join(p for p in (self.province, self.city, self.district) if p)

    @property
    def masked_receiver(self) -> str:
        name = self.receiver or ""
        return (name[0] + "*" * max(len(name) - 1, 1)) if name else ""

    @property
    def masked_phone(self) -> str:
        return crypto.mask_phone(self.phone)

    @property
    def masked_detail(self) -> str:
        d = self.detail or ""
        return (d[:4] + "****") if len(d) > 4 else "****"
