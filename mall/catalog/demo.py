"""Demo data of a store's catalog (development only; called by ``tools/demo``)."""

from __future__ import annotations

from mall.catalog.actions import create_category, create_product
from mall.catalog.models import Product, ProductKind


def seed_catalog(*, catalog: dict, industry: str) -> list[Product]:
    """``catalog``: {category name: [(title, subtitle, price_fen, stock, is_hot), …]}."""
    kind = ProductKind.SERVICE if industry == "travel" else ProductKind.PHYSICAL
    products = []
    for i, (cat_name, items) in enumerate(catalog.items()):
        category = create_category(name=cat_name, sort_order=i)
        for title, subtitle, price, stock, hot in items:
            products.append(
                create_product(
                    category=category,
                    kind=kind,
                    title=title,
                    subtitle=subtitle,
                    price_fen=price,
                    stock=stock,
                    is_hot=hot,
                )
            )
    return products
