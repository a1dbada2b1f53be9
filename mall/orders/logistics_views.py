"""The carrier's push (platform host, public schema): ``POST /logistics/notify/<tenant id>/``.
The signature (HMAC of timestamp and body with the shared key) is verified first: a bad one gets
401. The parcel's track is applied in the store's schema by ``record_tracking`` (idempotent). An
unknown store or parcel is logged and acknowledged (the carrier would otherwise push it again);
never a 500."""

from __future__ import annotations

import json
import logging

from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context

from core.inbound import InboundKind, log_inbound
from integrations.logistics.client import LogisticsClient
from integrations.logistics.errors import LogisticsAPIError, LogisticsSignatureError
from mall.orders.shipping import record_tracking
from tenants.models import Tenant

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
KIND = InboundKind.LOGISTICS_PUSH


def _answer(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_POST
def notify(request, tenant_id: int):
    if len(request.body) > MAX_BODY:
        return _answer(413, "too_large", "推送过大")
    try:
        track = LogisticsClient().parse_push(request.headers, request.body)
    except LogisticsSignatureError as exc:
        log_inbound(kind=KIND, outcome="refused", detail=exc.message)
        return _answer(401, "bad_signature", "签名验证失败")
    except LogisticsAPIError as exc:
        log_inbound(kind=KIND, outcome="bad_payload", detail=exc.message)
        return _answer(400, "bad_payload", exc.message)
    key = f"{track.carrier}:{track.tracking_no}:{track.state}"
    detail = request.body.decode("utf-8", "replace")
    with schema_context("public"):
        tenant = Tenant.objects.filter(pk=tenant_id).exclude(schema_name="public").first()
    if tenant is None:
        log.error("logistics push %s for unknown store %s", key, tenant_id)
        log_inbound(kind=KIND, key=key, outcome="unknown_store", detail=detail)
        return _answer(200, "ok", "成功")
    try:
        with schema_context(tenant.schema_name):
            shipment = record_tracking(carrier=track.carrier, tracking_no=track.tracking_no, events=track.events)
    except ValidationError as exc:
        log_inbound(kind=KIND, key=key, outcome="bad_payload", detail=str(exc.messages), schema_name=tenant.schema_name)
        return _answer(400, "bad_payload", "推送内容格式错误")
    finally:
        connection.set_schema_to_public()
    outcome = "ok" if shipment is not None else "unknown_parcel"
    log_inbound(
        kind=KIND,
        key=key,
        outcome=outcome,
        detail=json.dumps({"events": len(track.events)}),
        schema_name=tenant.schema_name,
    )
    return _answer(200, "ok", "成功")
