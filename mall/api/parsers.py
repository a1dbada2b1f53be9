"""The API's JSON parser: messages in the request's language, and deep nesting answered 400
(never a 500: the standard library's decoder raises RecursionError near 1,000 levels)."""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def too_deep(data, limit: int) -> bool:
    """Whether ``data`` nests lists/objects more than ``limit`` levels (iterative)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        elif not isinstance(node, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return False


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class ApiJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.load(codecs.getreader(encoding)(stream), parse_constant=_refuse_constant)
        except (ValueError, RecursionError, LookupError):
            raise ParseError(_("请求体不是有效的 JSON。"))
        if too_deep(data, settings.API_MAX_JSON_DEPTH):
            raise ParseError(_("请求体嵌套过深（最多 %(n)s 层）。") % {"n": settings.API_MAX_JSON_DEPTH})
        return data
