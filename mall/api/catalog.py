"""Storefront catalog API: the category tree, the product list (search, category with its
sub-categories, sorts, bounded pagination), product detail with SKUs, images, attributes and the
newest e-contract, the contract preview and the shopper's acceptance.

Public reads are served from the per-tenant storefront cache (``mall.catalog.storefront_cache``):
keys start with the tenant's schema and are invalidated by a version the catalog actions bump."""

from __future__ import annotations

import hashlib

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.money import format_bps, format_yuan
from mall.api.auth import IsShopper, ShopperTokenAuthentication
from mall.api.pagination import ApiPagination
from mall.api.serializers import ProductSerializer, product_payload
from mall.api.views import APPID_PARAM, StoreAPIMixin
from mall.catalog import storefront_cache
from mall.catalog.actions import accept_contract
from mall.catalog.models import Category, Product, ProductKind
from mall.catalog.selectors import category_with_children, newest_contract, shelf_products

SORTS = {
    "price": ("price_fen", "pk"),
    "-price": ("-price_fen", "-pk"),
    "sales": ("sales_count", "pk"),
    "-sales": ("-sales_count", "-pk"),
    "new": ("-created", "-pk"),
}
MAX_SEARCH = 50


def file_link(field) -> str | None:
    """A signed, expiring link to a stored file (the storage's ``url()``), or None."""
    return field.url if field else None


# -- schema serializers (documentation; the bodies are built by the functions below) ---------------


class SubCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CategoryTreeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    children = SubCategorySerializer(many=True)


class SkuOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()
    price_fen = serializers.IntegerField()
    price_display = serializers.CharField()
    original_price_fen = serializers.IntegerField(allow_null=True)
    stock = serializers.IntegerField()
    is_active = serializers.BooleanField()


class ContractOutSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="签名的预览链接（数分钟内有效）")


class ProductListSerializer(ProductSerializer):
    cover = serializers.CharField(allow_null=True, read_only=True, help_text="封面图签名链接")

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "cover"]


class ProductPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ProductListSerializer(many=True)


class ProductDetailSerializer(ProductListSerializer):
    category_id = serializers.IntegerField(allow_null=True, read_only=True)
    description = serializers.CharField(read_only=True)
    images = serializers.ListField(child=serializers.CharField(), read_only=True)
    skus = SkuOutSerializer(many=True, read_only=True)
    weight_g = serializers.IntegerField(read_only=True)
    origin = serializers.CharField(read_only=True)
    shelf_life_days = serializers.IntegerField(allow_null=True, read_only=True)
    free_shipping = serializers.BooleanField(read_only=True, help_text="未设置运费模板即包邮")
    travel_date = serializers.DateField(allow_null=True, read_only=True)
    travel_end_date = serializers.DateField(allow_null=True, read_only=True)
    restrictions = serializers.CharField(read_only=True)
    commission_l1_bps = serializers.IntegerField(allow_null=True, read_only=True)
    commission_l2_bps = serializers.IntegerField(allow_null=True, read_only=True)
    commission_l1_display = serializers.CharField(allow_null=True, read_only=True)
    commission_l2_display = serializers.CharField(allow_null=True, read_only=True)
    contract = ContractOutSerializer(allow_null=True, read_only=True)

    class Meta(ProductListSerializer.Meta):
        fields = [
            *ProductListSerializer.Meta.fields,
            "category_id",
            "description",
            "images",
            "skus",
            "weight_g",
            "origin",
            "shelf_life_days",
            "free_shipping",
            "travel_date",
            "travel_end_date",
            "restrictions",
            "commission_l1_bps",
            "commission_l2_bps",
            "commission_l1_display",
            "commission_l2_display",
            "contract",
        ]


class AcceptContractSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="已阅读的合同版本")


class AcceptanceOutSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    accepted_at = serializers.DateTimeField()


# -- bodies ----------------------------------------------------------------------------------------


def list_row(p: Product) -> dict:
    return {**product_payload(p), "cover": file_link(p.cover)}


def contract_payload(contract) -> dict | None:
    if contract is None:
        return None
    return {"version": contract.version, "title": contract.title, "url": file_link(contract.file)}


def detail_payload(p: Product) -> dict:
    skus = [
        {
            "id": s.pk,
            "name": s.name,
            "code": s.code,
            "price_fen": s.price_fen,
            "price_display": format_yuan(s.price_fen),
            "original_price_fen": s.original_price_fen,
            "stock": s.stock,
            "is_active": s.is_active,
        }
        for s in p.skus.all()
    ]
    service = p.kind == ProductKind.SERVICE
    return {
        **list_row(p),
        "category_id": p.category_id,
        "description": p.description,
        "images": [file_link(i.image) for i in p.images.all()],
        "skus": skus,
        "weight_g": p.weight_g,
        "origin": p.origin,
        "shelf_life_days": p.shelf_life_days,
        "free_shipping": p.shipping_template_id is None,
        "travel_date": p.travel_date.isoformat() if p.travel_date else None,
        "travel_end_date": p.travel_end_date.isoformat() if p.travel_end_date else None,
        "restrictions": p.restrictions,
        "commission_l1_bps": p.commission_l1_bps,
        "commission_l2_bps": p.commission_l2_bps,
        "commission_l1_display": format_bps(p.commission_l1_bps) if p.commission_l1_bps is not None else None,
        "commission_l2_display": format_bps(p.commission_l2_bps) if p.commission_l2_bps is not None else None,
        "contract": contract_payload(newest_contract(p)) if service else None,
    }


def category_tree() -> list[dict]:
    rows = list(Category.objects.order_by("sort_order", "pk").values("id", "name", "parent_id"))
    tops = [{"id": r["id"], "name": r["name"], "children": []} for r in rows if r["parent_id"] is None]
    by_id = {t["id"]: t for t in tops}
    for r in rows:
        if r["parent_id"] in by_id:
            by_id[r["parent_id"]]["children"].append({"id": r["id"], "name": r["name"]})
    return tops


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:20]


# -- views -----------------------------------------------------------------------------------------


@extend_schema(parameters=[APPID_PARAM], responses=CategoryTreeSerializer(many=True), summary="商品分类（两级）")
class CategoryTreeView(StoreAPIMixin, APIView):
    def get(self, request):
        return Response(storefront_cache.cached("categories", category_tree))


LIST_PARAMS = [
    APPID_PARAM,
    OpenApiParameter("search", str, description=f"按商品名称、卖点搜索（最多 {MAX_SEARCH} 字）"),
    OpenApiParameter("category", int, description="分类 ID（含其子分类）"),
    OpenApiParameter(
        "sort", str, enum=list(SORTS), description="price / -price 按价格，sales / -sales 按销量，new 最新"
    ),
    OpenApiParameter("hot", bool, description="1：只看热销商品"),
    OpenApiParameter("ids", str, description="指定商品 ID，英文逗号分隔（最多 50 个），例如 3,8,12"),
    OpenApiParameter("limit", int, description="每页条数（1–100，默认 20）"),
    OpenApiParameter("offset", int, description="起始位置（从 0 开始）"),
]


@extend_schema(parameters=LIST_PARAMS, responses=ProductPageSerializer, summary="商品列表")
class ProductListView(StoreAPIMixin, APIView):
    pagination_class = ApiPagination

    def _filters(self, request) -> tuple[str, int | None, str, bool, list[int] | None]:
        errors = {}
        search = request.query_params.get("search", "").strip()
        if len(search) > MAX_SEARCH:
            errors["search"] = [_("搜索词最多 %(n)s 个字。") % {"n": MAX_SEARCH}]
        raw = request.query_params.get("category", "").strip()
        category = None
        if raw:
            if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
                errors["category"] = [_("分类须为分类 ID。")]
            else:
                category = int(raw)
        sort = request.query_params.get("sort", "").strip()
        if sort and sort not in SORTS:
            errors["sort"] = [_("排序只能是 price、-price、sales、-sales 或 new。")]
        hot = request.query_params.get("hot", "").strip().lower()
        if hot not in ("", "0", "1", "true", "false"):
            errors["hot"] = [_("hot 只能是 1 或 0。")]
        raw_ids = request.query_params.get("ids", "").strip()
        ids = None
        if raw_ids:
            parts = [x.strip() for x in raw_ids.split(",") if x.strip()]
            if len(parts) > 50 or not all(x.isascii() and x.isdigit() and len(x) <= 18 for x in parts):
                errors["ids"] = [_("ids 须为英文逗号分隔的商品 ID，最多 50 个。")]
            else:
                ids = [int(x) for x in parts]
        if errors:
            raise exceptions.ValidationError(errors)
        return search, category, sort, hot in ("1", "true"), ids

    @extend_schema(operation_id="v1_products_list")
    def get(self, request):
        search, category, sort, hot, ids = self._filters(request)
        paginator = self.pagination_class()
        paginator.get_limit(request), paginator.get_offset(request)  # bad paging is a 400, never cached
        name = f"products:{_digest(request.get_host() + '|' + request.get_full_path())}"

        def build():
            qs = shelf_products()
            if search:
                qs = qs.filter(Q(title__icontains=search) | Q(subtitle__icontains=search))
            if category is not None:
                qs = qs.filter(category_id__in=category_with_children(category))
            if hot:
                qs = qs.filter(is_hot=True)
            if ids is not None:
                qs = qs.filter(pk__in=ids)
            qs = qs.order_by(*SORTS[sort]) if sort else qs.order_by("-is_hot", "pk")
            page = paginator.paginate_queryset(qs, request, view=self)
            return paginator.get_paginated_response([list_row(p) for p in page]).data

        return Response(storefront_cache.cached(name, build))


PRODUCT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="商品 ID")


def _shelf_product(pk: int) -> Product:
    return get_object_or_404(shelf_products(), pk=pk)


@extend_schema(parameters=[APPID_PARAM, PRODUCT_ID], responses=ProductDetailSerializer, summary="商品详情")
class ProductDetailView(StoreAPIMixin, APIView):
    def get(self, request, pk: int):
        def build():
            p = get_object_or_404(
                shelf_products().select_related("shipping_template").prefetch_related("skus", "images"), pk=pk
            )
            return detail_payload(p)

        return Response(storefront_cache.cached(f"product:{pk}", build))


@extend_schema(parameters=[APPID_PARAM, PRODUCT_ID], responses=ContractOutSerializer, summary="电子合同预览")
class ContractView(StoreAPIMixin, APIView):
    def get(self, request, pk: int):
        contract = newest_contract(_shelf_product(pk))
        if contract is None:
            raise exceptions.NotFound(_("该商品没有电子合同。"))
        return Response(contract_payload(contract))


@extend_schema(
    parameters=[APPID_PARAM, PRODUCT_ID],
    request=AcceptContractSerializer,
    responses={201: AcceptanceOutSerializer, 200: AcceptanceOutSerializer},
    summary="签署电子合同",
)
class ContractAcceptView(StoreAPIMixin, APIView):
    authentication_classes = [ShopperTokenAuthentication]
    permission_classes = [IsShopper]

    def post(self, request, pk: int):
        product = _shelf_product(pk)
        data = AcceptContractSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        acceptance, created = accept_contract(
            product=product,
            customer=request.user,
            version=data.validated_data["version"],
            ip=request.META.get("REMOTE_ADDR"),
        )
        body = {"version": data.validated_data["version"], "accepted_at": acceptance.accepted_at}
        return Response(AcceptanceOutSerializer(body).data, status=201 if created else 200)
