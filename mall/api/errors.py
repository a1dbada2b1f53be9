"""One error shape for the whole API: ``{"error": {"code", "message", "fields"}}``.

Every answer under ``/api/`` uses it, whoever produces it:

* DRF views: ``exception_handler`` (validation, auth, permission, 404, 405, parse errors);
* paths no view matches (unknown paths, ``/api/v1/products/abc``, trailing-slash variants):
  ``not_found`` (the last ``/api/`` route) and ``handler404``;
* bodies over ``API_MAX_BODY_BYTES``: ``mall.api.middleware.ApiBodyLimitMiddleware`` (413);
* anything unexpected: ``handler500`` (JSON for ``/api/``, the HTML page elsewhere).

``fields`` maps a field path to plain messages: ``items[0].quantity``, ``code``,
``non_field_errors``. Messages are in the request's language (zh-hans unless asked otherwise).
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger(__name__)


class StoreClosed(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "store_closed"
    default_detail = "店铺已暂停营业。"


class WeChatLoginUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "wechat_unavailable"
    default_detail = gettext_lazy("微信登录暂不可用，请稍后再试。")


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def json_error(status_code: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(
        error_body(code, message, fields), status=status_code, json_dumps_params={"ensure_ascii": False}
    )


def flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → ``{"items[0].quantity": ["…"]}`` with plain strings."""
    out: dict[str, list[str]] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, int):  # a ListSerializer's errors are keyed by index
                    walk(value, f"{path}[{key}]")
                elif key in ("non_field_errors", "__all__") and path:
                    walk(value, path)
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            if all(not isinstance(v, (dict, list)) for v in node):
                if node:
                    out.setdefault(path or "non_field_errors", []).extend(str(v) for v in node)
                return
            for i, value in enumerate(node):
                if value in ({}, [], None, ""):
                    continue  # a valid item of a list
                if isinstance(value, (dict, list)):
                    walk(value, f"{path}[{i}]")
                else:
                    out.setdefault(path or "non_field_errors", []).append(str(value))
        elif node is not None:
            out.setdefault(path or "non_field_errors", []).append(str(node))

    walk(detail, prefix)
    return out


def _code(exc) -> str:
    codes = exc.get_codes() if hasattr(exc, "get_codes") else None
    return codes if isinstance(codes, str) else getattr(exc, "default_code", "error")


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到。"))
    if isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(_("请求体不是有效的 JSON。"))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's handler500 (JSON for /api/) renders it
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", _("提交的内容有误，请检查。"), flatten(exc.detail))
    else:
        body = error_body(_code(exc), exc.detail if hasattr(exc, "detail") else exc)
    return Response(body, status=response.status_code, headers=_auth_headers(response))


def _auth_headers(response) -> dict:
    return {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}


# -- Django-level handlers (urlconf handler404 / handler500, the /api/ catch-all) ----------------


def is_api(request) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt  # a PUT/POST/DELETE to no endpoint is a JSON 404, not the CSRF middleware's HTML 403
def not_found(request, *args, **kwargs):
    """The last ``/api/`` route: any path and any method no endpoint matches."""
    return json_error(404, "not_found", _("接口不存在：%(path)s") % {"path": request.path})


def handler404(request, exception=None):
    if is_api(request):
        return not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if is_api(request):
        return json_error(500, "server_error", _("服务器开小差了，请稍后再试。"))
    return defaults.server_error(request)


def handler400(request, exception=None):
    if is_api(request):
        return json_error(400, "bad_request", _("请求无效。"))
    return defaults.bad_request(request, exception)
