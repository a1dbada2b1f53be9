"""WeChat Pay's notifies, on the platform host (public schema; the paths stay under /wechat/):

* ``/wechat/pay/notify/``, ``/wechat/pay/refund-notify/``, ``/wechat/pay/transfer-notify/`` —
  signature verified, resource decrypted, handled idempotently in the tenant's schema (found
  from ``out_trade_no``) by ``mall.payments.notifies``. A tampered notify gets 401; an unknown
  order is logged and acknowledged (WeChat would otherwise retry it for a day); never a 500.
"""

from __future__ import annotations

import json
import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from core.inbound import InboundKind, log_inbound
from integrations.wechat.errors import WeChatSignatureError
from integrations.wechat.pay import PayClient, parse_trade_no
from mall.payments import notifies
from tenants.models import Tenant

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def _ack() -> JsonResponse:
    return JsonResponse({"code": "SUCCESS", "message": "成功"})


def _fail(status: int, message: str) -> JsonResponse:
    return JsonResponse({"code": "FAIL", "message": message}, status=status, json_dumps_params={"ensure_ascii": False})


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
        log_inbound(kind=kind, outcome="refused", detail=exc.message)
        return _fail(401, "签名验证失败")
    resource = notify.resource
    if kind == InboundKind.TRANSFER_NOTIFY:
        return _transfer(notify, resource)
    out_trade_no = str(resource.get("out_trade_no") or resource.get("out_bill_no") or "")
    tenant = _tenant_for(out_trade_no)
    if tenant is None:
        log.error("WeChat notify %s for unknown order %r", notify.id, out_trade_no)
        log_inbound(kind=kind, key=notify.id, outcome="unknown_order", detail=json.dumps(resource, ensure_ascii=False))
        return _ack()
    try:
        with schema_context(tenant.schema_name):
            outcome = handle(notify, resource, parse_trade_no(out_trade_no)[1])
    finally:
        connection.set_schema_to_public()
    log_inbound(
        kind=kind,
        key=notify.id,
        outcome=outcome,
        detail=json.dumps({"event_type": notify.event_type, **resource}, ensure_ascii=False),
        schema_name=tenant.schema_name,
    )
    return _ack()


def _transfer(notify, resource) -> JsonResponse:
    """A merchant transfer reached a final state: the withdrawal it pays (its ``out_bill_no``
    names the store and the withdrawal, ``parse_transfer_bill_no``) takes that state."""
    from integrations.wechat.pay import parse_transfer_bill_no
    from mall.promoters.withdrawals import apply_transfer_state

    out_bill_no = str(resource.get("out_bill_no") or "")
    detail = json.dumps({"event_type": notify.event_type, **resource}, ensure_ascii=False)
    parsed = parse_transfer_bill_no(out_bill_no)
    tenant = None
    if parsed is not None:
        with schema_context("public"):
            tenant = Tenant.objects.filter(pk=parsed[0]).exclude(schema_name="public").first()
    if tenant is None:
        log.error("WeChat transfer notify %s for unknown bill %r", notify.id, out_bill_no)
        log_inbound(kind=InboundKind.TRANSFER_NOTIFY, key=notify.id, outcome="unknown_bill", detail=detail)
        return _ack()
    try:
        with schema_context(tenant.schema_name):
            w = apply_transfer_state(
                withdrawal_id=parsed[1],
                state=str(resource.get("state") or ""),
                transfer_bill_no=str(resource.get("transfer_bill_no") or ""),
                fail_reason=str(resource.get("fail_reason") or ""),
            )
    finally:
        connection.set_schema_to_public()
    log_inbound(
        kind=InboundKind.TRANSFER_NOTIFY,
        key=notify.id,
        outcome=w.status if w is not None else "unknown_withdrawal",
        detail=detail,
        schema_name=tenant.schema_name,
    )
    return _ack()


def _payment(notify, resource, order_no):
    if notify.event_type != "TRANSACTION.SUCCESS":
        return "ignored_event"
    return notifies.payment_succeeded(order_no=order_no, resource=resource)


def _refund(notify, resource, order_no):
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
