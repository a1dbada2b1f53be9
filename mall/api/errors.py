"""One error shape for the whole API: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class StoreClosed(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "store_closed"
    default_detail = "店铺已暂停营业。"


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到。"))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _("提交的内容有误，请检查。")
        code = "invalid"
    else:
        fields = {}
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        code = exc.get_codes() if hasattr(exc, "get_codes") and isinstance(exc.get_codes(), str) else "error"
    return Response({"error": {"code": code, "message": message, "fields": fields}}, status=response.status_code)
