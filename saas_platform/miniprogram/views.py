"""Our WeChat callbacks, on the platform host (public schema):

* ``/wechat/component/`` — third-party platform pushes: verify ticket, authorized,
  updateauthorized, unauthorized (encrypted XML; answered ``success``).
* ``/wechat/events/<appid>/`` — events for an authorised mini-program (code audit results).
* ``/wechat/pay/notify/``, ``/wechat/pay/refund-notify/``, ``/wechat/pay/transfer-notify/`` —
  WeChat Pay notifies: signature verified, resource decrypted, handled idempotently in the
  tenant's schema (found from ``out_trade_no``). A tampered notify gets 401; an unknown order
  is logged and acknowledged (WeChat would otherwise retry it for a day); never a 500.
"""

from __future__ import annotations

import json
import logging

import xmltodict
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from integrations.wechat import actions
from integrations.wechat.errors import WeChatError, WeChatSignatureError
from integrations.wechat.models import InboundKind
from integrations.wechat.open_platform import ComponentClient
from integrations.wechat.pay import PayClient, parse_trade_no
from tenants.models import Tenant

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def _ack() -> JsonResponse:
    return JsonResponse({"code": "SUCCESS", "message": "成功"})


def _fail(status: int, message: str) -> JsonResponse:
    return JsonResponse({"code": "FAIL", "message": message}, status=status, json_dumps_params={"ensure_ascii": False})


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
        actions.log_inbound(kind=InboundKind.COMPONENT, outcome="refused", detail=f"{exc.__class__.__name__}: {exc}")
        return HttpResponse("invalid", status=400)
    except Exception as exc:  # malformed XML and the like: refused, never a 500
        actions.log_inbound(kind=InboundKind.COMPONENT, outcome="refused", detail=f"{exc.__class__.__name__}: {exc}")
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
    actions.log_inbound(
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
        actions.log_inbound(
            kind=InboundKind.EVENT, key=appid, outcome="refused", detail=f"{exc.__class__.__name__}: {exc}"
        )
        return HttpResponse("invalid", status=400)
    name = str(event.get("Event", ""))
    outcome = "ignored"
    if name in actions.AUDIT_EVENTS:
        audit = actions.record_audit_result(
            appid=appid, status=actions.AUDIT_EVENTS[name], reason=event.get("Reason") or ""
        )
        outcome = "ok" if audit else "unknown_audit"
    actions.log_inbound(
        kind=InboundKind.EVENT, key=f"{appid}:{name}", outcome=outcome, detail=json.dumps(event, ensure_ascii=False)
    )
    return HttpResponse("success")


def _tenant_for(out_trade_no: str) -> Tenant | None:
    parsed = parse_trade_no(out_trade_no)
    if parsed is None:
        return None
    with schema_context("public"):
        return Tenant.objects.filter(pk=parsed[0]).exclude(schema_name="public").first()


def _notify(request, kind: str, handle) -> JsonResponse:
    if len(request.body) > MAX_BODY:
        return _fail(413, "通知过大")
    try:
        notify = PayClient().parse_notify(request.headers, request.body)
    except WeChatSignatureError as exc:
        actions.log_inbound(kind=kind, outcome="refused", detail=exc.message)
        return _fail(401, "签名验证失败")
    resource = notify.resource
    if kind == InboundKind.TRANSFER_NOTIFY:  # applied by commission withdrawals (a later issue)
        actions.log_inbound(kind=kind, key=notify.id, outcome="ok", detail=json.dumps(resource, ensure_ascii=False))
        return _ack()
    out_trade_no = str(resource.get("out_trade_no") or resource.get("out_bill_no") or "")
    tenant = _tenant_for(out_trade_no)
    if tenant is None:
        log.error("WeChat notify %s for unknown order %r", notify.id, out_trade_no)
        actions.log_inbound(
            kind=kind, key=notify.id, outcome="unknown_order", detail=json.dumps(resource, ensure_ascii=False)
        )
        return _ack()
    try:
        with schema_context(tenant.schema_name):
            outcome = handle(notify, resource, parse_trade_no(out_trade_no)[1])
    finally:
        connection.set_schema_to_public()
    actions.log_inbound(
        kind=kind,
        key=notify.id,
        outcome=outcome,
        detail=json.dumps({"event_type": notify.event_type, **resource}, ensure_ascii=False),
        schema_name=tenant.schema_name,
    )
    return _ack()


def _payment(notify, resource, order_no):
    from mall.payments import notifies

    if notify.event_type != "TRANSACTION.SUCCESS":
        return "ignored_event"
    return notifies.payment_succeeded(order_no=order_no, resource=resource)


def _refund(notify, resource, order_no):
    from mall.payments import notifies

    return notifies.refund_finished(resource=resource)


@csrf_exempt
@require_POST
def pay_notify(request):
    return _notify(request, InboundKind.PAY_NOTIFY, _payment)


@csrf_exempt
@require_POST
def refund_notify(request):
    return _notify(request, InboundKind.REFUND_NOTIFY, _refund)


@csrf_exempt
@require_POST
def transfer_notify(request):
    return _notify(request, InboundKind.TRANSFER_NOTIFY, None)
