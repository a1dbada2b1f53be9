"""Encrypted model fields. The database holds Fernet tokens; Python sees plaintext."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core import crypto


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest (Fernet, key from FIELD_ENCRYPTION_KEYS)"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))


class EncryptedPhoneField(EncryptedTextField):
    """A mainland mobile number, encrypted. Pair it with a ``…_index`` CharField holding
    ``crypto.blind_index(phone)`` to look rows up by phone."""

    description = "Phone number encrypted at rest"


class PhoneNumberMixin(models.Model):
    """``phone`` encrypted at rest, ``phone_index`` (blind index) to find it, ``masked_phone``
    to show it. Every model holding a phone number uses this."""

    phone = EncryptedPhoneField(_("手机号"), blank=True, default="")
    phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.phone = crypto.normalize_phone(self.phone) if self.phone else ""
        self.phone_index = crypto.blind_index(self.phone) if self.phone else ""
        super().save(*args, **kwargs)

    @property
    def masked_phone(self) -> str:
        return crypto.mask_phone(self.phone)
