"""Tenant actions: provisioning and lifecycle. Views, tasks and commands call these."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context
from wagtail.models import Site

from core import outbox
from saas_platform.accounts.models import User
from tenants import provisioning
from tenants.models import TENANT_FSM, Domain, Industry, Tenant, TenantStatus
from tenants.selectors import forget_cached_tenants

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
RESERVED_SLUGS = frozenset(
    """www api admin staff console static media files mail smtp ftp platform public
    help support docs blog status app m h5 wx wechat pay cdn assets test demo dev
    login signup register account accounts billing shop store open oauth""".split()
)


def schema_name_for(slug: str) -> str:
    return "t_" + slug.replace("-", "_")


def validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationError(
            {
                "slug": ValidationError(
                    _("店铺标识须为 3–40 位小写字母、数字或连字符，以字母开头，不能以连字符结尾。"), code="invalid"
                )
            }
        )
    if slug in RESERVED_SLUGS or slug.startswith(("spare", "tpl")):
        raise ValidationError(
            {"slug": ValidationError(_("“%(slug)s”是系统保留标识，请换一个。") % {"slug": slug}, code="reserved")}
        )
    if Tenant.objects.filter(slug=slug).exists() or Tenant.objects.filter(schema_name=schema_name_for(slug)).exists():
        raise ValidationError(
            {"slug": ValidationError(_("店铺标识“%(slug)s”已被使用。") % {"slug": slug}, code="taken")}
        )
    return slug


def provision_tenant(
    *,
    slug: str,
    name: str,
    owner: User | None,
    industry: str = Industry.GENERAL,
    wechat_appid: str | None = None,
) -> Tenant:
    """Create a merchant and its schema, ready to use when this returns.

    Takes a warm spare schema and renames it (milliseconds); with an empty pool, clones the
    template instead. Never runs migrations. One transaction: on any error nothing is left
    behind (PostgreSQL DDL is transactional, so the rename or clone rolls back too)."""
    slug = validate_slug(slug)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ValidationError(_("请填写店铺名称。"), code="required")})
    if industry not in Industry.values:
        raise ValidationError({"industry": ValidationError(_("请选择有效的行业。"), code="invalid")})
    if wechat_appid and Tenant.objects.filter(wechat_appid=wechat_appid).exists():
        raise ValidationError({"wechat_appid": ValidationError(_("该小程序 AppID 已绑定其他店铺。"), code="taken")})
    schema = schema_name_for(slug)
    connection.set_schema_to_public()
    with transaction.atomic():
        spare = provisioning.claim_spare()
        if spare is not None:
            provisioning.rename_schema(spare.schema_name, schema)
            spare.delete()
        else:
            provisioning.clone_template(schema)
        tenant = Tenant(
            schema_name=schema,
            slug=slug,
            name=name,
            owner=owner,
            industry=industry,
            wechat_appid=wechat_appid or None,
            status=TenantStatus.TRIAL,
            trial_ends_at=timezone.now() + timedelta(days=settings.TENANT_TRIAL_DAYS),
        )
        tenant.auto_create_schema = False  # the schema is already there
        tenant.save()
        Domain.objects.create(domain=tenant.primary_host, tenant=tenant, is_primary=True)
        with schema_context(schema):
            _prepare_tenant_schema(tenant, owner)
        outbox.record("tenants.effects.refill_pool")
    return tenant


def _prepare_tenant_schema(tenant: Tenant, owner: User | None) -> None:
    port = int(settings.PUBLIC_PORT) if str(settings.PUBLIC_PORT).isdigit() else 80
    Site.objects.filter(is_default_site=True).update(hostname=tenant.primary_host, port=port, site_name=tenant.name)
    if owner is not None:
        from saas_platform.accounts.actions import ensure_console_user

        ensure_console_user(platform_user=owner)


def set_tenant_status(*, tenant: Tenant, status: str) -> Tenant:
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if status == locked.status:
            return locked  # an idempotent repeat of the same decision
        TENANT_FSM.move(locked, status)
        locked.save(update_fields=["status"])
        transaction.on_commit(forget_cached_tenants)
    return locked


def bind_wechat_appid(*, tenant: Tenant, appid: str, authorized: bool = False) -> Tenant:
    """Record the store's mini-program AppID. A typed AppID (``authorized=False``) stays pending:
    it resolves no API traffic until WeChat's authorization proves the store owns it
    (``saas_platform.miniprogram.actions.save_authorization`` calls this with ``authorized=True``,
    which takes the AppID from another store that had only typed it)."""
    appid = appid.strip()
    if not re.match(r"^wx[0-9a-f]{16}$", appid):
        raise ValidationError({"wechat_appid": _("小程序 AppID 格式不正确（wx 开头，共 18 位）。")})
    with transaction.atomic():
        others = Tenant.objects.select_for_update().filter(wechat_appid=appid).exclude(pk=tenant.pk)
        if others.exists():
            if not authorized:
                raise ValidationError({"wechat_appid": _("该小程序 AppID 已绑定其他店铺。")})
            others.update(wechat_appid=None)
        Tenant.objects.filter(pk=tenant.pk).update(wechat_appid=appid)
        transaction.on_commit(forget_cached_tenants)
    tenant.wechat_appid = appid
    return tenant
