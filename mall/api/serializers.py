from rest_framework import serializers

from core.money import format_yuan
from mall.catalog.models import Product


class StoreSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    industry = serializers.CharField()
    status = serializers.CharField()


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name", default=None, read_only=True)
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
