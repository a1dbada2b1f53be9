"""Demo tenants (development only; called by ``tools/demo``)."""

from __future__ import annotations

from django.conf import settings

from tenants.actions import provision_tenant
from tenants.models import Domain, Tenant


def ensure_platform() -> Tenant:
    """The public tenant and the platform host's domain."""
    public, _ = Tenant.objects.get_or_create(
        schema_name="public", defaults={"slug": "platform", "name": "分销云平台", "status": "active"}
    )
    Domain.objects.get_or_create(domain=settings.PLATFORM_DOMAIN, defaults={"tenant": public, "is_primary": True})
    return public


def ensure_store(*, slug: str, name: str, owner, industry: str, appid: str) -> tuple[Tenant, bool]:
    """The store ``slug`` (provisioned on first call); ``appid`` is typed, so it stays pending until
    WeChat's authorization (``manage.py wechat_demo_bind`` on the emulator)."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is not None:
        return tenant, False
    return provision_tenant(slug=slug, name=name, owner=owner, industry=industry, wechat_appid=appid), True
