from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.fields import EncryptedPhoneField


class User(AbstractUser):
    """One model for people who log in, in the public schema (platform staff, merchant owners)
    and in each tenant schema (that merchant's console users).

    The phone number is encrypted at rest; ``phone_index`` (a keyed hash) finds it."""

    phone = EncryptedPhoneField(_("手机号"), blank=True, default="")
    phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    # In a tenant schema: the platform account this console user stands for (console links).
    platform_user_id = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["phone_index"], condition=~models.Q(phone_index=""), name="accounts_user_phone_unique"
            )
        ]

    def save(self, *args, **kwargs):
        self.phone = crypto.normalize_phone(self.phone) if self.phone else ""
        self.phone_index = crypto.blind_index(self.phone) if self.phone else ""
        super().save(*args, **kwargs)

    @property
    def masked_phone(self) -> str:
        return crypto.mask_phone(self.phone)
