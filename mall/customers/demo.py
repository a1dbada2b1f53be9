"""Demo shoppers (development only; called by ``tools/demo``)."""

from __future__ import annotations

from mall.customers.actions import register_shopper
from mall.customers.models import Customer


def seed_shoppers(*, slug: str, shoppers: list[tuple[str, str]]) -> list[Customer]:
    return [
        register_shopper(openid=f"demo-{slug}-{n}", nickname=name, phone=phone)
        for n, (name, phone) in enumerate(shoppers)
    ]
