"""Shopper API: cart, checkout quote, one order's detail (with its timeline) and cancelling an
unpaid order. Every view calls an action or a selector; totals are computed on the server."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.money import format_yuan
from mall.api.auth import IsShopper, ShopperTokenAuthentication
from mall.api.serializers import OrderItemSerializer
from mall.api.views import APPID_PARAM, StoreAPIMixin
from mall.customers.models import Address
from mall.orders import actions, cart
from mall.orders.models import CartItem, Order, OrderEvent


class ShopperAPIView(StoreAPIMixin, APIView):
    authentication_classes = [ShopperTokenAuthentication]
    permission_classes = [IsShopper]


def _address(request, address_id: int | None) -> Address | None:
    addresses = Address.objects.filter(customer=request.user)
    if address_id:
        found = addresses.filter(pk=address_id).first()
        if found is None:
            raise exceptions.ValidationError({"address_id": [_("收货地址不存在。")]})
        return found
    return addresses.filter(is_default=True).first()


# --- cart -----------------------------------------------------------------------------------


class CartLineSerializer(serializers.Serializer):
    sku_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    title = serializers.CharField()
    sku_name = serializers.CharField()
    unit_price_fen = serializers.IntegerField()
    quantity = serializers.IntegerField()
    amount_fen = serializers.IntegerField()
    stock = serializers.IntegerField()
    available = serializers.BooleanField(help_text="在售且库存足够")


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    goods_fen = serializers.IntegerField(help_text="可购买行的合计（分）")
    goods_display = serializers.CharField()


class CartAddSerializer(serializers.Serializer):
    sku_id = serializers.IntegerField(min_value=1, max_value=2**62)
    quantity = serializers.IntegerField(min_value=1, max_value=999, default=1)


class CartSetSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=999)


def cart_payload(customer) -> dict:
    items = CartItem.objects.filter(customer=customer).select_related("sku__product").order_by("-added", "-pk")
    lines = []
    goods = 0
    for item in items:
        sku = item.sku
        available = sku.is_active and sku.product.on_shelf and sku.stock >= item.quantity
        amount = sku.price_fen * item.quantity
        if available:
            goods += amount
        lines.append(
            {
                "sku_id": sku.pk,
                "product_id": sku.product_id,
                "title": sku.product.title,
                "sku_name": sku.name,
                "unit_price_fen": sku.price_fen,
                "quantity": item.quantity,
                "amount_fen": amount,
                "stock": sku.stock,
                "available": available,
            }
        )
    return {"lines": lines, "goods_fen": goods, "goods_display": format_yuan(goods)}


@extend_schema(parameters=[APPID_PARAM], summary="购物车")
class CartView(ShopperAPIView):
    @extend_schema(responses=CartSerializer)
    def get(self, request):
        return Response(cart_payload(request.user))

    @extend_schema(request=CartAddSerializer, responses={201: CartSerializer}, summary="加入购物车")
    def post(self, request):
        data = CartAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart.add_to_cart(customer=request.user, **data.validated_data)
        return Response(cart_payload(request.user), status=201)


@extend_schema(
    parameters=[APPID_PARAM, OpenApiParameter("sku_id", int, OpenApiParameter.PATH, description="规格 ID")],
    summary="购物车中的一个规格",
)
class CartItemView(ShopperAPIView):
    @extend_schema(request=CartSetSerializer, responses=CartSerializer, summary="修改数量")
    def put(self, request, sku_id: int):
        data = CartSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart.set_cart_quantity(customer=request.user, sku_id=sku_id, quantity=data.validated_data["quantity"])
        return Response(cart_payload(request.user))

    @extend_schema(request=None, responses=CartSerializer, summary="移出购物车")
    def delete(self, request, sku_id: int):
        cart.remove_from_cart(customer=request.user, sku_id=sku_id)
        return Response(cart_payload(request.user))


# --- checkout quote --------------------------------------------------------------------------


class QuoteRequestSerializer(serializers.Serializer):
    items = OrderItemSerializer(many=True, allow_empty=False, max_length=50)
    address_id = serializers.IntegerField(min_value=1, max_value=2**62, required=False)


class QuoteLineSerializer(serializers.Serializer):
    sku_id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    sku_name = serializers.CharField()
    unit_price_fen = serializers.IntegerField()
    quantity = serializers.IntegerField()
    amount_fen = serializers.IntegerField()


class QuoteSerializer(serializers.Serializer):
    lines = QuoteLineSerializer(many=True)
    goods_fen = serializers.IntegerField()
    shipping_fen = serializers.IntegerField()
    discount_fen = serializers.IntegerField(help_text="推广员自购立减（本店自购规则为立减时）")
    total_fen = serializers.IntegerField()
    total_display = serializers.CharField()
    needs_address = serializers.BooleanField()


@extend_schema(
    parameters=[APPID_PARAM],
    request=QuoteRequestSerializer,
    responses=QuoteSerializer,
    summary="结算预览（服务端计算商品金额、运费和应付）",
)
class QuoteView(ShopperAPIView):
    def post(self, request):
        data = QuoteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        priced = actions.quote_checkout(
            customer=request.user,
            skus=[(i["sku_id"], i["quantity"]) for i in v["items"] if i.get("sku_id")],
            items=[(i["product_id"], i["quantity"]) for i in v["items"] if not i.get("sku_id")],
            address=_address(request, v.get("address_id")),
        )
        return Response(
            {
                "lines": [
                    {
                        "sku_id": line.sku_id,
                        "product_id": line.product_id,
                        "kind": line.kind,
                        "title": line.title,
                        "sku_name": line.sku_name,
                        "unit_price_fen": line.unit_price_fen,
                        "quantity": line.quantity,
                        "amount_fen": line.amount_fen,
                    }
                    for line in priced.lines
                ],
                "goods_fen": priced.goods_fen,
                "shipping_fen": priced.shipping_fen,
                "discount_fen": priced.discount_fen,
                "total_fen": priced.total_fen,
                "total_display": format_yuan(priced.total_fen),
                "needs_address": priced.has_physical,
            }
        )


# --- one order ------------------------------------------------------------------------------


class OrderEventOutSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_display = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.CharField()
    created = serializers.DateTimeField()


class OrderDetailSerializer(serializers.Serializer):
    order_no = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    goods_fen = serializers.IntegerField()
    shipping_fen = serializers.IntegerField()
    adjust_fen = serializers.IntegerField()
    total_fen = serializers.IntegerField()
    paid_fen = serializers.IntegerField()
    total_display = serializers.CharField()
    receiver = serializers.CharField(help_text="收货人（脱敏）")
    receiver_phone = serializers.CharField(help_text="收货手机（脱敏）")
    receiver_region = serializers.CharField()
    remark = serializers.CharField()
    verify_code = serializers.CharField(help_text="服务商品核销码（付款后才有）")
    has_real_track = serializers.BooleanField()
    created = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    lines = serializers.ListField(child=serializers.DictField())
    events = OrderEventOutSerializer(many=True)


def order_detail_payload(order: Order) -> dict:
    name = order.receiver or ""
    return {
        "order_no": order.order_no,
        "status": order.status,
        "status_display": order.get_status_display(),
        "goods_fen": order.goods_fen,
        "shipping_fen": order.shipping_fen,
        "adjust_fen": order.adjust_fen,
        "total_fen": order.total_fen,
        "paid_fen": order.paid_fen,
        "total_display": format_yuan(order.total_fen),
        "receiver": (name[0] + "*" * max(len(name) - 1, 1)) if name else "",
        "receiver_phone": order.masked_receiver_phone,
        "receiver_region": order.receiver_region,
        "remark": order.remark,
        "verify_code": order.verify_code if order.paid_at and not order.redeemed_at else "",
        "has_real_track": order.has_real_track,
        "created": order.created,
        "expires_at": order.expires_at,
        "paid_at": order.paid_at,
        "shipped_at": order.shipped_at,
        "delivered_at": order.delivered_at,
        "completed_at": order.completed_at,
        "cancelled_at": order.cancelled_at,
        "lines": [
            {
                "id": line.pk,
                "product_id": line.product_id,
                "sku_id": line.sku_id,
                "kind": line.kind,
                "title": line.title,
                "sku_name": line.sku_name,
                "unit_price_fen": line.unit_price_fen,
                "quantity": line.quantity,
                "amount_fen": line.amount_fen,
            }
            for line in order.lines.all()
        ],
        "events": [
            {
                "kind": e.kind,
                "kind_display": e.get_kind_display(),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "created": e.created,
            }
            for e in order.events.all()
        ],
    }


def my_order(request, order_no: str) -> Order:
    order = (
        Order.objects.filter(customer=request.user, order_no=order_no)
        .prefetch_related("lines", Prefetch("events", queryset=OrderEvent.objects.order_by("created", "pk")))
        .first()
    )
    if order is None:
        raise Http404
    return order


ORDER_NO_PARAM = OpenApiParameter("order_no", str, OpenApiParameter.PATH, description="订单号")


@extend_schema(
    parameters=[APPID_PARAM, ORDER_NO_PARAM], responses=OrderDetailSerializer, summary="订单详情（含时间线）"
)
class OrderDetailView(ShopperAPIView):
    def get(self, request, order_no: str):
        return Response(order_detail_payload(my_order(request, order_no)))


@extend_schema(
    parameters=[APPID_PARAM, ORDER_NO_PARAM],
    request=inline_serializer("CancelOrderRequest", {"reason": serializers.CharField(max_length=200)}),
    responses=OrderDetailSerializer,
    summary="取消未付款订单",
)
class OrderCancelView(ShopperAPIView):
    def post(self, request, order_no: str):
        reason = request.data.get("reason") if isinstance(request.data, dict) else None
        if not isinstance(reason, str) or not reason.strip():
            raise exceptions.ValidationError({"reason": [_("请填写取消原因。")]})
        if len(reason) > 200:
            raise exceptions.ValidationError({"reason": [_("取消原因最多 200 字。")]})
        order = my_order(request, order_no)
        actions.cancel_order(order=order, reason=reason.strip())
        return Response(order_detail_payload(my_order(request, order_no)))
