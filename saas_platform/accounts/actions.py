"""Platform accounts: console links from the platform host into a merchant's console."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from saas_platform.accounts.models import User
from tenants.models import ConsoleLinkUse, Tenant

CONSOLE_LINK_SALT = "accounts.console-link"


def create_platform_user(*, username: str, password: str, phone: str = "", is_staff: bool = False, **extra) -> User:
    with transaction.atomic():
        user = User(username=username, phone=phone, is_staff=is_staff, is_superuser=is_staff, **extra)
        user.set_password(password)
        user.save()
    return user


def issue_console_link(*, user: User, tenant: Tenant, next_path: str = "/console/") -> str:
    """A signed, single-use link, valid ``CONSOLE_LINK_MAX_AGE`` seconds, into ``tenant``'s console."""
    if tenant.owner_id != user.pk:
        raise PermissionDenied("not this store's owner")
    if not next_path.startswith("/console/"):
        next_path = "/console/"
    token = signing.dumps(
        {"u": user.pk, "t": tenant.schema_name, "n": uuid.uuid4().hex, "next": next_path}, salt=CONSOLE_LINK_SALT
    )
    return tenant.absolute_url(f"/console-link/?token={token}")


def redeem_console_link(*, token: str, tenant: Tenant) -> tuple[User, str]:
    """The tenant's console user for a valid link; ``PermissionDenied`` for an expired,
    forged, replayed or other-tenant link. Runs with the connection on ``tenant``."""
    try:
        data = signing.loads(token, salt=CONSOLE_LINK_SALT, max_age=settings.CONSOLE_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise PermissionDenied("link expired") from exc
    except signing.BadSignature as exc:
        raise PermissionDenied("bad link") from exc
    if data.get("t") != tenant.schema_name:
        raise PermissionDenied("link for another store")
    with schema_context("public"):
        try:
            with transaction.atomic():
                ConsoleLinkUse.objects.create(nonce=data["n"], user_id=data["u"], schema_name=tenant.schema_name)
        except IntegrityError as exc:
            raise PermissionDenied("link already used") from exc
        platform_user = User.objects.filter(pk=data["u"], is_active=True).first()
        owns = Tenant.objects.filter(pk=tenant.pk, owner_id=data["u"]).exists()
    if platform_user is None or not owns:
        raise PermissionDenied("not this store's owner")
    next_path = data.get("next", "/console/")
    return ensure_console_user(platform_user=platform_user), next_path if next_path.startswith(
        "/console/"
    ) else "/console/"


def ensure_console_user(*, platform_user: User) -> User:
    """The tenant-schema user standing for ``platform_user`` (created on first use).
    Its password is unusable: it logs in only through console links."""
    user = User.objects.filter(platform_user_id=platform_user.pk).first()
    if user is None:
        user = User(
            username=platform_user.username,
            platform_user_id=platform_user.pk,
            first_name=platform_user.first_name,
            phone=platform_user.phone,
            is_staff=True,
            is_superuser=True,
        )
        user.set_unusable_password()
        user.save()
    return user
