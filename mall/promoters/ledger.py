"""The append-only commission ledger (house rule 5): ``append`` is the only writer of
``CommissionEntry`` and of a promoter's cached balances, in the caller's transaction."""

from __future__ import annotations

from django.db import connection
from django.db.models import F, Sum

from mall.promoters.models import CommissionEntry, Promoter

BUCKETS = ("pending", "available", "inflight", "withdrawn")


def append(
    *, promoter_id: int, kind: str, amount_fen: int, pending=0, available=0, inflight=0, withdrawn=0, **fields
) -> CommissionEntry:
    """Write one entry and move the promoter's balances by its deltas (one UPDATE)."""
    if not connection.in_atomic_block:
        raise RuntimeError("ledger.append must run inside the action's transaction")
    entry = CommissionEntry.objects.create(
        promoter_id=promoter_id,
        kind=kind,
        amount_fen=amount_fen,
        pending_delta=pending,
        available_delta=available,
        inflight_delta=inflight,
        withdrawn_delta=withdrawn,
        **fields,
    )
    changes = {
        f"{b}_fen": F(f"{b}_fen") + d
        for b, d in zip(BUCKETS, (pending, available, inflight, withdrawn), strict=True)
        if d
    }
    if changes:
        Promoter.objects.filter(pk=promoter_id).update(**changes)
    return entry


def balances_from_entries(promoter_id: int | None = None) -> dict[int, dict[str, int]]:
    """Each promoter's balances summed from its entries (the reconciliation's truth)."""
    qs = CommissionEntry.objects.all()
    if promoter_id is not None:
        qs = qs.filter(promoter_id=promoter_id)
    rows = qs.values("promoter_id").annotate(
        pending=Sum("pending_delta"),
        available=Sum("available_delta"),
        inflight=Sum("inflight_delta"),
        withdrawn=Sum("withdrawn_delta"),
    )
    return {r["promoter_id"]: {b: r[b] or 0 for b in BUCKETS} for r in rows}
