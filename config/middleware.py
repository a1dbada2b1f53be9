"""Tenant resolution.

* Browsers reach a tenant by host: ``{slug}.<PLATFORM_DOMAIN>``.
* Mini-programs all call one registered API host (``API_HOST``): there the tenant is the one
  whose bound mini-program AppID equals the ``X-WX-AppID`` header.
* Unknown tenant: a clear 404 (JSON for ``/api/``, HTML otherwise), never public data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.selectors import tenant_for_appid, tenant_for_host

APPID_HEADER = "X-WX-AppID"


def tenant_not_found(request, reason_fn):
    """404 in the user's language (this runs before LocaleMiddleware)."""
    with translation.override(translation.get_language_from_request(request)):
        reason = reason_fn()
        return _not_found_response(request, reason)


def _not_found_response(request, reason: str):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "tenant_not_found", "message": reason, "fields": {}}},
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, "errors/tenant_not_found.html", {"reason": reason}, status=404)


class TenantResolutionMiddleware(TenantMainMiddleware):
    def process_request(self, request):
        connection.set_schema_to_public()
        hostname = self.hostname_from_request(request)
        if settings.DEBUG and hostname in settings.LOOPBACK_HOSTS:
            hostname = settings.PLATFORM_DOMAIN  # development: 127.0.0.1:<port> is the platform
        if request.path == "/healthz":
            # Health is host-independent and always answered from the public schema.
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return None
        if hostname == settings.API_HOST:
            if not request.path.startswith("/api/"):
                return tenant_not_found(request, lambda: _("此域名仅提供小程序接口 /api/。"))
            appid = request.headers.get(APPID_HEADER, "").strip()
            if not appid:
                return tenant_not_found(request, lambda: _("缺少请求头 X-WX-AppID。"))
            tenant = tenant_for_appid(appid)
            if tenant is None:
                return tenant_not_found(request, lambda: _("没有绑定该小程序 AppID 的店铺。"))
        else:
            tenant = tenant_for_host(hostname)
            if tenant is None:
                return tenant_not_found(request, lambda: _("找不到这个店铺：%(host)s") % {"host": hostname})
            appid = request.headers.get(APPID_HEADER, "").strip()
            if appid and request.path.startswith("/api/") and getattr(tenant_for_appid(appid), "pk", None) != tenant.pk:
                return tenant_not_found(request, lambda: _("小程序 AppID 与店铺不匹配。"))
        tenant.domain_url = hostname
        request.tenant = tenant
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None
