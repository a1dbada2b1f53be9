"""State changes of a store's catalog (tenant schema)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Sum
from django.utils.translation import gettext as _

from mall.catalog.models import Category, Product, ProductKind, ProductSku


def create_category(*, name: str, sort_order: int = 0, parent: Category | None = None) -> Category:
    with transaction.atomic():
        category = Category(name=name, sort_order=sort_order, parent=parent)
        category.full_clean()
        category.save()
        return category


def create_product(
    *,
    category: Category | None = None,
    kind: str = ProductKind.PHYSICAL,
    title: str,
    subtitle: str = "",
    price_fen: int | None = None,
    stock: int = 0,
    is_hot: bool = False,
    skus: list[dict] | None = None,
    **attrs,
) -> Product:
    """A product and its SKUs. ``skus``: [{"name", "price_fen", "stock", "code"?, "specs"?}];
    without them the product is sold as one SKU (``price_fen``, ``stock``). Other product
    fields (weight_g, origin, shipping_template, travel_date, commission rates…) go in ``attrs``."""
    if skus is None:
        if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen <= 0:
            raise ValidationError({"price_fen": _("价格必须大于 0。")})
        skus = [{"name": _("默认"), "price_fen": price_fen, "stock": stock}]
    if not skus:
        raise ValidationError({"skus": _("至少需要一个规格。")})
    with transaction.atomic():
        product = Product(
            category=category,
            kind=kind or ProductKind.PHYSICAL,
            title=title,
            subtitle=subtitle,
            price_fen=min(s["price_fen"] for s in skus),
            stock=sum(s.get("stock", 0) for s in skus),
            is_hot=is_hot,
            **attrs,
        )
        product.full_clean(exclude=["cover"])
        product.save()
        for i, data in enumerate(skus):
            sku = ProductSku(product=product, sort_order=i, **data)
            sku.full_clean(exclude=["product"])
            sku.save()
        sync_product(product=product)
        return product


def sync_product(*, product: Product) -> Product:
    """Keep the product's derived columns (lowest active price, total stock) in step with its
    SKUs. Called by every action that changes SKUs, and after the console's product form."""
    agg = ProductSku.objects.filter(product=product, is_active=True).aggregate(p=Min("price_fen"), s=Sum("stock"))
    price = (
        agg["p"] or ProductSku.objects.filter(product=product).aggregate(p=Min("price_fen"))["p"] or product.price_fen
    )
    Product.objects.filter(pk=product.pk).update(price_fen=price, stock=agg["s"] or 0)
    product.price_fen, product.stock = price, agg["s"] or 0
    return product
