"""Merchant console (Wagtail, /console/wechat/): bind a mini-program through WeChat's
scan-to-authorize page and see the authorizer, its tokens and code audits."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from integrations.wechat.errors import WeChatError
from integrations.wechat.open_platform import ComponentClient
from saas_platform.miniprogram import actions, selectors

log = logging.getLogger(__name__)


def binding(request):
    tenant = connection.tenant
    authorizer = selectors.authorizer_for_current_tenant()
    audits = selectors.recent_audits(authorizer) if authorizer is not None else []
    return render(
        request,
        "wechat/binding.html",
        {"tenant": tenant, "authorizer": authorizer, "audits": audits, "page_title": _("绑定小程序")},
    )


def authorize(request):
    redirect_uri = request.build_absolute_uri(reverse("wechat_authorized"))
    try:
        url = ComponentClient().authorization_url(redirect_uri)
    except ImproperlyConfigured as exc:  # the platform's WeChat settings: the detail is for the log
        log.warning("pre-auth URL unavailable: %s", exc)
        messages.error(request, _("平台尚未配置微信开放平台，暂时无法发起授权，请联系平台客服。"))
        return redirect("wechat_binding")
    except WeChatError as exc:
        log.warning("pre-auth URL unavailable: %s", exc)
        messages.error(request, _("暂时无法发起授权：%(e)s") % {"e": exc.message})
        return redirect("wechat_binding")
    return redirect(url)


def authorized(request):
    try:
        auth = actions.complete_authorization(tenant=connection.tenant, auth_code=request.GET.get("auth_code", ""))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except WeChatError as exc:
        messages.error(request, _("授权未完成：%(e)s") % {"e": exc.message})
    else:
        messages.success(request, _("已绑定小程序 %(appid)s。") % {"appid": auth.appid})
    return redirect("wechat_binding")
