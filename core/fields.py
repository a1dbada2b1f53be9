"""Encrypted model fields. The database holds Fernet tokens; Python sees plaintext."""

from __future__ import annotations

from django.db import models

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
