"""Sub-accounts (SPEC: the store owner's team). The owner invites a person by phone and gives
them one role (``roles.MEMBER_ROLES``); the person logs in on the platform (SMS password reset
sets their password on first use) and opens the store's console with 进入商家后台, like owners.

Runs with the connection on the store's schema (the merchant console); the platform account
and the membership are written in the public schema, in the same transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from core import crypto
from saas_platform.accounts import roles
from saas_platform.accounts.actions import ensure_console_user
from saas_platform.accounts.models import User
from tenants.models import TeamMember, Tenant


def _tenant() -> Tenant:
    schema = connection.schema_name
    if schema == "public":
        raise RuntimeError("team actions run in a store's schema")
    with schema_context("public"):
        return Tenant.objects.get(schema_name=schema)


def _check_role(role: str) -> str:
    if role not in roles.MEMBER_ROLES:
        raise ValidationError({"role": ValidationError(_("请选择有效的角色。"), code="invalid")})
    return role


def _member(console_user_id: int) -> User:
    user = User.objects.filter(pk=console_user_id, platform_user_id__isnull=False).first()
    if user is None:
        raise ValidationError({"member": ValidationError(_("成员不存在。"), code="unknown")})
    if roles.role_of(user, roles.MERCHANT_ROLES) == "owner":
        raise ValidationError({"member": ValidationError(_("不能修改店主账号。"), code="owner")})
    return user


def invite_member(*, phone: str, role: str, name: str = "") -> User:
    """Invite ``phone`` into this store's console with ``role``; returns the console user.
    Creates the platform account if the phone has none (no password yet)."""
    role = _check_role(role)
    phone = (phone or "").strip()
    if not crypto.is_valid_phone(phone):
        raise ValidationError({"phone": ValidationError(_("请输入正确的手机号。"), code="invalid")})
    phone = crypto.normalize_phone(phone)
    name = (name or "").strip()[:30]
    tenant = _tenant()
    with transaction.atomic():
        with schema_context("public"):
            platform_user = User.objects.select_for_update().filter(phone_index=crypto.blind_index(phone)).first()
            if platform_user is None:
                platform_user = User(username=f"u{phone}", phone=phone, first_name=name)
                platform_user.set_unusable_password()
                platform_user.save()
            if platform_user.pk == tenant.owner_id:
                raise ValidationError({"phone": ValidationError(_("这是店主本人的手机号。"), code="owner")})
            member, created = TeamMember.objects.get_or_create(tenant=tenant, user=platform_user)
            if not created and member.is_active:
                raise ValidationError({"phone": ValidationError(_("该手机号已是店铺成员。"), code="taken")})
            if not member.is_active:
                member.is_active = True
                member.save(update_fields=["is_active"])
        user = ensure_console_user(platform_user=platform_user, role=role)
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
    return user


def set_member_role(*, console_user_id: int, role: str) -> User:
    role = _check_role(role)
    with transaction.atomic():
        user = _member(console_user_id)
        roles.set_role(user=user, role=role, roles=roles.MERCHANT_ROLES)
    return user


def set_member_active(*, console_user_id: int, active: bool) -> User:
    """Disable (or enable again) a team member: the console user can no longer log in and the
    platform no longer offers this store's console to them."""
    tenant = _tenant()
    with transaction.atomic():
        user = _member(console_user_id)
        user.is_active = active
        user.save(update_fields=["is_active"])
        with schema_context("public"):
            TeamMember.objects.filter(tenant=tenant, user_id=user.platform_user_id).update(is_active=active)
    return user


def team() -> list[dict]:
    """The store's console users with their roles (selector)."""
    users = User.objects.filter(platform_user_id__isnull=False).prefetch_related("groups").order_by("pk")
    labels = {r: str(label) for r, (label, _p) in roles.MERCHANT_ROLES.items()}
    rows = []
    for u in users:
        names = {g.name for g in u.groups.all()}
        role = next((r for r in roles.MERCHANT_ROLES if roles.group_name(r) in names), None)
        rows.append({"user": u, "role": role, "role_label": labels.get(role, "—"), "is_owner": role == "owner"})
    return rows
