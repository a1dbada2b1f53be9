"""Distribution rules fixed in code (SPEC M4, M7; ARCHITECTURE house rule 6), and the one
commission formula (``docs/commission.md`` states it with worked examples).

Two levels at most: a promoter stores its parent only, and nothing (setting, staff, API)
can make a third level. All commission on an order line is at most 30 % of its net paid
amount: a rule that could exceed it is refused where it is saved (``check_rules_within_cap``)
and, at computation, level 2 is cut first, then level 1, and the cut is recorded.

Rounding, written once: every percentage is ``core.money.bps_of`` (rounded *down* to the fen,
so no commission is ever more than its rate allows); a fixed amount is per unit, times the
units not refunded. A level's amount is ``unit × units + bps_of(net, rate)``."""

from __future__ import annotations

from dataclasses import dataclass

from core.money import bps_of

MAX_DISTRIBUTION_LEVELS = 2
MAX_COMMISSION_SHARE_BPS = 3000  # all commission on an order line ≤ 30 % of its net paid amount
# The store's global rates: allowed range and default per level (SPEC M4).
LEVEL_RATE_RANGES = {1: (800, 1500), 2: (300, 500)}
DEFAULT_LEVEL_RATES = {1: 1000, 2: 300}
LEVELS = tuple(range(1, MAX_DISTRIBUTION_LEVELS + 1))


@dataclass(frozen=True)
class Rate:
    """What one level earns on a line: ``unit_fen`` per unit (fixed amount) and/or ``bps`` of
    the net paid amount (a percentage; a grade bonus is added here)."""

    bps: int = 0
    unit_fen: int | None = None
    source: str = "global"


@dataclass(frozen=True)
class LineAmount:
    level: int
    amount_fen: int
    cut_fen: int  # taken off by the 30 % cap


def raw_amount(rate: Rate, *, net_fen: int, units: int) -> int:
    if net_fen <= 0:
        return 0
    return (rate.unit_fen or 0) * max(units, 0) + bps_of(net_fen, rate.bps)


def line_amounts(*, net_fen: int, units: int, rates: dict[int, Rate]) -> dict[int, LineAmount]:
    """Each level's commission on a line whose net paid amount is ``net_fen`` for ``units``
    units, within the cap: level 2 is cut first, then level 1."""
    if any(level not in LEVELS for level in rates):
        raise ValueError(f"at most {MAX_DISTRIBUTION_LEVELS} levels")
    raw = {level: raw_amount(rate, net_fen=net_fen, units=units) for level, rate in rates.items()}
    cap = bps_of(max(net_fen, 0), MAX_COMMISSION_SHARE_BPS)
    l1, l2 = raw.get(1, 0), raw.get(2, 0)
    over = l1 + l2 - cap
    cut2 = min(max(over, 0), l2)
    cut1 = max(over - cut2, 0)
    out = {}
    if 1 in rates:
        out[1] = LineAmount(1, l1 - cut1, cut1)
    if 2 in rates:
        out[2] = LineAmount(2, l2 - cut2, cut2)
    return out


def resolve_rate(
    *,
    level: int,
    global_bps: int,
    category_bps: int | None = None,
    product_bps: int | None = None,
    product_unit_fen: int | None = None,
    override_bps: int | None = None,
    grade_bonus_bps: int = 0,
) -> Rate:
    """The precedence, written once: promoter override > product (fixed amount, then rate) >
    category > global; then the grade bonus (level 1 only) is added to the percentage."""
    bonus = grade_bonus_bps if level == 1 else 0
    if override_bps is not None:
        return Rate(bps=override_bps + bonus, source="promoter")
    if product_unit_fen is not None:
        return Rate(bps=bonus, unit_fen=product_unit_fen, source="product_fixed")
    if product_bps is not None:
        return Rate(bps=product_bps + bonus, source="product")
    if category_bps is not None:
        return Rate(bps=category_bps + bonus, source="category")
    return Rate(bps=global_bps + bonus, source="global")
