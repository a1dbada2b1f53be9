"""The mini-program's ``ext.json`` for one store (WeChat third-party platform).

Every store runs the same code template (the storefront's ``mp-weixin`` build); what differs is
this ext: the store's AppID and where its API and config live. The publishing engine (issue 13)
commits the template with it (``MiniProgramClient.commit(ext=ext_json(tenant))``); the client
reads it with ``uni.getExtConfigSync()`` and sends ``X-WX-AppID`` on the shared API host."""

from __future__ import annotations

from django.conf import settings


def api_origin() -> str:
    port = settings.PUBLIC_PORT
    default = (settings.PUBLIC_SCHEME == "http" and port == "80") or (
        settings.PUBLIC_SCHEME == "https" and port == "443"
    )
    host = settings.API_HOST if default else f"{settings.API_HOST}:{port}"
    return f"{settings.PUBLIC_SCHEME}://{host}"


def ext_json(tenant) -> dict:
    """The ext for ``tenant`` (it must have an authorised mini-program AppID)."""
    if not tenant.wechat_appid:
        raise ValueError(f"tenant {tenant.slug} has no mini-program AppID")
    base = f"{api_origin()}/api/v1"
    return {
        "extEnable": True,
        "extAppid": tenant.wechat_appid,
        "directCommit": False,
        "ext": {
            "tenant_id": tenant.pk,
            "slug": tenant.slug,
            "name": tenant.name,
            "appid": tenant.wechat_appid,
            "api_base": base,
            "config_url": f"{base}/store/config",
        },
    }
