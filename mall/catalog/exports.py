"""The product XLSX export (console product list, ``?export=xlsx``): one row per SKU, the
product's columns repeated, streamed through ``core.xlsx``."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from core.money import format_bps
from core.xlsx import Col
from mall.catalog.models import Product, ProductSku


def _yes(value: bool) -> str:
    return _("是") if value else _("否")


def _category(product: Product) -> str:
    c = product.category
    if c is None:
        return ""
    return f"{c.parent.name} / {c.name}" if c.parent_id else c.name


def product_export_columns() -> list[Col]:
    p, s = 0, 1  # a row is (product, sku or None)
    return [
        Col(_("商品ID"), lambda r: r[p].pk, "int", width=8),
        Col(_("商品名称"), lambda r: r[p].title, width=30),
        Col(_("类型"), lambda r: r[p].get_kind_display(), width=8),
        Col(_("分类"), lambda r: _category(r[p]), width=20),
        Col(_("上架"), lambda r: _yes(r[p].on_shelf), width=6),
        Col(_("热销"), lambda r: _yes(r[p].is_hot), width=6),
        Col(_("参与分销"), lambda r: _yes(r[p].is_distributable), width=8),
        Col(
            _("一级佣金比例"),
            lambda r: format_bps(r[p].commission_l1_bps) if r[p].commission_l1_bps is not None else "",
            width=10,
        ),
        Col(
            _("二级佣金比例"),
            lambda r: format_bps(r[p].commission_l2_bps) if r[p].commission_l2_bps is not None else "",
            width=10,
        ),
        Col(_("规格"), lambda r: r[s].name if r[s] else "", width=16),
        Col(_("规格编码"), lambda r: r[s].code if r[s] else "", width=14),
        Col(_("价格（元）"), lambda r: r[s].price_fen if r[s] else r[p].price_fen, "money"),
        Col(_("划线价（元）"), lambda r: r[s].original_price_fen if r[s] else None, "money"),
        Col(_("规格库存"), lambda r: r[s].stock if r[s] else r[p].stock, "int", width=10),
        Col(_("规格可售"), lambda r: _yes(r[s].is_active) if r[s] else "", width=8),
        Col(_("商品总库存"), lambda r: r[p].stock, "int", width=10),
        Col(_("销量"), lambda r: r[p].sales_count, "int", width=8),
        Col(_("重量（克）"), lambda r: r[p].weight_g, "int", width=10),
        Col(_("产地"), lambda r: r[p].origin, width=12),
        Col(_("出行日期"), lambda r: r[p].travel_date, "date", width=12),
        Col(_("创建时间"), lambda r: r[p].created, "datetime", width=20),
    ]


def product_sku_rows(queryset: QuerySet[Product], *, chunk_size: int = 1000) -> Iterator[tuple]:
    """(product, sku) for every SKU of the products (a product without SKUs: (product, None));
    one statement per chunk for the products and one for their SKUs."""
    products = (
        queryset.select_related("category__parent")
        .defer("description", "restrictions")
        .prefetch_related(Prefetch("skus", queryset=ProductSku.objects.order_by("sort_order", "pk")))
    )
    for product in products.iterator(chunk_size=chunk_size):
        skus = list(product.skus.all())
        if not skus:
            yield (product, None)
        for sku in skus:
            yield (product, sku)
