"""Shipping fees of physical goods, in fen (no floats): per shipping template, first weight
plus each started unit of additional weight, by the receiver's province; free when the goods
of that template reach the template's ``free_over_fen``. Lines of products without a template
ship free. Service lines never ship."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from mall.catalog.models import ShippingTemplate


@dataclass(frozen=True)
class ShippableLine:
    template_id: int | None
    weight_g: int  # of the whole line (unit weight × quantity)
    amount_fen: int


def template_fee(template: ShippingTemplate, *, province: str, weight_g: int, goods_fen: int) -> int:
    if template.free_over_fen is not None and goods_fen >= template.free_over_fen:
        return 0
    first, extra = template.first_fee_fen, template.extra_fee_fen
    province = (province or "").strip()
    for rule in template.region_rules.all():
        if province and any(province.startswith(p) or p.startswith(province) for p in rule.province_list()):
            first, extra = rule.first_fee_fen, rule.extra_fee_fen
            break
    over = max(weight_g - template.first_weight_g, 0)
    units = -(-over // template.extra_weight_g)  # started units, integer ceiling
    return first + units * extra


def shipping_fee(lines: Iterable[ShippableLine], *, province: str) -> int:
    by_template: dict[int, list[ShippableLine]] = defaultdict(list)
    for line in lines:
        if line.template_id is not None:
            by_template[line.template_id].append(line)
    if not by_template:
        return 0
    templates = ShippingTemplate.objects.prefetch_related("region_rules").in_bulk(list(by_template))
    total = 0
    for template_id, group in sorted(by_template.items()):
        template = templates.get(template_id)
        if template is None:
            continue
        total += template_fee(
            template,
            province=province,
            weight_g=sum(g.weight_g for g in group),
            goods_fen=sum(g.amount_fen for g in group),
        )
    return total
