"""The template library: versioned template definitions kept as data files in ``data/``.

A template is a JSON document (key, version, name, industries, description, categories with
sample products). Staff curation and the page designer arrive with the store-builder issue."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.db import transaction

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class StoreTemplate:
    key: str
    version: int
    name: str
    name_en: str
    industries: tuple[str, ...]
    description: str
    categories: tuple[dict, ...] = field(default_factory=tuple)

    @property
    def display_name(self) -> str:
        """The name in the active language (Chinese unless English is active)."""
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name

    @property
    def product_count(self) -> int:
        return sum(len(c.get("products", [])) for c in self.categories)


@lru_cache(maxsize=1)
def available_templates() -> tuple[StoreTemplate, ...]:
    found = []
    for path in sorted(DATA.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        found.append(
            StoreTemplate(
                key=raw["key"],
                version=int(raw["version"]),
                name=raw["name"],
                name_en=raw.get("name_en", raw["name"]),
                industries=tuple(raw.get("industries", [])),
                description=raw.get("description", ""),
                categories=tuple(raw.get("categories", [])),
            )
        )
    return tuple(sorted(found, key=lambda t: (t.key != "blank", t.key)))


def get_template(key: str) -> StoreTemplate | None:
    return next((t for t in available_templates() if t.key == key), None)


def apply_template(template: StoreTemplate) -> int:
    """Create the template's categories and sample products in the current tenant schema.
    Idempotent: a category or product that already exists by name is left alone."""
    from mall.catalog.models import Category, Product

    created = 0
    with transaction.atomic():
        for order, cat in enumerate(template.categories):
            category, _ = Category.objects.get_or_create(name=cat["name"], defaults={"sort_order": order})
            for item in cat.get("products", []):
                _, made = Product.objects.get_or_create(
                    title=item["title"],
                    defaults={
                        "category": category,
                        "subtitle": item.get("subtitle", ""),
                        "price_fen": int(item["price_fen"]),
                        "stock": int(item.get("stock", 0)),
                        "is_hot": bool(item.get("is_hot", False)),
                    },
                )
                created += made
    return created
