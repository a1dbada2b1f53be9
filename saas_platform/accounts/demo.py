"""Demo accounts (development only; called by ``tools/demo``)."""

from __future__ import annotations

from core import crypto
from saas_platform.accounts.actions import create_platform_user
from saas_platform.accounts.models import User


def ensure_staff(*, username: str, password: str, phone: str) -> User:
    return User.objects.filter(username=username).first() or create_platform_user(
        is_staff=True, first_name="平台运营", username=username, password=password, phone=phone
    )


def ensure_merchant_owner(*, phone: str, password: str, name: str) -> User:
    return User.objects.filter(phone_index=crypto.blind_index(phone)).first() or create_platform_user(
        username=f"m{phone}", password=password, phone=phone, first_name=name
    )
