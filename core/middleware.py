"""A backing service that is down (Redis/Valkey, the broker, PostgreSQL) answers a clear 503 in
the user's language, never a 500: HTML for pages, the API's error shape for /api/. The
``Retry-After`` header tells clients when to try again."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 10


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import redis.exceptions

    return (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        kombu.exceptions.OperationalError,
        OperationalError,
        InterfaceError,
    )


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.errors = _unavailable_errors()

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, self.errors):
            return None
        log.error("service unavailable on %s %s: %r", request.method, request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {
                    "error": {
                        "code": "service_unavailable",
                        "message": _("服务暂时不可用，请稍后再试。"),
                        "fields": {},
                    }
                },
                status=503,
                json_dumps_params={"ensure_ascii": False},
            )
        else:
            response = render(request, "errors/service_unavailable.html", status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
