"""State changes of a store's catalog (tenant schema)."""

from __future__ import annotations

from django.db import transaction

from mall.catalog.models import Category, Product


def create_category(*, name: str, sort_order: int = 0) -> Category:
    with transaction.atomic():
        return Category.objects.create(name=name, sort_order=sort_order)


def create_product(
    *, category: Category | None, kind: str, title: str, subtitle: str = "", price_fen: int, stock: int, is_hot: bool
) -> Product:
    if not isinstance(price_fen, int) or price_fen < 0:
        raise ValueError("price_fen must be a non-negative integer (fen)")
    with transaction.atomic():
        return Product.objects.create(
            category=category,
            kind=kind,
            title=title,
            subtitle=subtitle,
            price_fen=price_fen,
            stock=stock,
            is_hot=is_hot,
        )
