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


def create_platform_user(
    *,
    username: str,
    password: str,
    phone: str = "",
    is_staff: bool = False,
    staff_role: str = "operator",
    **extra,
) -> User:
    """A platform account. Staff are never superusers: they get one staff role's group
    (``roles.STAFF_ROLES``: ``reviewer`` or ``operator``)."""
    from saas_platform.accounts import roles

    with transaction.atomic():
        user = User(username=username, phone=phone, is_staff=is_staff, is_superuser=False, **extra)
        user.set_password(password)
        user.save()
        if is_staff:
            with schema_context("public"):
                roles.set_role(user=user, role=staff_role, roles=roles.STAFF_ROLES)
    return user


def may_open_console(*, user: User, tenant: Tenant) -> bool:
    """The store's owner, or an active team member (public schema)."""
    from tenants.models import TeamMember

    if tenant.owner_id == user.pk:
        return True
    return TeamMember.objects.filter(tenant=tenant, user=user, is_active=True).exists()


def issue_console_link(*, user: User, tenant: Tenant, next_path: str = "/console/") -> str:
    """A signed, single-use link, valid ``CONSOLE_LINK_MAX_AGE`` seconds, into ``tenant``'s console."""
    if not may_open_console(user=user, tenant=tenant):
        raise PermissionDenied("not this store's owner or team member")
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
        fresh = Tenant.objects.get(pk=tenant.pk)
        allowed = platform_user is not None and may_open_console(user=platform_user, tenant=fresh)
        owns = allowed and fresh.owner_id == platform_user.pk
    if not allowed:
        raise PermissionDenied("not this store's owner or team member")
    if owns:
        console_user = ensure_console_user(platform_user=platform_user)
    else:
        console_user = User.objects.filter(platform_user_id=platform_user.pk, is_active=True).first()
        if console_user is None:
            raise PermissionDenied("this account is disabled in the store")
    next_path = data.get("next", "/console/")
    return console_user, next_path if next_path.startswith("/console/") else "/console/"


def ensure_console_user(*, platform_user: User, role: str = "owner") -> User:
    """The tenant-schema user standing for ``platform_user`` (created on first use), a member
    of ``role``'s group (``roles.MERCHANT_ROLES``; the store owner's is ``owner``). Never a
    superuser. Its password is unusable: it logs in only through console links."""
    from saas_platform.accounts import roles

    with transaction.atomic():
        user = User.objects.filter(platform_user_id=platform_user.pk).first()
        if user is None:
            user = User(
                username=platform_user.username,
                platform_user_id=platform_user.pk,
                first_name=platform_user.first_name,
                phone=platform_user.phone,
                is_staff=True,
                is_superuser=False,
            )
            user.set_unusable_password()
            user.save()
        elif user.is_superuser:  # consoles made before roles existed
            user.is_superuser = False
            user.save(update_fields=["is_superuser"])
        roles.set_role(user=user, role=role, roles=roles.MERCHANT_ROLES)  # also brings the groups up to date
    return user
