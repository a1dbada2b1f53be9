"""The compiled store config: what the storefront (mini-program and H5) renders.

The format is written down in ``docs/store-config.md`` and shared with the store-builder issue
(blocks edited in the designer compile to the same JSON). Until a store has published a config
from the designer, ``current_config()`` compiles one from what the store has: its categories,
hot and service products and its distribution rules (``version`` 0 marks such a config).

The config carries no shopper data and no prices (product blocks name a source; the client reads
the products, with their current prices and stock, from the product API), so it can be cached by
the store and by the client (``hash`` is the ETag)."""

from __future__ import annotations

import hashlib
import json

from django.db import connection
from django.utils.translation import gettext as _

SCHEMA_VERSION = 1

# Every block type a storefront build of this code version renders. A client meeting a type it
# does not know renders nothing for it (and logs a warning); the builder refuses to publish a
# block the tenant's code version does not support.
BLOCK_TYPES = (
    "banner",
    "notice",
    "search",
    "category_nav",
    "product_grid",
    "product_list",
    "coupon_strip",
    "campaign",
    "member_card",
    "promoter_entry",
    "rich_text",
    "image",
    "video",
    "spacer",
    "travel_route",
    "rules_footer",
)

PAGES = ("home", "category", "product", "me", "promoter")

DEFAULT_THEME = {"primary": "#E4393C", "cta": "#E4393C", "background": "#F7F7F7", "text": "#333333"}

DEFAULT_AFTERSALES_POLICY = (
    "收货后 7 天内，未使用、不影响二次销售的商品可申请无理由退货（生鲜易腐、定制商品及已核销的服务除外）；"
    "质量问题请在签收后 48 小时内申请售后，运费由本店承担。退款原路退回，佣金随退款相应扣回。"
)


def content_hash(config: dict) -> str:
    """sha256 of the canonical JSON of everything but the hash itself."""
    body = {k: v for k, v in config.items() if k != "hash"}
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def rules_footer_data() -> dict:
    """The distribution-rules footer (SPEC M7): levels, rates, settlement, withdrawal terms,
    the after-sales policy and the contact, from the store's own settings."""
    from core.money import format_bps
    from mall.api.distribution import _fee_rule
    from mall.promoters.models import DistributionSettings

    ds = DistributionSettings.current()
    return {
        "enabled": ds.enabled,
        "promoter_name": ds.promoter_name,
        "levels": ds.levels,
        "level1_rate": format_bps(ds.level1_bps),
        "level2_rate": format_bps(ds.level2_bps) if ds.levels >= 2 else "",
        "settle_days": ds.settle_days,
        "withdraw_min_fen": ds.withdraw_min_fen,
        "withdraw_daily_count": ds.withdraw_daily_count,
        "withdraw_fee_rule": _fee_rule(ds),
        "aftersales_policy": DEFAULT_AFTERSALES_POLICY,
        "contact": connection.tenant.name,
    }


def _block(n: int, type_: str, **data) -> dict:
    assert type_ in BLOCK_TYPES, type_
    return {"id": f"b{n}", "type": type_, "data": data}


def compile_default() -> dict:
    """A config for a store that has not published one: built from its catalog and rules."""
    from mall.catalog.models import Category, ProductKind
    from mall.catalog.selectors import shelf_products
    from mall.promoters.models import DistributionSettings

    tenant = connection.tenant
    ds = DistributionSettings.current()
    tops = list(Category.objects.filter(parent__isnull=True).order_by("sort_order", "pk").values("pk", "name"))
    hot = list(shelf_products().filter(is_hot=True).order_by("pk")[:5])
    services = list(shelf_products().filter(kind=ProductKind.SERVICE).order_by("-is_hot", "pk")[:3])
    n = iter(range(1, 1000))
    home = [
        _block(next(n), "search", placeholder=_("搜索商品")),
        _block(
            next(n),
            "banner",
            interval_ms=4000,
            items=[{"title": p.title, "subtitle": p.subtitle, "image": "", "product_id": p.pk} for p in hot[:3]]
            or [{"title": tenant.name, "subtitle": _("欢迎光临"), "image": "", "product_id": None}],
        ),
        _block(
            next(n), "notice", text=_("欢迎光临%(name)s，下单后可在“我的订单”查看物流与售后。") % {"name": tenant.name}
        ),
    ]
    if tops:
        home.append(
            _block(
                next(n),
                "category_nav",
                columns=4 if len(tops) <= 4 else 5,
                items=[{"category_id": c["pk"], "name": c["name"], "icon": ""} for c in tops[:10]],
            )
        )
    if ds.enabled:
        home.append(
            _block(
                next(n),
                "promoter_entry",
                title=_("成为%(name)s") % {"name": ds.promoter_name},
                subtitle=_("分享好物，好友下单后获得佣金"),
            )
        )
    for p in services:
        home.append(
            _block(
                next(n),
                "travel_route",
                product_id=p.pk,
                title=p.title,
                subtitle=p.subtitle,
                image="",
                highlights=[x for x in (p.subtitle,) if x],
            )
        )
    if hot:
        home.append(_block(next(n), "product_grid", title=_("热销推荐"), source="hot", limit=6, columns=2))
    for c in tops[:6]:
        home.append(_block(next(n), "product_list", title=c["name"], source="category", category_id=c["pk"], limit=4))
    home.append(_block(next(n), "rules_footer", **rules_footer_data()))
    me = [_block(next(n), "member_card", title=_("会员中心"), subtitle=_("订单、售后、地址一处管理"))]
    if ds.enabled:
        me.append(_block(next(n), "promoter_entry", title=_("%(name)s中心") % {"name": ds.promoter_name}, subtitle=""))
    me.append(_block(next(n), "rules_footer", **rules_footer_data()))
    config = {
        "schema_version": SCHEMA_VERSION,
        "version": 0,
        "store": {
            "slug": tenant.slug,
            "name": tenant.name,
            "industry": tenant.industry,
            "logo": "",
            "promoter_name": ds.promoter_name,
            "distribution_enabled": ds.enabled,
        },
        "theme": dict(DEFAULT_THEME),
        "pages": {
            "home": {"title": tenant.name, "blocks": home},
            "me": {"title": _("我的"), "blocks": me},
            "promoter": {
                "title": _("%(name)s中心") % {"name": ds.promoter_name},
                "blocks": [_block(next(n), "rules_footer", **rules_footer_data())],
            },
            "product": {"title": "", "layout": {"show_commission": True, "show_aftersales": True}, "blocks": []},
        },
        "aftersales_policy": DEFAULT_AFTERSALES_POLICY,
    }
    config["hash"] = content_hash(config)
    return config


def current_config() -> dict:
    """The store's config (cached with the catalog; rebuilt when the catalog or the distribution
    rules change)."""
    from django.utils.translation import get_language

    from mall.catalog import storefront_cache
    from mall.promoters.models import DistributionSettings

    stamp = DistributionSettings.current().updated
    name = f"store_config:{SCHEMA_VERSION}:{get_language()}:{stamp.timestamp() if stamp else 0}"
    return storefront_cache.cached(name, compile_default)
