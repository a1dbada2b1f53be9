from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import PhoneNumberMixin


class Customer(PhoneNumberMixin, models.Model):
    """A shopper of this store (mini-program or H5). Phone encrypted, shown masked."""

    openid = models.CharField(_("OpenID"), max_length=64, unique=True)
    nickname = models.CharField(_("昵称"), max_length=64, blank=True)
    avatar_url = models.URLField(_("头像"), blank=True)
    registered_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("顾客")
        verbose_name_plural = _("顾客")
        ordering = ["-registered_at"]

    def __str__(self) -> str:
        return self.nickname or self.openid
