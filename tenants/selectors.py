from __future__ import annotations

from tenants.models import Domain, Tenant


def tenant_for_host(hostname: str) -> Tenant | None:
    domain = Domain.objects.select_related("tenant").filter(domain=hostname.lower()).first()
    return domain.tenant if domain else None


def tenant_for_appid(appid: str) -> Tenant | None:
    return Tenant.objects.filter(wechat_appid=appid).exclude(schema_name="public").first()


def tenant_by_slug(slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).exclude(schema_name="public").first()


def merchant_tenants():
    return Tenant.objects.exclude(schema_name="public")
