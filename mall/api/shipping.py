"""Shopper API of shipping: a shopper's parcels and their tracks, and confirming receipt.

* ``GET /api/v1/orders/<order_no>/tracking`` — the order's parcels, each with its lines and the
  carrier's events (a fixed number of queries, whatever the number of parcels);
* ``POST /api/v1/orders/<order_no>/confirm-receipt`` — a shipped order is completed.

Another shopper's (or another store's) order is a 404, never a 403: its existence is not told."""

from __future__ import annotations

import re

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.logistics import carriers
from mall.api.auth import IsShopper, ShopperTokenAuthentication
from mall.api.serializers import OrderSerializer
from mall.api.views import APPID_PARAM, StoreAPIMixin
from mall.orders.models import Order, Shipment, ShipmentLine
from mall.orders.shipping import confirm_receipt

ORDER_NO_RE = re.compile(r"[0-9]{1,32}")


class TrackEventSerializer(serializers.Serializer):
    state = serializers.CharField()
    state_display = serializers.CharField()
    description = serializers.CharField()
    location = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class ShipmentLineOutSerializer(serializers.Serializer):
    line_id = serializers.IntegerField()
    title = serializers.CharField()
    sku_name = serializers.CharField()
    quantity = serializers.IntegerField()


class ShipmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    carrier = serializers.CharField()
    carrier_name = serializers.CharField()
    tracking_no = serializers.CharField()
    state = serializers.CharField()
    state_display = serializers.CharField()
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    lines = ShipmentLineOutSerializer(many=True)
    events = TrackEventSerializer(many=True)


class TrackingSerializer(serializers.Serializer):
    order_no = serializers.CharField()
    status = serializers.CharField()
    has_real_track = serializers.BooleanField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    shipments = ShipmentSerializer(many=True)


def tracking_payload(order: Order) -> dict:
    shipments = (
        Shipment.objects.filter(order=order)
        .prefetch_related(
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("line").order_by("pk")), "events"
        )
        .order_by("pk")
    )
    return {
        "order_no": order.order_no,
        "status": order.status,
        "has_real_track": order.has_real_track,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "shipments": [
            {
                "id": s.pk,
                "carrier": s.carrier,
                "carrier_name": carriers.name(s.carrier),
                "tracking_no": s.tracking_no,
                "state": s.state,
                "state_display": s.get_state_display(),
                "shipped_at": s.shipped_at,
                "delivered_at": s.delivered_at,
                "lines": [
                    {
                        "line_id": sl.line_id,
                        "title": sl.line.title,
                        "sku_name": sl.line.sku_name,
                        "quantity": sl.quantity,
                    }
                    for sl in s.lines.all()
                ],
                "events": [
                    {
                        "state": e.state,
                        "state_display": e.get_state_display(),
                        "description": e.description,
                        "location": e.location,
                        "occurred_at": e.occurred_at,
                    }
                    for e in s.events.all()
                ],
            }
            for s in shipments
        ],
    }


class _ShopperOrderMixin(StoreAPIMixin):
    authentication_classes = [ShopperTokenAuthentication]
    permission_classes = [IsShopper]

    def shopper_order(self, order_no: str) -> Order:
        # Any text may arrive here (a DRF view answers it, in the API's error shape): only an
        # order number is looked up.
        order = None
        if ORDER_NO_RE.fullmatch(order_no):
            order = Order.objects.filter(customer=self.request.user, order_no=order_no).first()
        if order is None:
            raise exceptions.NotFound(_("订单不存在。"))
        return order


@extend_schema(parameters=[APPID_PARAM], responses=TrackingSerializer, summary="订单物流")
class OrderTrackingView(_ShopperOrderMixin, APIView):
    def get(self, request, order_no: str):
        return Response(TrackingSerializer(tracking_payload(self.shopper_order(order_no))).data)


@extend_schema(parameters=[APPID_PARAM], request=None, responses=OrderSerializer, summary="确认收货")
class ConfirmReceiptView(_ShopperOrderMixin, APIView):
    def post(self, request, order_no: str):
        order = confirm_receipt(order=self.shopper_order(order_no), customer=request.user)
        order = Order.objects.prefetch_related("lines").get(pk=order.pk)
        return Response(OrderSerializer(order).data)
