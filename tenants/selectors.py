from __future__ import annotations

import copy
import time

from django.conf import settings

from tenants.models import Domain, Tenant

# Host/AppID → tenant, kept in process memory for TENANT_CACHE_SECONDS: the lookup is on every
# request, and skipping it halves the statements of a storefront API call (bench/hello.py).
# A status change made in this process clears the cache at once; other processes see it within
# the TTL.
_cache: dict[str, tuple[float, Tenant | None]] = {}


def _cached(key: str, load) -> Tenant | None:
    ttl = settings.TENANT_CACHE_SECONDS
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        tenant = hit[1]
    else:
        tenant = load()
        if ttl > 0 and tenant is not None:  # misses are not kept: a new store is reachable at once
            if len(_cache) > 10_000:
                _cache.clear()
            _cache[key] = (now + ttl, tenant)
    return copy.copy(tenant) if tenant is not None else None


def forget_cached_tenants() -> None:
    _cache.clear()


def tenant_for_host(hostname: str) -> Tenant | None:
    hostname = hostname.lower()

    def load():
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        return domain.tenant if domain else None

    return _cached(f"host:{hostname}", load)


def tenant_for_appid(appid: str) -> Tenant | None:
    return _cached(
        f"appid:{appid}", lambda: Tenant.objects.filter(wechat_appid=appid).exclude(schema_name="public").first()
    )


def tenant_by_slug(slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).exclude(schema_name="public").first()


def merchant_tenants():
    return Tenant.objects.exclude(schema_name="public")
