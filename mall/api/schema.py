"""OpenAPI for the public API (drf-spectacular): only ``/api/`` paths, the shopper bearer
token as a security scheme, and the one error shape documented on every operation."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from mall.api.auth import ShopperTokenAuthentication


def only_api_paths(endpoints, **kwargs):
    """Keep the public API in the OpenAPI schema (Wagtail's internal API stays out)."""
    return [e for e in endpoints if e[0].startswith("/api/")]


class ShopperTokenScheme(OpenApiAuthenticationExtension):
    target_class = "mall.api.auth.ShopperTokenAuthentication"
    name = "ShopperToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`POST /api/v1/auth/login` 返回的 token：`Authorization: Bearer <token>`（仅本店有效）",
        }


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="机器可读的错误码，如 invalid、not_found、not_authenticated")
    message = serializers.CharField(help_text="给人看的说明（按请求语言，默认简体中文）")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='字段路径 → 错误信息，如 {"items[0].quantity": ["…"]}；无字段错误时为 {}',
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ERROR_DESCRIPTIONS = {
    400: "请求有误（字段错误见 error.fields）",
    401: "未登录或登录已失效",
    403: "无权访问或店铺已暂停营业",
    404: "店铺或资源不存在",
    405: "不支持该请求方法",
    413: "请求体超过 1 MB",
    500: "服务器内部错误",
    503: "依赖的服务（如微信）暂不可用，可稍后重试",
}
BODY_METHODS = ("POST", "PUT", "PATCH")


class ApiAutoSchema(AutoSchema):
    def error_codes(self) -> list[int]:
        codes = [400, 403, 404, 405, 500]
        if any(isinstance(a, ShopperTokenAuthentication) for a in self.view.get_authenticators()):
            codes.append(401)
        if self.method in BODY_METHODS:
            codes.append(413)
        codes.extend(getattr(self.view, "extra_error_codes", ()))
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self.error_codes():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), str(code)
                )
        return responses
