from django.db import connection
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from mall.api.errors import StoreClosed
from mall.api.serializers import ProductSerializer, StoreSerializer
from mall.catalog.selectors import shelf_products
from tenants.models import TenantStatus

APPID_PARAM = OpenApiParameter(
    "X-WX-AppID", location=OpenApiParameter.HEADER, required=False, description="小程序 AppID（共享接口域名上必填）"
)


class StoreAPIMixin:
    """Every storefront endpoint: the tenant must be open."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if connection.tenant.status == TenantStatus.SUSPENDED:
            raise StoreClosed()


@extend_schema(parameters=[APPID_PARAM], responses=StoreSerializer, summary="店铺信息")
class StoreView(StoreAPIMixin, APIView):
    def get(self, request):
        t = connection.tenant
        return Response(
            StoreSerializer({"slug": t.slug, "name": t.name, "industry": t.industry, "status": t.status}).data
        )


@extend_schema(parameters=[APPID_PARAM], summary="商品列表")
class ProductListView(StoreAPIMixin, generics.ListAPIView):
    serializer_class = ProductSerializer

    def get_queryset(self):
        return shelf_products()


@extend_schema(parameters=[APPID_PARAM], summary="商品详情")
class ProductDetailView(StoreAPIMixin, generics.RetrieveAPIView):
    serializer_class = ProductSerializer

    def get_queryset(self):
        return shelf_products()
