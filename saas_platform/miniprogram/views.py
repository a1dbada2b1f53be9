"""WeChat's pushes to the third-party platform, on the platform host (public schema):

* ``/wechat/component/`` — verify ticket, authorized, updateauthorized, unauthorized
  (encrypted XML; answered ``success``).
* ``/wechat/events/<appid>/`` — events for an authorised mini-program (code audit results).

WeChat Pay's notifies are ``mall.payments.views``.
"""

from __future__ import annotations

import json
import logging

import xmltodict
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from core.inbound import InboundKind, log_inbound
from integrations.wechat.errors import WeChatError
from integrations.wechat.open_platform import ComponentClient
from saas_platform.miniprogram import actions

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def _push_args(request) -> dict:
    return {
        "msg_signature": request.GET.get("msg_signature", ""),
        "timestamp": request.GET.get("timestamp", ""),
        "nonce": request.GET.get("nonce", ""),
    }


@csrf_exempt
@require_POST
def component_push(request):
    if len(request.body) > MAX_BODY:
        return HttpResponse("too large", status=413)
    try:
        msg = ComponentClient().parse_push(request.body, **_push_args(request))
    except (InvalidSignatureException, InvalidAppIdException, WeChatError, ValueError, KeyError) as exc:
        log_inbound(kind=InboundKind.COMPONENT, outcome="refused", detail=f"{exc.__class__.__name__}: {exc}")
        return HttpResponse("invalid", status=400)
    except Exception as exc:  # malformed XML and the like: refused, never a 500
        log_inbound(kind=InboundKind.COMPONENT, outcome="refused", detail=f"{exc.__class__.__name__}: {exc}")
        return HttpResponse("invalid", status=400)
    outcome = "ok"
    if msg.type in ("authorized", "updateauthorized"):
        info = getattr(msg, "query_auth_result", {}).get("authorization_info")
        if info:
            actions.save_authorization(info=info)
    elif msg.type == "unauthorized":
        actions.mark_unauthorized(appid=msg.authorizer_appid)
    elif msg.type != "component_verify_ticket":
        outcome = "ignored"
    log_inbound(
        kind=InboundKind.COMPONENT, key=msg.type, outcome=outcome, detail=getattr(msg, "authorizer_appid", "") or ""
    )
    return HttpResponse("success")


@csrf_exempt
@require_POST
def authorizer_event(request, appid: str):
    if len(request.body) > MAX_BODY:
        return HttpResponse("too large", status=413)
    try:
        xml = ComponentClient().decrypt(request.body, **_push_args(request))
        event = xmltodict.parse(xml)["xml"]
    except Exception as exc:  # bad signature, wrong AppId, malformed XML: refused
        log_inbound(kind=InboundKind.EVENT, key=appid, outcome="refused", detail=f"{exc.__class__.__name__}: {exc}")
        return HttpResponse("invalid", status=400)
    name = str(event.get("Event", ""))
    outcome = "ignored"
    if name in actions.AUDIT_EVENTS:
        audit = actions.record_audit_result(
            appid=appid, status=actions.AUDIT_EVENTS[name], reason=event.get("Reason") or ""
        )
        outcome = "ok" if audit else "unknown_audit"
    log_inbound(
        kind=InboundKind.EVENT, key=f"{appid}:{name}", outcome=outcome, detail=json.dumps(event, ensure_ascii=False)
    )
    return HttpResponse("success")
