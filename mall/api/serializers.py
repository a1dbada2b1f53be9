from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.money import format_yuan
from mall.catalog.models import Product


class StoreSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    industry = serializers.CharField()
    status = serializers.CharField()


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name", default=None, allow_null=True, read_only=True)
    price_display = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "kind",
            "title",
            "subtitle",
            "category",
            "price_fen",
            "price_display",
            "stock",
            "is_hot",
            "is_distributable",
            "sales_count",
        ]

    def get_price_display(self, obj) -> str:
        return format_yuan(obj.price_fen)


def product_payload(p: Product) -> dict:
    """What ``ProductSerializer`` renders, built directly: the storefront's hottest read, and DRF
    rebuilds a ModelSerializer's fields from model metadata on every request (a third of the
    view's time, bench/RESULTS.md). ``tests/api`` checks the two stay identical."""
    return {
        "id": p.pk,
        "kind": p.kind,
        "title": p.title,
        "subtitle": p.subtitle,
        "category": p.category.name if p.category_id else None,
        "price_fen": p.price_fen,
        "price_display": format_yuan(p.price_fen),
        "stock": p.stock,
        "is_hot": p.is_hot,
        "is_distributable": p.is_distributable,
        "sales_count": p.sales_count,
    }


class LoginSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=128, help_text="wx.login() 返回的 code")


class LoginResultSerializer(serializers.Serializer):
    token = serializers.CharField()
    customer_id = serializers.IntegerField()
    is_new = serializers.BooleanField()


class OrderItemSerializer(serializers.Serializer):
    sku_id = serializers.IntegerField(min_value=1, max_value=2**62, required=False, help_text="规格 ID")
    product_id = serializers.IntegerField(
        min_value=1, max_value=2**62, required=False, help_text="商品 ID（仅单规格商品可不填 sku_id）"
    )
    quantity = serializers.IntegerField(min_value=1, max_value=999)

    def validate(self, attrs):
        if not attrs.get("sku_id") and not attrs.get("product_id"):
            raise serializers.ValidationError({"sku_id": [_("请选择商品规格。")]})
        return attrs


class PlaceOrderSerializer(serializers.Serializer):
    items = OrderItemSerializer(many=True, allow_empty=False, max_length=50)
    address_id = serializers.IntegerField(
        min_value=1, max_value=2**62, required=False, help_text="收货地址（实物商品必填；不填用默认地址）"
    )
    remark = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="买家留言")
    from_cart = serializers.BooleanField(required=False, default=False, help_text="下单后从购物车移除这些规格")


class OrderLineOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku_id = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField()
    title = serializers.CharField()
    sku_name = serializers.CharField()
    unit_price_fen = serializers.IntegerField()
    quantity = serializers.IntegerField()
    amount_fen = serializers.IntegerField()


class OrderSerializer(serializers.Serializer):
    order_no = serializers.CharField()
    status = serializers.CharField()
    goods_fen = serializers.IntegerField()
    shipping_fen = serializers.IntegerField()
    adjust_fen = serializers.IntegerField()
    total_fen = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True)
    total_display = serializers.SerializerMethodField()
    created = serializers.DateTimeField()
    lines = OrderLineOutSerializer(many=True, source="lines.all")

    def get_total_display(self, obj) -> str:
        return format_yuan(obj.total_fen)
