import logging

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mall.api.auth import IsShopper, ShopperTokenAuthentication, issue_token
from mall.api.errors import StoreClosed, WeChatLoginUnavailable
from mall.api.parsers import ApiJSONParser
from mall.api.serializers import (
    LoginResultSerializer,
    LoginSerializer,
    OrderSerializer,
    PlaceOrderSerializer,
    StoreSerializer,
)
from mall.customers.actions import login_shopper, login_with_phone, send_login_code
from mall.customers.models import Address, Customer
from mall.orders.actions import place_order
from mall.orders.models import Order
from tenants.models import TenantStatus

log = logging.getLogger(__name__)

APPID_PARAM = OpenApiParameter(
    "X-WX-AppID", location=OpenApiParameter.HEADER, required=False, description="小程序 AppID（共享接口域名上必填）"
)


class StoreAPIMixin:
    """Every storefront endpoint: the tenant must be open."""

    parser_classes = [ApiJSONParser]  # bodies are JSON only

    def initial(self, request, *args, **kwargs):
        if connection.tenant.status == TenantStatus.SUSPENDED:  # before login and permissions
            raise StoreClosed()
        super().initial(request, *args, **kwargs)


@extend_schema(parameters=[APPID_PARAM], responses=StoreSerializer, summary="店铺信息")
class StoreView(StoreAPIMixin, APIView):
    def get(self, request):
        t = connection.tenant
        return Response(
            StoreSerializer({"slug": t.slug, "name": t.name, "industry": t.industry, "status": t.status}).data
        )


@extend_schema(
    parameters=[APPID_PARAM],
    responses={200: OpenApiTypes.OBJECT, 304: None},
    summary="店铺配置（页面区块、主题，见 docs/store-config.md）",
    description="店铺页面的编译配置。响应带 ETag（即 hash），请求带 If-None-Match 时未变化返回 304。",
)
class StoreConfigView(StoreAPIMixin, APIView):
    def get(self, request):
        from builder.store_config import current_config

        config = current_config()
        etag = f'"{config["hash"]}"'
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            response = Response(status=304)
        else:
            response = Response(config)
        response["ETag"] = etag
        response["Cache-Control"] = "no-cache"
        response["Vary"] = "Accept-Language"
        return response


@extend_schema(
    parameters=[APPID_PARAM],
    request=LoginSerializer,
    responses=LoginResultSerializer,
    summary="小程序登录（code 换会话）",
)
class LoginView(StoreAPIMixin, APIView):
    extra_error_codes = (503,)  # WeChat unreachable or not configured

    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = connection.tenant
        if not tenant.wechat_appid:
            raise exceptions.ValidationError({"code": [_("店铺尚未绑定小程序。")]})
        from integrations.wechat.errors import WeChatError, WeChatUnavailable
        from integrations.wechat.miniprogram import MiniProgramClient

        try:
            session = MiniProgramClient(tenant.wechat_appid).login(data.validated_data["code"])
        except ImproperlyConfigured:
            log.error("shopper login: WeChat is not configured", exc_info=True)
            raise WeChatLoginUnavailable()
        except WeChatUnavailable as exc:
            log.warning("shopper login: WeChat unavailable: %s", exc)
            raise WeChatLoginUnavailable()
        except WeChatError as exc:
            raise exceptions.ValidationError(
                {"code": [_("微信登录失败（%(code)s）：%(msg)s") % {"code": exc.code, "msg": exc.message}]}
            )
        existed = Customer.objects.filter(openid=session["openid"]).exists()
        customer = login_shopper(openid=session["openid"])
        return Response({"token": issue_token(customer), "customer_id": customer.pk, "is_new": not existed})


class SmsCodeSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20, help_text="中国大陆 11 位手机号")


class SmsLoginSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    code = serializers.CharField(max_length=6, min_length=6, help_text="短信里的 6 位验证码")


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR") or ""


def _django_errors(exc: ValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    )


@extend_schema(
    parameters=[APPID_PARAM],
    request=SmsCodeSerializer,
    responses={202: OpenApiTypes.OBJECT},
    summary="H5 登录：发送短信验证码",
    description="每个手机号每分钟 1 条、每天 10 条；每个 IP 每小时 20 条。无论手机号是否注册过，回答相同。",
)
class SmsCodeView(StoreAPIMixin, APIView):
    def post(self, request):
        data = SmsCodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            send_login_code(
                phone=data.validated_data["phone"], ip=_client_ip(request), store_name=connection.tenant.name
            )
        except ValidationError as exc:
            raise _django_errors(exc) from exc
        return Response({"sent": True}, status=202)


@extend_schema(
    parameters=[APPID_PARAM],
    request=SmsLoginSerializer,
    responses=LoginResultSerializer,
    summary="H5 登录：手机号 + 验证码换会话",
    description="同一手机号在小程序绑定后与 H5 是同一位顾客。",
)
class SmsLoginView(StoreAPIMixin, APIView):
    def post(self, request):
        data = SmsLoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            customer, new = login_with_phone(
                phone=data.validated_data["phone"], code=data.validated_data["code"], ip=_client_ip(request)
            )
        except ValidationError as exc:
            raise _django_errors(exc) from exc
        return Response({"token": issue_token(customer), "customer_id": customer.pk, "is_new": new})


@extend_schema(parameters=[APPID_PARAM], summary="我的订单 / 下单")
class OrdersView(StoreAPIMixin, APIView):
    authentication_classes = [ShopperTokenAuthentication]
    permission_classes = [IsShopper]

    @extend_schema(responses=OrderSerializer(many=True))
    def get(self, request):
        orders = Order.objects.filter(customer=request.user).prefetch_related("lines").order_by("-created")[:50]
        return Response(OrderSerializer(orders, many=True).data)

    @extend_schema(
        request=PlaceOrderSerializer,
        responses={201: OrderSerializer, 200: OrderSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="重试同一次下单时带同一个值：返回第一次创建的订单（200），不会重复下单",
            )
        ],
    )
    def post(self, request):
        data = PlaceOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        skus = [(i["sku_id"], i["quantity"]) for i in v["items"] if i.get("sku_id")]
        items = [(i["product_id"], i["quantity"]) for i in v["items"] if not i.get("sku_id")]
        addresses = Address.objects.filter(customer=request.user)
        address = (
            addresses.filter(pk=v["address_id"]).first()
            if v.get("address_id")
            else addresses.filter(is_default=True).first()
        )
        if v.get("address_id") and address is None:
            raise exceptions.ValidationError({"address_id": [_("收货地址不存在。")]})
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 64:
            raise exceptions.ValidationError({"Idempotency-Key": [_("Idempotency-Key 最长 64 个字符。")]})
        before = Order.objects.filter(customer=request.user, idempotency_key=key).exists() if key else False
        order = place_order(
            customer=request.user,
            items=items,
            skus=skus,
            address=address,
            remark=v.get("remark", ""),
            idempotency_key=key,
            clear_cart=v.get("from_cart", False),
        )
        return Response(OrderSerializer(order).data, status=200 if before else 201)
