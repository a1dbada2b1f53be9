"""Commission on order lines (SPEC M6, U6; issue 11 points 2–4).

One idempotent operation, ``sync_order_commission``, makes the ledger agree with the order as
it is now, whatever order events arrived in:

1. The first time (the order's payment, or a refund that overtook it) the earners and their
   rates are snapshotted per line and level (``LineCommission``): who holds the buyer under the
   store's self-purchase and binding rules, and the rate by the one precedence
   (``rules.resolve_rate``).
2. Every time, each line's commission is recomputed on its net paid amount (its share of what
   the order paid for goods, less its successful refunds; shipping excluded) within the 30 %
   cap (``rules.line_amounts``). The difference from what the ledger already holds for that
   line and level is appended: before settlement it changes the pending amount (``accrued`` /
   ``adjusted``); after settlement it is a claw-back from the promoter's balance, which may go
   below zero (``clawback``, policy "net off"), or is recorded as borne by the merchant
   (``absorbed``).

``mall.orders`` publishes the hooks (``order_paid``, ``order_line_refunded``); the outbox
handlers below subscribe (settings ``ORDER_PAID_HANDLERS`` / ``ORDER_LINE_REFUNDED_HANDLERS``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from core.money import bps_of
from mall.orders.models import Order, OrderLine, OrderStatus
from mall.promoters import ledger
from mall.promoters.binding import bind_on_payment
from mall.promoters.models import (
    ClawbackPolicy,
    DistributionSettings,
    EntryKind,
    LineCommission,
    LineDividend,
    PayoutMode,
    Promoter,
    PromoterStatus,
    SelfPurchaseMode,
)
from mall.promoters.rules import LEVELS, MAX_COMMISSION_SHARE_BPS, Rate, line_amounts, resolve_rate

COMMISSION_KINDS = (EntryKind.ACCRUED, EntryKind.ADJUSTED, EntryKind.CLAWBACK, EntryKind.ABSORBED, EntryKind.DIVIDEND)


def earners(*, order: Order, ds: DistributionSettings) -> dict[int, Promoter]:
    """Who earns at each level on ``order`` (U6): never more than two, never a frozen promoter."""
    if not ds.enabled:
        return {}
    buyer = Promoter.objects.select_related("parent__parent").filter(customer_id=order.customer_id).first()
    chain: list[Promoter | None]
    if buyer is not None and buyer.status == PromoterStatus.ACTIVE:
        parent = buyer.parent
        if ds.self_purchase == SelfPurchaseMode.REBATE_ON:
            chain = [buyer, parent]
        elif ds.self_purchase == SelfPurchaseMode.REBATE_OFF:
            chain = [parent, parent.parent if parent else None]
        else:  # discount: the level-1 amount came off the price at checkout; the parent earns level 2
            chain = [None, parent]
    elif order.promoter_id:
        holder = Promoter.objects.select_related("parent").get(pk=order.promoter_id)
        chain = [holder, holder.parent]
    else:
        return {}
    out = {}
    for level, promoter in zip(LEVELS, chain, strict=False):
        if level > ds.levels or promoter is None or promoter.status != PromoterStatus.ACTIVE:
            continue
        if promoter.customer_id == order.customer_id and ds.self_purchase == SelfPurchaseMode.REBATE_OFF:
            continue
        out[level] = promoter
    return out


def _category_rates(product) -> tuple[int | None, int | None]:
    r1 = r2 = None
    cat = product.category
    while cat is not None:
        r1 = r1 if r1 is not None else cat.commission_l1_bps
        r2 = r2 if r2 is not None else cat.commission_l2_bps
        cat = cat.parent
    return r1, r2


def line_rate(*, level: int, promoter: Promoter, product, ds: DistributionSettings) -> Rate:
    c1, c2 = _category_rates(product)
    return resolve_rate(
        level=level,
        global_bps=ds.level1_bps if level == 1 else ds.level2_bps,
        category_bps=c1 if level == 1 else c2,
        product_bps=product.commission_l1_bps if level == 1 else product.commission_l2_bps,
        product_unit_fen=product.commission_l1_fen if level == 1 else product.commission_l2_fen,
        override_bps=promoter.level1_override_bps if level == 1 else promoter.level2_override_bps,
        grade_bonus_bps=promoter.grade.bonus_bps if promoter.grade_id else 0,
    )


def net_amounts(order: Order, lines: list[OrderLine]) -> dict[int, tuple[int, int]]:
    """``{line id: (net paid fen, units not refunded)}``: the line's share of what the order paid
    for goods (``payments.refundable.line_paid_amounts``) less its successful refunds."""
    from mall.payments.models import RefundLine, RefundStatus
    from mall.payments.refundable import line_paid_amounts

    paid = line_paid_amounts(order, lines) if order.paid_fen else {line.pk: 0 for line in lines}
    refunded = {
        r["line_id"]: (r["amount"] or 0, r["quantity"] or 0)
        for r in RefundLine.objects.filter(
            line__order=order, refund__status=RefundStatus.SUCCESS, refund__payment__is_duplicate=False
        )
        .values("line_id")
        .annotate(amount=Sum("amount_fen"), quantity=Sum("quantity"))
    }
    out = {}
    for line in lines:
        amount, quantity = refunded.get(line.pk, (0, 0))
        out[line.pk] = (max(paid[line.pk] - amount, 0), max(line.quantity - quantity, 0))
    return out


def _snapshot(order: Order, lines: list[OrderLine], ds: DistributionSettings) -> list[LineCommission]:
    who = earners(order=order, ds=ds)
    if not who:
        return []
    made = []
    for line in lines:
        product = line.product
        if not product.is_distributable:
            continue
        for level, promoter in who.items():
            rate = line_rate(level=level, promoter=promoter, product=product, ds=ds)
            made.append(
                LineCommission(
                    line=line,
                    order=order,
                    level=level,
                    promoter=promoter,
                    rate_bps=rate.bps,
                    unit_fen=rate.unit_fen,
                    rate_source=rate.source,
                )
            )
    return LineCommission.objects.bulk_create(made)


def sync_order_commission(*, order_id: int, refund_id: int | None = None) -> int:
    """Make the ledger agree with the order now (see the module docstring); returns the number
    of entries appended. Idempotent: a second call with nothing changed appends nothing."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.paid_at is None:
            return 0
        ds = DistributionSettings.current()
        lines = list(OrderLine.objects.filter(order=order).select_related("product__category__parent").order_by("pk"))
        commissions = list(LineCommission.objects.select_for_update().filter(order=order).order_by("line_id", "level"))
        fresh: set[int] = set()
        if not commissions:
            if order.commission_checked_at is not None:
                return 0  # looked at once (at payment): no earner then, none later
            bind_on_payment(order=order, ds=ds)
            commissions = _snapshot(order, lines, ds)
            fresh = {lc.pk for lc in commissions}
            Order.objects.filter(pk=order.pk).update(commission_checked_at=timezone.now())
        if not commissions:
            return 0
        nets = net_amounts(order, lines)
        by_line: dict[int, list[LineCommission]] = defaultdict(list)
        for lc in commissions:
            by_line[lc.line_id].append(lc)
        dividends: dict[int, list[LineDividend]] = defaultdict(list)
        for ld in LineDividend.objects.select_for_update().filter(order=order).order_by("pk"):
            dividends[ld.line_id].append(ld)
        written = 0
        for line_id, lcs in by_line.items():
            net, units = nets[line_id]
            amounts = line_amounts(
                net_fen=net, units=units, rates={lc.level: Rate(bps=lc.rate_bps, unit_fen=lc.unit_fen) for lc in lcs}
            )
            for lc in lcs:
                new = amounts[lc.level]
                diff = new.amount_fen - lc.target_fen
                base_diff = net - lc.base_fen
                if diff == 0 and base_diff == 0 and new.cut_fen == lc.cut_fen:
                    continue
                if diff:
                    written += _book(
                        promoter_id=lc.promoter_id, diff=diff, settled=lc.settled, first=lc.pk in fresh, ds=ds,
                        order_id=order.pk, line_id=line_id, commission=lc, level=lc.level, rate_bps=lc.rate_bps,
                        base_fen=net, cut_fen=new.cut_fen, refund_id=refund_id,
                    )  # fmt: skip
                if lc.level == 1 and base_diff:
                    Promoter.objects.filter(pk=lc.promoter_id).update(sales_fen=F("sales_fen") + base_diff)
                lc.target_fen, lc.base_fen, lc.cut_fen = new.amount_fen, net, new.cut_fen
                lc.save(update_fields=["target_fen", "base_fen", "cut_fen"])
            # Team dividends take what the cap leaves after levels 1 and 2 (cut first).
            room = bps_of(net, MAX_COMMISSION_SHARE_BPS) - sum(a.amount_fen for a in amounts.values())
            for ld in dividends.get(line_id, []):
                want = bps_of(net, ld.rate_bps)
                target = max(min(want, room), 0)
                room -= target
                diff = target - ld.target_fen
                if diff:
                    written += _book(
                        promoter_id=ld.promoter_id, diff=diff, settled=True, first=ld.target_fen == 0
                        and not ld.entries.exists(), ds=ds, order_id=order.pk, line_id=line_id, dividend=ld,
                        rate_bps=ld.rate_bps, base_fen=net, cut_fen=want - target, refund_id=refund_id,
                        first_kind=EntryKind.DIVIDEND,
                    )  # fmt: skip
                if diff or ld.base_fen != net or ld.cut_fen != want - target:
                    ld.target_fen, ld.base_fen, ld.cut_fen = target, net, want - target
                    ld.save(update_fields=["target_fen", "base_fen", "cut_fen"])
        return written


def _book(*, promoter_id: int, diff: int, settled: bool, first: bool, ds, first_kind: str = "", **common) -> int:
    """Append the entry for a change of ``diff`` fen in what a line owes a promoter: before
    settlement a pending change (accrued / adjusted); after it, money on the balance: a first
    booking (``first_kind``: a dividend), a claw-back (net-off policy, may go below zero) or a
    loss the merchant absorbs (recorded, no balance moves)."""
    if not settled:
        kind = EntryKind.ACCRUED if first else EntryKind.ADJUSTED
        ledger.append(promoter_id=promoter_id, kind=kind, amount_fen=diff, pending=diff, **common)
    elif first and first_kind:
        ledger.append(promoter_id=promoter_id, kind=first_kind, amount_fen=diff, available=diff, **common)
    elif diff > 0 or ds.clawback == ClawbackPolicy.NET_OFF:
        ledger.append(promoter_id=promoter_id, kind=EntryKind.CLAWBACK, amount_fen=diff, available=diff,
                      note=_("结算后退款，从余额扣回"), **common)  # fmt: skip
    else:
        ledger.append(promoter_id=promoter_id, kind=EntryKind.ABSORBED, amount_fen=diff,
                      note=_("结算后退款，商家承担"), **common)  # fmt: skip
    return 1


# -- outbox subscribers of mall.orders.hooks -------------------------------------------------
@outbox.handler
def commission_paid_order(*, order_id: int) -> None:
    sync_order_commission(order_id=order_id)


@outbox.handler
def commission_refunded_line(*, line_id: int, refund_id: int, amount_fen: int, quantity: int) -> None:
    order_id = OrderLine.objects.filter(pk=line_id).values_list("order_id", flat=True).first()
    if order_id is not None:
        sync_order_commission(order_id=order_id, refund_id=refund_id)


# -- settlement (T+N after completion, with a real track or redemption: SPEC M6, M8) ---------
def due_commissions(*, now: datetime | None = None):
    """Unsettled line commissions whose order completed ``settle_days`` ago, has a real
    logistics track (physical) and a redemption (service), and no open after-sales case; their
    promoter is not frozen."""
    from mall.payments.models import OPEN_REFUND_STATES, Refund

    now = now or timezone.now()
    ds = DistributionSettings.current()
    cutoff = now - timedelta(days=ds.settle_days)
    open_refund = Refund.objects.filter(order_id=OuterRef("order_id"), status__in=OPEN_REFUND_STATES)
    return (
        LineCommission.objects.filter(
            settled=False,
            order__status=OrderStatus.COMPLETED,
            order__completed_at__lte=cutoff,
            promoter__status=PromoterStatus.ACTIVE,
        )
        .filter(Q(order__has_physical=False) | Q(order__has_real_track=True))
        .filter(Q(order__has_service=False) | Q(order__redeemed_at__isnull=False))
        .exclude(Exists(open_refund))
    )


def settle_due(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Settle every due line commission: a ``settled`` entry moves its amount from pending to
    available. Returns how many line commissions were settled. Safe to run concurrently: each
    batch locks its rows with SKIP LOCKED, then its promoters in id order (no deadlock with
    another batch or with ``ledger.append``)."""
    total = 0
    ps_mode = DistributionSettings.current().payout_mode == PayoutMode.PROFIT_SHARING
    while True:
        with transaction.atomic():
            rows = list(
                due_commissions(now=now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", "promoter_id")[:batch]
            )
            if not rows:
                return total
            total += _settle([pk for pk, _ in rows], sorted({p for _, p in rows}), split=ps_mode)


# One statement per batch, all inside PostgreSQL (measured by bench/commission.py: about twice
# as fast as building the entries in Python): mark the batch settled, append its ``settled``
# entries, move the promoters' balances; answer what was settled (for the profit-sharing mode).
_SETTLE_SQL = """
WITH upd AS (
    UPDATE promoters_linecommission lc SET settled = true
    WHERE lc.id = ANY(%(ids)s) AND NOT lc.settled
    RETURNING lc.id, lc.promoter_id, lc.order_id, lc.line_id, lc.level, lc.rate_bps, lc.base_fen, lc.target_fen
), ins AS (
    INSERT INTO promoters_commissionentry (promoter_id, kind, order_id, line_id, commission_id, level, rate_bps,
        base_fen, amount_fen, cut_fen, pending_delta, available_delta, inflight_delta, withdrawn_delta, note, created)
    SELECT promoter_id, %(kind)s, order_id, line_id, id, level, rate_bps, base_fen, target_fen,
           0, -target_fen, target_fen, 0, 0, '', now()
    FROM upd WHERE target_fen <> 0
), bal AS (
    UPDATE promoters_promoter p SET pending_fen = p.pending_fen - s.amount, available_fen = p.available_fen + s.amount
    FROM (SELECT promoter_id, sum(target_fen) AS amount FROM upd GROUP BY promoter_id HAVING sum(target_fen) <> 0) s
    WHERE p.id = s.promoter_id
)
SELECT promoter_id, order_id, target_fen FROM upd
"""


def _settle(ids: list[int], promoter_ids: list[int], *, split: bool = False) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id FROM promoters_promoter WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [promoter_ids])
        cur.execute(_SETTLE_SQL, {"ids": ids, "kind": EntryKind.SETTLED})
        settled = cur.fetchall()
    if split:
        from mall.promoters.profit_sharing import split_settled

        split_settled(rows=settled)
    return len(settled)


# -- self-purchase in "discount" mode (U6): the level-1 amount comes off the price ------------
def self_purchase_discount(*, customer, lines: list[OrderLine], ds: DistributionSettings | None = None) -> int:
    """What an active promoter's own checkout takes off the goods when the store's self-purchase
    rule is "discount": its level-1 commission on each distributable line (within the cap, with
    its parent's level 2), computed on the line amounts as sold. 0 for anyone else."""
    ds = ds or DistributionSettings.current()
    if not ds.enabled or ds.self_purchase != SelfPurchaseMode.DISCOUNT:
        return 0
    buyer = (
        Promoter.objects.select_related("grade", "parent__grade")
        .filter(customer_id=customer.pk, status=PromoterStatus.ACTIVE)
        .first()
    )
    if buyer is None:
        return 0
    parent = buyer.parent if buyer.parent_id and buyer.parent.status == PromoterStatus.ACTIVE else None
    total = 0
    for line in lines:
        product = line.product
        if not product.is_distributable:
            continue
        rates = {1: line_rate(level=1, promoter=buyer, product=product, ds=ds)}
        if parent is not None and ds.levels >= 2:
            rates[2] = line_rate(level=2, promoter=parent, product=product, ds=ds)
        total += line_amounts(net_fen=line.amount_fen, units=line.quantity, rates=rates)[1].amount_fen
    return total


# -- team dividends (M6): monthly, on the settled sales of a leader's two-level team ---------
def book_team_dividends(*, period_start: datetime, period_end: datetime) -> int:
    """For each active promoter whose two-level team (its level-1 and level-2 downline; never
    deeper) sold at least the store's threshold in [period_start, period_end) — sales being the
    net paid amounts of lines the team members earned level 1 on, paid in the period and
    settled — book a dividend of the store's rate on each of those lines, within what the 30 %
    cap leaves. Idempotent: a line pays one leader's dividend once. Returns the lines booked."""
    ds = DistributionSettings.current()
    if not ds.enabled or not ds.dividend_enabled:
        return 0
    team_lines = (
        LineCommission.objects.filter(
            level=1, settled=True, order__paid_at__gte=period_start, order__paid_at__lt=period_end
        )
        .values_list("line_id", "order_id", "promoter_id", "promoter__parent_id", "promoter__parent__parent_id",
                     "base_fen")
    )  # fmt: skip
    team_lines = list(team_lines)
    sales: dict[int, int] = defaultdict(int)
    for _line, _order, _earner, parent_id, grand_id, base in team_lines:
        for leader in (parent_id, grand_id):
            if leader:
                sales[leader] += base
    leaders = set(
        Promoter.objects.filter(
            pk__in=[p for p, s in sales.items() if s >= ds.dividend_threshold_fen], status=PromoterStatus.ACTIVE
        ).values_list("pk", flat=True)
    )
    booked = 0
    orders: set[int] = set()
    # Line by line, the nearer leader first (the parent's team before the grandparent's): when
    # the cap leaves room for one dividend only, the nearer leader gets it.
    for line_id, order_id, _earner, parent_id, grand_id, _base in sorted(team_lines):
        for leader in (parent_id, grand_id):
            if leader not in leaders:
                continue
            _, made = LineDividend.objects.get_or_create(
                line_id=line_id,
                promoter_id=leader,
                defaults={"order_id": order_id, "period": period_start.date(), "rate_bps": ds.dividend_bps},
            )
            if made:
                booked += 1
                orders.add(order_id)
    for order_id in sorted(orders):
        sync_order_commission(order_id=order_id)
    return booked


def book_last_month_dividends(*, today: date | None = None) -> int:
    """The beat's call: last month's dividends (late settlements are picked up on later runs)."""
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    tz = timezone.get_current_timezone()
    start = datetime.combine(last_month, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(this_month, datetime.min.time(), tzinfo=tz)
    return book_team_dividends(period_start=start, period_end=end)


def wants_profit_sharing(*, customer, promoter: Promoter | None, ds: DistributionSettings | None = None) -> bool:
    """Whether a new order is paid with ``settle_info.profit_sharing``: the store pays commission
    by splitting orders, and someone may earn on this one (a distribution source, or a buyer who
    is a promoter). Other orders are not frozen at WeChat for nothing."""
    ds = ds or DistributionSettings.current()
    if not ds.enabled or ds.payout_mode != PayoutMode.PROFIT_SHARING:
        return False
    return (
        promoter is not None or Promoter.objects.filter(customer_id=customer.pk, status=PromoterStatus.ACTIVE).exists()
    )
