"""The reconciliation (issue 11 point 5): every balance from the entries, every line's
commission from its order and refunds, and the identity that ties the buckets together.

Per store, three checks:

1. each promoter's cached balances equal the sums of its entries' deltas;
2. each line commission's target equals a from-scratch recomputation (its snapshot rate on the
   line's net paid amount now, within the cap), and its commission entries (accrued, adjusted,
   claw-back, absorbed) sum to it; an unsettled one still holds all of it as pending, a
   settled one none;
3. no entry or line commission names a level beyond ``MAX_DISTRIBUTION_LEVELS``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum

from core.money import bps_of
from mall.orders.models import Order, OrderLine
from mall.promoters.commission import COMMISSION_KINDS, net_amounts
from mall.promoters.ledger import balances_from_entries
from mall.promoters.models import CommissionEntry, LineCommission, LineDividend, Promoter
from mall.promoters.rules import LEVELS, MAX_COMMISSION_SHARE_BPS, Rate, line_amounts


@dataclass
class Report:
    promoters: int = 0
    entries: int = 0
    lines: int = 0
    drift: list[str] = field(default_factory=list)


def reconcile() -> Report:
    rep = Report()
    sums = balances_from_entries()
    for p in Promoter.objects.all().only("pk", "pending_fen", "available_fen", "inflight_fen", "withdrawn_fen"):
        rep.promoters += 1
        want = sums.get(p.pk, {"pending": 0, "available": 0, "inflight": 0, "withdrawn": 0})
        have = {"pending": p.pending_fen, "available": p.available_fen, "inflight": p.inflight_fen,
                "withdrawn": p.withdrawn_fen}  # fmt: skip
        if want != have:
            rep.drift.append(f"promoter {p.pk}: cached {have} != entries {want}")
    rep.entries = CommissionEntry.objects.count()
    if CommissionEntry.objects.exclude(level__isnull=True).exclude(level__in=LEVELS).exists():
        rep.drift.append("an entry names a third level")
    per_lc = {
        r["commission_id"]: (r["amount"] or 0, r["pending"] or 0)
        for r in CommissionEntry.objects.filter(commission__isnull=False, kind__in=COMMISSION_KINDS)
        .values("commission_id")
        .annotate(amount=Sum("amount_fen"), pending=Sum("pending_delta"))
    }
    settled_pending = {
        r["commission_id"]: r["pending"] or 0
        for r in CommissionEntry.objects.filter(commission__isnull=False, kind="settled")
        .values("commission_id")
        .annotate(pending=Sum("pending_delta"))
    }
    per_ld = {
        r["dividend_id"]: r["amount"] or 0
        for r in CommissionEntry.objects.filter(dividend__isnull=False)
        .values("dividend_id")
        .annotate(amount=Sum("amount_fen"))
    }
    dividends: dict[int, list[LineDividend]] = defaultdict(list)
    for ld in LineDividend.objects.order_by("pk"):
        dividends[ld.line_id].append(ld)
    by_order: dict[int, list[LineCommission]] = defaultdict(list)
    for lc in LineCommission.objects.all():
        by_order[lc.order_id].append(lc)
    for order in Order.objects.filter(pk__in=list(by_order)):
        lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
        nets = net_amounts(order, lines)
        per_line: dict[int, list[LineCommission]] = defaultdict(list)
        for lc in by_order[order.pk]:
            per_line[lc.line_id].append(lc)
        for line_id, lcs in per_line.items():
            net, units = nets[line_id]
            amounts = line_amounts(
                net_fen=net, units=units, rates={lc.level: Rate(bps=lc.rate_bps, unit_fen=lc.unit_fen) for lc in lcs}
            )
            for lc in lcs:
                rep.lines += 1
                expect = amounts[lc.level].amount_fen
                amount, pending = per_lc.get(lc.pk, (0, 0))
                pending += settled_pending.get(lc.pk, 0)
                if lc.target_fen != expect:
                    rep.drift.append(f"line commission {lc.pk}: target {lc.target_fen} != recomputed {expect}")
                if amount != expect:
                    rep.drift.append(f"line commission {lc.pk}: entries sum {amount} != recomputed {expect}")
                if pending != (0 if lc.settled else expect):
                    rep.drift.append(f"line commission {lc.pk}: pending {pending} (settled={lc.settled})")
            room = bps_of(net, MAX_COMMISSION_SHARE_BPS) - sum(a.amount_fen for a in amounts.values())
            for ld in dividends.get(line_id, []):
                expect = max(min(bps_of(net, ld.rate_bps), room), 0)
                room -= expect
                if ld.target_fen != expect or per_ld.get(ld.pk, 0) != expect:
                    rep.drift.append(
                        f"dividend {ld.pk}: target {ld.target_fen}, entries {per_ld.get(ld.pk, 0)}, recomputed {expect}"
                    )
            if room < 0:
                rep.drift.append(f"line {line_id}: commission over the 30 % cap by {-room}")
    return rep
