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

    masked_phone.fget.short_description = _("手机号")  # its label in listings and inspect views


class MoneyField(models.PositiveIntegerField):
    """An amount in integer fen, typed and shown in yuan (form field ``core.forms.YuanField``).
    ``min_fen`` is the smallest amount a form accepts (mirror a CheckConstraint with it)."""

    description = "Amount in fen, entered in yuan"

    def __init__(self, *args, min_fen: int = 0, **kwargs):
        self.min_fen = min_fen
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.min_fen:
            kwargs["min_fen"] = self.min_fen
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        from core.forms import YuanField

        defaults = {"form_class": YuanField, "min_fen": self.min_fen}
        defaults.update(kwargs)
        # IntegerField.formfield adds min_value/max_value for PositiveIntegerField; YuanField
        # takes its limits in fen instead.
        form_class = defaults.pop("form_class")
        return models.Field.formfield(self, form_class=form_class, **defaults)


class RateField(models.PositiveIntegerField):
    """A rate in basis points (1050 = 10.5 %), typed and shown as a percentage."""

    description = "Rate in basis points, entered as a percentage"

    def __init__(self, *args, max_bps: int = 10_000, **kwargs):
        self.max_bps = max_bps
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.max_bps != 10_000:
            kwargs["max_bps"] = self.max_bps
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        from core.forms import PercentField

        defaults = {"max_bps": self.max_bps}
        defaults.update(kwargs)
        return models.Field.formfield(self, form_class=PercentField, **defaults)
