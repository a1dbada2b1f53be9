"""The 30 % cap, checked where rules are saved (SPEC M7): a rate, fixed amount, grade bonus or
per-promoter override that could make level 1 + level 2 on some line exceed 30 % of what the
line paid is refused with a clear message. (Computation caps again, in ``rules.line_amounts``,
for lines whose net amount a discount or refund made smaller than any price.)

The worst case of a product: the highest level-1 rate any promoter could earn on it (its own
resolved rate, or the highest override, plus the highest grade bonus) with the highest level-2
rate, on one unit at its lowest SKU price; exact integer arithmetic, no rounding."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import Max, Min
from django.utils.translation import gettext as _

from core.money import format_bps, format_yuan
from mall.promoters.rules import MAX_COMMISSION_SHARE_BPS, Rate, resolve_rate


@dataclass(frozen=True)
class CapContext:
    levels: int
    level1_bps: int
    level2_bps: int
    max_bonus_bps: int
    max_override1_bps: int | None
    max_override2_bps: int | None


def current_context() -> CapContext:
    from mall.promoters.models import DistributionSettings, Grade, Promoter

    ds = DistributionSettings.current()
    ov = Promoter.objects.aggregate(o1=Max("level1_override_bps"), o2=Max("level2_override_bps"))
    return CapContext(
        levels=ds.levels,
        level1_bps=ds.level1_bps,
        level2_bps=ds.level2_bps,
        max_bonus_bps=Grade.objects.aggregate(m=Max("bonus_bps"))["m"] or 0,
        max_override1_bps=ov["o1"],
        max_override2_bps=ov["o2"],
    )


def _candidates(ctx: CapContext, level: int, *, category_bps, product_bps, unit_fen) -> list[Rate]:
    bonus = ctx.max_bonus_bps if level == 1 else 0
    own = resolve_rate(
        level=level,
        global_bps=ctx.level1_bps if level == 1 else ctx.level2_bps,
        category_bps=category_bps,
        product_bps=product_bps,
        product_unit_fen=unit_fen,
        grade_bonus_bps=bonus,
    )
    override = ctx.max_override1_bps if level == 1 else ctx.max_override2_bps
    out = [own]
    if override is not None:
        out.append(Rate(bps=override + bonus, source="promoter"))
    return out


def _worst(rates: list[Rate], price_fen: int | None) -> tuple[int, int]:
    """(unit fen, bps) of the candidate that pays most on one unit at ``price_fen``."""
    if price_fen is None:
        best = max(rates, key=lambda r: r.bps)
        return (best.unit_fen or 0), best.bps
    best = max(rates, key=lambda r: (r.unit_fen or 0) * 10_000 + r.bps * price_fen)
    return (best.unit_fen or 0), best.bps


def line_rule_error(
    ctx: CapContext,
    *,
    label: str,
    category_l1_bps: int | None = None,
    category_l2_bps: int | None = None,
    product_l1_bps: int | None = None,
    product_l2_bps: int | None = None,
    unit1_fen: int | None = None,
    unit2_fen: int | None = None,
    min_price_fen: int | None = None,
) -> str | None:
    u1, b1 = _worst(
        _candidates(ctx, 1, category_bps=category_l1_bps, product_bps=product_l1_bps, unit_fen=unit1_fen),
        min_price_fen,
    )
    u2, b2 = (0, 0)
    if ctx.levels >= 2:
        u2, b2 = _worst(
            _candidates(ctx, 2, category_bps=category_l2_bps, product_bps=product_l2_bps, unit_fen=unit2_fen),
            min_price_fen,
        )
    units = u1 + u2
    if units and min_price_fen:
        over = units * 10_000 + (b1 + b2) * min_price_fen > MAX_COMMISSION_SHARE_BPS * min_price_fen
        worst = f"{format_yuan(units)} + {format_bps(b1 + b2)}" if b1 + b2 else format_yuan(units)
        base = _("最低售价 %(p)s") % {"p": format_yuan(min_price_fen)}
    else:
        over = b1 + b2 > MAX_COMMISSION_SHARE_BPS
        worst, base = format_bps(b1 + b2), _("实付金额")
    if not over:
        return None
    return _(
        "%(label)s：一级与二级佣金合计最高可达 %(worst)s（含等级加成与专属比例），"
        "超过%(base)s的 30%%。请调低比例或固定佣金。"
    ) % {"label": label, "worst": worst, "base": base}


def store_rule_errors(ctx: CapContext, *, limit: int = 1) -> list[str]:
    """Every category and distributable product of the store checked under ``ctx``."""
    from mall.catalog.models import Category, Product

    errors: list[str] = []
    cats = {c.pk: c for c in Category.objects.all()}

    def cat_rates(cat_id):
        c = cats.get(cat_id)
        r1 = r2 = None
        while c is not None:
            r1 = r1 if r1 is not None else c.commission_l1_bps
            r2 = r2 if r2 is not None else c.commission_l2_bps
            c = cats.get(c.parent_id) if c.parent_id else None
        return r1, r2

    err = line_rule_error(ctx, label=_("全店默认比例"))
    if err:
        errors.append(err)
    for c in cats.values():
        if len(errors) >= limit:
            return errors
        c1, c2 = cat_rates(c.pk)
        err = line_rule_error(ctx, label=_("分类「%(n)s」") % {"n": c.name}, category_l1_bps=c1, category_l2_bps=c2)
        if err:
            errors.append(err)
    products = Product.objects.filter(is_distributable=True).annotate(min_price=Min("skus__price_fen"))
    for p in products.iterator():
        if len(errors) >= limit:
            break
        c1, c2 = cat_rates(p.category_id)
        err = product_rule_error(ctx, product=p, category_rates=(c1, c2), min_price_fen=p.min_price or p.price_fen)
        if err:
            errors.append(err)
    return errors


def product_rule_error(
    ctx: CapContext, *, product, category_rates=None, min_price_fen: int | None = None
) -> str | None:
    if not product.is_distributable:
        return None
    if category_rates is None:
        c1 = c2 = None
        cat = product.category
        while cat is not None:
            c1 = c1 if c1 is not None else cat.commission_l1_bps
            c2 = c2 if c2 is not None else cat.commission_l2_bps
            cat = cat.parent
        category_rates = (c1, c2)
    return line_rule_error(
        ctx,
        label=_("商品「%(t)s」") % {"t": product.title},
        category_l1_bps=category_rates[0],
        category_l2_bps=category_rates[1],
        product_l1_bps=product.commission_l1_bps,
        product_l2_bps=product.commission_l2_bps,
        unit1_fen=product.commission_l1_fen,
        unit2_fen=product.commission_l2_fen,
        min_price_fen=min_price_fen,
    )


__all__ = ["CapContext", "current_context", "line_rule_error", "product_rule_error", "replace", "store_rule_errors"]
