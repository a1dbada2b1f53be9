"""The shopper's own account: profile (``/me``), phone binding (``/me/phone``) and delivery
addresses (``/addresses``). Everything is the logged-in shopper's own: another shopper's (or
another store's) address id is a 404. Tags are the merchant's and never appear here."""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import crypto
from mall.api.auth import IsShopper, ShopperTokenAuthentication, issue_token
from mall.api.errors import WeChatLoginUnavailable
from mall.api.views import APPID_PARAM, StoreAPIMixin
from mall.customers import actions
from mall.customers.models import Address, Customer

log = logging.getLogger(__name__)


class ShopperAPIView(StoreAPIMixin, APIView):
    authentication_classes = [ShopperTokenAuthentication]
    permission_classes = [IsShopper]


# -- serializers ----------------------------------------------------------------------------------


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    nickname = serializers.CharField()
    avatar_url = serializers.CharField()
    phone = serializers.CharField(help_text="已绑定的手机号（脱敏，如 138****5678）；未绑定为空")
    phone_bound = serializers.BooleanField()
    registered_at = serializers.DateTimeField()


def profile_payload(c: Customer) -> dict:
    return {
        "id": c.pk,
        "nickname": c.nickname,
        "avatar_url": c.avatar_url,
        "phone": c.masked_phone,
        "phone_bound": bool(c.phone),
        "registered_at": serializers.DateTimeField().to_representation(c.registered_at),
    }


class ProfileUpdateSerializer(serializers.Serializer):
    nickname = serializers.CharField(max_length=64, required=False, allow_blank=True, trim_whitespace=False)
    avatar_url = serializers.CharField(max_length=500, required=False, allow_blank=True)


class BindPhoneSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=128, help_text="手机号快速验证组件 getPhoneNumber 返回的 code")


class BindPhoneResultSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="脱敏手机号")
    phone_bound_at = serializers.DateTimeField()


class AddressSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    receiver = serializers.CharField(max_length=100, allow_blank=True, help_text="收货人")
    phone = serializers.CharField(max_length=32, allow_blank=True, help_text="手机号")
    province = serializers.CharField(max_length=100, allow_blank=True)
    city = serializers.CharField(max_length=100, allow_blank=True)
    district = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    detail = serializers.CharField(max_length=500, allow_blank=True, help_text="详细地址")
    is_default = serializers.BooleanField(required=False, default=False)
    region = serializers.CharField(read_only=True)


def address_payload(a: Address, *, masked: bool) -> dict:
    return {
        "id": a.pk,
        "receiver": a.masked_receiver if masked else a.receiver,
        "phone": a.masked_phone if masked else a.phone,
        "province": a.province,
        "city": a.city,
        "district": a.district,
        "detail": a.masked_detail if masked else a.detail,
        "is_default": a.is_default,
        "region": a.region,
    }


ADDRESS_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="地址 ID")


# -- views ----------------------------------------------------------------------------------------


@extend_schema(parameters=[APPID_PARAM])
class MeView(ShopperAPIView):
    @extend_schema(responses=ProfileSerializer, summary="我的资料")
    def get(self, request):
        return Response(profile_payload(request.user))

    @extend_schema(request=ProfileUpdateSerializer, responses=ProfileSerializer, summary="修改昵称 / 头像")
    def patch(self, request):
        data = ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        customer = actions.update_profile(
            customer=request.user, nickname=v.get("nickname"), avatar_url=v.get("avatar_url")
        )
        return Response(profile_payload(customer))


@extend_schema(
    parameters=[APPID_PARAM],
    request=BindPhoneSerializer,
    responses=BindPhoneResultSerializer,
    summary="绑定手机号（getPhoneNumber 的 code）",
)
class BindPhoneView(ShopperAPIView):
    extra_error_codes = (503,)  # WeChat unreachable or not configured

    def post(self, request):
        data = BindPhoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = connection.tenant
        if not tenant.wechat_appid:
            raise exceptions.ValidationError({"code": [_("店铺尚未绑定小程序。")]})
        from integrations.wechat.errors import WeChatError, WeChatUnavailable
        from integrations.wechat.miniprogram import MiniProgramClient

        # The WeChat call runs outside any transaction; the action then writes in its own.
        try:
            info = MiniProgramClient(tenant.wechat_appid).phone_number(data.validated_data["code"])
        except ImproperlyConfigured:
            log.error("bind phone: WeChat is not configured", exc_info=True)
            raise WeChatLoginUnavailable()
        except WeChatUnavailable as exc:
            log.warning("bind phone: WeChat unavailable: %s", exc)
            raise WeChatLoginUnavailable()
        except WeChatError as exc:
            raise exceptions.ValidationError(
                {"code": [_("获取手机号失败（%(code)s）：%(msg)s") % {"code": exc.code, "msg": exc.message}]}
            )
        if str(info.get("countryCode", "86")) != "86":
            raise exceptions.ValidationError({"code": [_("暂只支持中国大陆手机号。")]})
        try:
            customer = actions.bind_phone(customer=request.user, phone=str(info.get("purePhoneNumber", "")))
        except ValidationError as exc:
            if crypto.is_valid_phone(str(info.get("purePhoneNumber", ""))):  # the number is taken
                raise exceptions.ValidationError({"code": exc.message_dict.get("phone", exc.messages)}) from exc
            raise exceptions.ValidationError({"code": [_("微信返回的手机号无效。")]}) from exc
        body = {"phone": customer.masked_phone, "phone_bound_at": customer.phone_bound_at}
        if customer.pk != request.user.pk:  # joined the H5 shopper holding this phone: a new session
            body.update(token=issue_token(customer), customer_id=customer.pk)
        return Response(body)


@extend_schema(parameters=[APPID_PARAM])
class AddressListView(ShopperAPIView):
    @extend_schema(responses=AddressSerializer(many=True), summary="我的收货地址（脱敏）")
    def get(self, request):
        addresses = Address.objects.filter(customer=request.user)
        return Response([address_payload(a, masked=True) for a in addresses])

    @extend_schema(request=AddressSerializer, responses={201: AddressSerializer}, summary="新增收货地址")
    def post(self, request):
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = actions.save_address(customer=request.user, **_address_fields(data.validated_data))
        return Response(address_payload(address, masked=False), status=status.HTTP_201_CREATED)


@extend_schema(parameters=[APPID_PARAM, ADDRESS_ID])
class AddressDetailView(ShopperAPIView):
    def _address(self, request, pk: int) -> Address:
        return get_object_or_404(Address, customer=request.user, pk=pk)

    @extend_schema(responses=AddressSerializer, summary="收货地址详情（完整信息，仅本人）")
    def get(self, request, pk: int):
        return Response(address_payload(self._address(request, pk), masked=False))

    @extend_schema(request=AddressSerializer, responses=AddressSerializer, summary="修改收货地址")
    def put(self, request, pk: int):
        address = self._address(request, pk)
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = actions.save_address(customer=request.user, address=address, **_address_fields(data.validated_data))
        return Response(address_payload(address, masked=False))

    @extend_schema(responses={204: None}, summary="删除收货地址")
    def delete(self, request, pk: int):
        address = self._address(request, pk)
        actions.delete_address(customer=request.user, address_id=address.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _address_fields(v: dict) -> dict:
    keys = ("receiver", "phone", "province", "city", "district", "detail", "is_default")
    return {k: v[k] for k in keys if k in v}
