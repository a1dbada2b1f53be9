"""Shopper after-sales API: ask for a refund of an order (whole or some lines, partial amounts),
list and read my refunds, add the return tracking number of a return-and-refund case.

Every rule lives in ``mall.payments.actions`` (``request_after_sales``, ``add_return_tracking``);
these views only parse, look up the shopper's own rows (anything else is 404) and render.
Errors use the one error shape with field paths such as ``lines[0].amount_fen``."""

from __future__ import annotations

import re

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.money import format_yuan
from mall.api.auth import IsShopper, ShopperTokenAuthentication
from mall.api.views import APPID_PARAM, StoreAPIMixin
from mall.orders.models import Order
from mall.payments.actions import add_return_tracking, request_after_sales, withdraw_after_sales
from mall.payments.models import Refund, RefundKind, RefundLine

MAX_FEN = 2**31 - 1
# An order or refund number: letters, digits, underscores. Anything else is no row (404) and is
# never sent to the database (a NUL byte would be an error there). Checked here, in the DRF
# view, rather than by a URL converter: the catch-all 404 is a plain Django view behind CSRF.
NUMBER = re.compile(r"[0-9A-Za-z_]{1,64}")


def _number(value: str) -> str:
    if not NUMBER.fullmatch(value or ""):
        raise Http404
    return value


class RefundLineInSerializer(serializers.Serializer):
    line_id = serializers.IntegerField(min_value=1, max_value=2**62, help_text="订单明细 ID（订单的 lines[].id）")
    amount_fen = serializers.IntegerField(
        min_value=1, max_value=MAX_FEN, required=False, help_text="退款金额（分）；不填则退这件商品全部可退金额"
    )
    quantity = serializers.IntegerField(
        min_value=0, max_value=999, required=False, default=0, help_text="退回件数（仅退款可为 0）"
    )


class AfterSalesRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RefundKind.choices, help_text="refund_only 仅退款；return_refund 退货退款")
    reason = serializers.CharField(max_length=80, help_text="退款原因")
    lines = RefundLineInSerializer(
        many=True,
        required=False,
        allow_null=True,
        allow_empty=False,
        max_length=50,
        help_text="要退的商品；不填则整单退款（未发货时含运费）",
    )
    return_carrier = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    return_tracking_no = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text="退货运单号（也可之后再填）"
    )


class ReturnTrackingSerializer(serializers.Serializer):
    return_carrier = serializers.CharField(max_length=20, help_text="退货快递公司")
    return_tracking_no = serializers.CharField(max_length=40, help_text="退货运单号")


class RefundLineOutSerializer(serializers.Serializer):
    line_id = serializers.IntegerField()
    title = serializers.CharField(source="line.title")
    sku_name = serializers.CharField(source="line.sku_name")
    quantity = serializers.IntegerField()
    amount_fen = serializers.IntegerField()


class RefundSerializer(serializers.Serializer):
    out_refund_no = serializers.CharField()
    order_no = serializers.CharField(source="order.order_no")
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    source = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    amount_fen = serializers.IntegerField()
    amount_display = serializers.SerializerMethodField()
    reason = serializers.CharField()
    decline_reason = serializers.CharField()
    return_carrier = serializers.CharField()
    return_tracking_no = serializers.CharField()
    created = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    lines = RefundLineOutSerializer(many=True, source="lines.all")

    def get_amount_display(self, obj) -> str:
        return format_yuan(obj.amount_fen)


def my_refunds(customer):
    return (
        Refund.objects.filter(order__customer=customer)
        .select_related("order")
        .prefetch_related(Prefetch("lines", queryset=RefundLine.objects.select_related("line").order_by("pk")))
        .order_by("-created", "-pk")
    )


def _render(refund: Refund) -> dict:
    return RefundSerializer(my_refunds(refund.order.customer_id).get(pk=refund.pk)).data


class ShopperAPIMixin(StoreAPIMixin):
    authentication_classes = [ShopperTokenAuthentication]
    permission_classes = [IsShopper]


ORDER_NO = OpenApiParameter("order_no", str, OpenApiParameter.PATH, description="订单号")
REFUND_NO = OpenApiParameter("out_refund_no", str, OpenApiParameter.PATH, description="退款单号")


@extend_schema(
    parameters=[APPID_PARAM, ORDER_NO],
    request=AfterSalesRequestSerializer,
    responses={201: RefundSerializer},
    summary="申请售后（退款 / 退货退款）",
)
class OrderRefundsView(ShopperAPIMixin, APIView):
    def post(self, request, order_no: str):
        order = get_object_or_404(Order, order_no=_number(order_no), customer=request.user)
        data = AfterSalesRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        lines = v.get("lines")
        refund = request_after_sales(
            order=order,
            customer=request.user,
            lines=[dict(item) for item in lines] if lines is not None else None,
            reason=v["reason"],
            kind=v["kind"],
            return_carrier=v.get("return_carrier", ""),
            return_tracking_no=v.get("return_tracking_no", ""),
        )
        return Response(_render(refund), status=201)


@extend_schema(parameters=[APPID_PARAM], summary="我的售后")
class RefundListView(ShopperAPIMixin, generics.ListAPIView):
    serializer_class = RefundSerializer

    def get_queryset(self):
        return my_refunds(self.request.user)


@extend_schema(parameters=[APPID_PARAM, REFUND_NO], summary="售后详情")
class RefundDetailView(ShopperAPIMixin, generics.RetrieveAPIView):
    serializer_class = RefundSerializer
    lookup_field = "out_refund_no"

    def get_queryset(self):
        _number(self.kwargs.get("out_refund_no", ""))
        return my_refunds(self.request.user)


@extend_schema(
    parameters=[APPID_PARAM, REFUND_NO],
    request=ReturnTrackingSerializer,
    responses={200: RefundSerializer},
    summary="填写退货运单号",
)
class ReturnTrackingView(ShopperAPIMixin, APIView):
    def post(self, request, out_refund_no: str):
        refund = get_object_or_404(Refund, out_refund_no=_number(out_refund_no), order__customer=request.user)
        data = ReturnTrackingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = add_return_tracking(
            refund=refund,
            customer=request.user,
            return_carrier=data.validated_data["return_carrier"],
            return_tracking_no=data.validated_data["return_tracking_no"],
        )
        return Response(_render(refund))


@extend_schema(
    parameters=[APPID_PARAM, REFUND_NO],
    request=None,
    responses={200: RefundSerializer},
    summary="撤销售后申请",
    description="只有商家尚未审核（待审核）的申请可以撤销；撤销后可重新申请。",
)
class WithdrawRefundView(ShopperAPIMixin, APIView):
    def post(self, request, out_refund_no: str):
        refund = get_object_or_404(Refund, out_refund_no=_number(out_refund_no), order__customer=request.user)
        return Response(_render(withdraw_after_sales(refund=refund, customer=request.user)))
