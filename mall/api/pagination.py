"""Bounded pagination: ``limit`` 1–``API_MAX_PAGE_SIZE`` (larger values are cut to it),
``offset`` ≥ 0; anything else is a field error, never a database overflow."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination

DIGITS = re.compile(r"[0-9]{1,100}")


def _int_param(request, name: str, *, minimum: int, message: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if raw == "":
        return None
    if not DIGITS.fullmatch(raw) or int(raw) < minimum:
        raise exceptions.ValidationError({name: [message]})
    return int(raw)


class ApiPagination(LimitOffsetPagination):
    default_limit = 20

    @property
    def max_limit(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    def get_limit(self, request):
        value = _int_param(
            request,
            self.limit_query_param,
            minimum=1,
            message=_("每页条数须为 1–%(n)s 的整数。") % {"n": self.max_limit},
        )
        return self.default_limit if value is None else min(value, self.max_limit)

    def get_offset(self, request):
        value = _int_param(request, self.offset_query_param, minimum=0, message=_("起始位置须为不小于 0 的整数。"))
        return value or 0

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for p in params:
            if p["name"] == self.limit_query_param:
                p["description"] = (
                    f"每页条数（1–{self.max_limit}，更大的值按 {self.max_limit} 处理，默认 {self.default_limit}）"
                )
                p["schema"] = {"type": "integer", "minimum": 1}
            elif p["name"] == self.offset_query_param:
                p["description"] = "起始位置（从 0 开始）"
                p["schema"] = {"type": "integer", "minimum": 0}
        return params
