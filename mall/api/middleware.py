"""Request-size limit for the shopper API, checked before anything reads or parses the body."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from mall.api.errors import json_error


class ApiBodyLimitMiddleware:
    """413 (JSON, the API's error shape) for an ``/api/`` request whose declared body is over
    ``API_MAX_BODY_BYTES`` (1 MB). The rest of the site keeps Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (qualification uploads up to 10 MB)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.API_MAX_BODY_BYTES:
                with translation.override(translation.get_language_from_request(request)):
                    return json_error(
                        413,
                        "body_too_large",
                        _("请求体过大（上限 %(n)s KB）。") % {"n": settings.API_MAX_BODY_BYTES // 1024},
                    )
        return self.get_response(request)
