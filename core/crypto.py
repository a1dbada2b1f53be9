"""Personal data protection (SPEC M10): field encryption, blind index, masking."""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(plaintext: str) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt field: wrong FIELD_ENCRYPTION_KEYS?") from exc


def blind_index(value: str) -> str:
    """Deterministic keyed hash, to find a row by an encrypted value without decrypting."""
    return hmac.new(settings.FIELD_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def normalize_phone(phone: str) -> str:
    digits = re.sub(r"[\s\-]", "", phone or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def is_valid_phone(phone: str) -> bool:
    return bool(PHONE_RE.match(normalize_phone(phone)))


def mask_phone(phone: str | None) -> str:
    """13812345678 → 138****5678. Anything shorter keeps only its last two characters."""
    if not phone:
        return ""
    phone = normalize_phone(phone)
    if len(phone) >= 7:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def mask_address(address: str | None) -> str:
    """Keep the first six characters (province/city), hide the rest."""
    if not address:
        return ""
    return address[:6] + "*" * min(len(address) - 6, 8) if len(address) > 6 else address
