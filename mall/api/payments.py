"""``POST /api/v1/orders/<order_no>/pay``: start paying one of the shopper's own orders.

* ``{"channel": "miniprogram"}``: a JSAPI prepay with the shopper's openid and the store's
  AppID; the answer is what ``wx.requestPayment`` takes (timeStamp, nonceStr, package,
  signType, paySign — signed with the merchant key).
* ``{"channel": "h5"}``: an H5 prepay; the answer is the URL of WeChat's cashier page to open.

Nothing changes here: the order becomes paid only by the notify (or the beat's query), through
``record_payment``. Only the order's own shopper (anyone else: 404), only an unpaid order before
its deadline (400 on ``status``); WeChat unreachable or not configured: 503.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.wechat.errors import WeChatPayError, WeChatUnavailable
from mall.api.auth import IsShopper, ShopperTokenAuthentication
from mall.api.views import APPID_PARAM, StoreAPIMixin
from mall.orders.models import Order
from mall.payments.actions import start_h5_payment, start_miniprogram_payment

log = logging.getLogger(__name__)


class WeChatPayUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "wechat_unavailable"
    default_detail = gettext_lazy("微信支付暂不可用，请稍后再试。")


class PayChannel:
    MINIPROGRAM = "miniprogram"
    H5 = "h5"
    CHOICES = [(MINIPROGRAM, gettext_lazy("小程序支付")), (H5, gettext_lazy("H5 支付"))]


class PayRequestSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=PayChannel.CHOICES, help_text="miniprogram：小程序内 wx.requestPayment；h5：手机浏览器打开收银台"
    )


class RequestPaymentSerializer(serializers.Serializer):
    """``wx.requestPayment`` 的参数（appId 仅供核对）。"""

    appId = serializers.CharField()  # noqa: N815 (WeChat's own names)
    timeStamp = serializers.CharField()  # noqa: N815
    nonceStr = serializers.CharField()  # noqa: N815
    package = serializers.CharField()
    signType = serializers.CharField()  # noqa: N815
    paySign = serializers.CharField()  # noqa: N815


class PayResultSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=PayChannel.CHOICES)
    order_no = serializers.CharField()
    total_fen = serializers.IntegerField()
    prepay_id = serializers.CharField(required=False, help_text="仅 miniprogram")
    pay_params = RequestPaymentSerializer(required=False, help_text="仅 miniprogram：原样传给 wx.requestPayment")
    h5_url = serializers.URLField(required=False, help_text="仅 h5：在浏览器中打开的微信支付收银台地址")


@extend_schema(
    parameters=[APPID_PARAM, OpenApiParameter("order_no", str, OpenApiParameter.PATH, description="订单号")],
    request=PayRequestSerializer,
    responses=PayResultSerializer,
    summary="发起支付（小程序 / H5）",
)
class PayOrderView(StoreAPIMixin, APIView):
    authentication_classes = [ShopperTokenAuthentication]
    permission_classes = [IsShopper]
    extra_error_codes = (503,)  # WeChat Pay unreachable or not configured

    def post(self, request, order_no: str):
        data = PayRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = data.validated_data["channel"]
        order = get_object_or_404(
            Order.objects.only("pk", "order_no", "total_fen"), order_no=order_no, customer=request.user
        )
        body = {"channel": channel, "order_no": order.order_no, "total_fen": order.total_fen}
        try:
            if channel == PayChannel.MINIPROGRAM:
                appid = connection.tenant.wechat_appid
                if not appid:
                    raise exceptions.ValidationError({"channel": [_("店铺尚未绑定小程序，不能在小程序内支付。")]})
                if not request.user.openid:
                    raise exceptions.ValidationError(
                        {"channel": [_("请在微信小程序内登录后使用小程序支付，或选择 H5 支付。")]}
                    )
                result = start_miniprogram_payment(order=order, openid=request.user.openid, appid=appid)
                body.update(prepay_id=result["prepay_id"], pay_params=result["pay_params"])
            else:
                body["h5_url"] = start_h5_payment(order=order, client_ip=request.META.get("REMOTE_ADDR") or "")
        except ImproperlyConfigured:
            log.error("pay order %s: WeChat Pay is not configured", order.order_no, exc_info=True)
            raise WeChatPayUnavailable()
        except WeChatUnavailable as exc:
            log.warning("pay order %s: WeChat Pay unavailable: %s", order.order_no, exc)
            raise WeChatPayUnavailable()
        except WeChatPayError as exc:
            log.warning("pay order %s: WeChat Pay refused the prepay: %s", order.order_no, exc)
            field = "status" if exc.code in ("ORDER_CLOSED", "ORDERPAID", "ORDERCLOSED") else "channel"
            raise exceptions.ValidationError(
                {field: [_("微信支付下单失败（%(code)s）：%(msg)s") % {"code": exc.code, "msg": exc.message}]}
            )
        return Response(body)
