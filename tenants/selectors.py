from __future__ import annotations

import copy
import time

from django.conf import settings
from django.core.cache import cache
from django_tenants.utils import schema_context

from tenants.models import Domain, Tenant

# Host/AppID → tenant, kept in process memory for TENANT_CACHE_SECONDS: the lookup is on every
# request, and skipping it halves the statements of a storefront API call (bench/hello.py).
# A change (status, AppID) bumps a version number in the shared cache; every process compares it
# at most every TENANT_VERSION_CHECK_SECONDS (one Redis GET) and drops its memory, so a
# suspension applies everywhere within half a second.
_cache: dict[str, tuple[float, Tenant | None]] = {}
_seen_version: list = [None]
_checked_at: list = [0.0]
VERSION_KEY = "tenants:resolution-version"


def _current_version():
    try:
        with schema_context("public"):  # cache keys carry the active schema: always use public's
            return cache.get(VERSION_KEY, 0)
    except Exception:  # cache down: fall back to the TTL alone
        return None


def _cached(key: str, load) -> Tenant | None:
    ttl = settings.TENANT_CACHE_SECONDS
    now = time.monotonic()
    # One Redis read per TENANT_VERSION_CHECK_SECONDS, not per request (it cost a third of the
    # throughput of a one-query API view: bench/RESULTS.md).
    if now - _checked_at[0] >= settings.TENANT_VERSION_CHECK_SECONDS:
        _checked_at[0] = now
        version = _current_version()
        if version is None:
            # Cache down: changes can't be heard of, so the TTL alone bounds staleness; ask
            # again only after it (a hung Redis must not slow every other request).
            _checked_at[0] = now + max(0.0, ttl - settings.TENANT_VERSION_CHECK_SECONDS)
            if _seen_version[0] is not None:
                _cache.clear()
                _seen_version[0] = None
        elif version != _seen_version[0]:
            _cache.clear()
            _seen_version[0] = version
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
    """Make every process forget its host/AppID → tenant memory (after a tenant changes)."""
    _cache.clear()
    _checked_at[0] = 0.0
    try:
        with schema_context("public"):
            if not cache.add(VERSION_KEY, 1, timeout=None):
                cache.incr(VERSION_KEY)
    except Exception:  # cache down: other processes catch up within TENANT_CACHE_SECONDS
        pass


def tenant_for_host(hostname: str) -> Tenant | None:
    hostname = hostname.lower()

    def load():
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        return domain.tenant if domain else None

    return _cached(f"host:{hostname}", load)


def tenant_for_appid(appid: str) -> Tenant | None:
    """The store whose mini-program this is, once WeChat's authorization proved it (an authorized
    authorizer of that AppID for that store); a typed AppID still pending authorization resolves
    nothing."""

    def load():
        return (
            Tenant.objects.filter(
                wechat_appid=appid, wechat_authorizers__appid=appid, wechat_authorizers__status="authorized"
            )
            .exclude(schema_name="public")
            .first()
        )

    return _cached(f"appid:{appid}", load)


def tenant_by_slug(slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).exclude(schema_name="public").first()


def merchant_tenants():
    return Tenant.objects.exclude(schema_name="public")
