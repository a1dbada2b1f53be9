from django.db import models
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.fields import EncryptedPhoneField


class Customer(models.Model):
    """A shopper of this store (mini-program or H5). Phone encrypted, shown masked."""

    openid = models.CharField(_("OpenID"), max_length=64, unique=True)
    nickname = models.CharField(_("昵称"), max_length=64, blank=True)
    avatar_url = models.URLField(_("头像"), blank=True)
    phone = EncryptedPhoneField(_("手机号"), blank=True, default="")
    phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    registered_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("顾客")
        verbose_name_plural = _("顾客")
        ordering = ["-registered_at"]

    def __str__(self) -> str:
        return self.nickname or self.openid

    def save(self, *args, **kwargs):
        self.phone = crypto.normalize_phone(self.phone) if self.phone else ""
        self.phone_index = crypto.blind_index(self.phone) if self.phone else ""
        super().save(*args, **kwargs)

    @property
    def masked_phone(self) -> str:
        return crypto.mask_phone(self.phone)
