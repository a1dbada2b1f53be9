from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.fields import PhoneNumberMixin


class User(PhoneNumberMixin, AbstractUser):
    """One model for people who log in, in the public schema (platform staff, merchant owners)
    and in each tenant schema (that merchant's console users).

    The phone number is encrypted at rest; ``phone_index`` (a keyed hash) finds it."""

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
