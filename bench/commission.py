"""Commission benchmark (issue 11 point 10): settlement at volume, and commissioned orders over HTTP.

    BENCH_DATABASE=fz_bench_comm_run BENCH_REDIS_DB=8 \\
      .venv/bin/python -m infra.devstack exec .venv/bin/python bench/commission.py [--part all]

Runs on the bench database and Redis database of bench/_common.py (set ``BENCH_DATABASE`` /
``BENCH_REDIS_DB`` for a run beside someone else's), after ``migrate_all`` + ``seed_demo``, in
the demo store 鲜果园 (``xianguo``). Two parts (``--part settle``, ``--part orders``, ``--part all``):

1. **settle**: ``--promoters`` promoters (one in ten a root; every other one's parent is a root)
   and ``--entries`` pending line commissions (orders of 2 lines, 2 levels per line: the line's
   earner and its parent), each with its ``accrued`` ledger entry, and the promoters' pending
   balances and sales to match. The orders completed 30 days ago with a real track. All of this
   is FIXTURE DATA written with ``bulk_create`` and one UPDATE (not through the actions: that
   would take the whole run); the amounts are the engine's own formula (``rules.line_amounts``),
   so the ledger reconciles. Timed: ``settle_due()`` (the beat's call, unchanged), then
   ``reconcile()`` on the schema. Figures: ``settle_entries_per_s``, ``settle_seconds``,
   ``entries``, ``promoters``, ``reconcile_drift``, ``reconcile_seconds``, and where settle's
   time went per statement kind (``settle_sql_*_s``, measured with a Django execute wrapper:
   one ``perf_counter`` pair per statement, ~160 statements in all; commits timed too;
   ``settle_python_s`` is the rest: Python in Django and the engine). ``--profile`` also runs it
   under cProfile and prints EXPLAIN ANALYZE of the due query (stderr). The fixture is deleted
   at the end (``--keep`` keeps it) so that later reconciles do not walk it again.
   ``--settle-impl proposed`` times instead a prototype of the set-based settlement proposed in
   bench/RESULTS.md (one statement per batch; ``--batch``, ``--async-commit``), for comparison.

2. **orders**: as bench/orders.py (its helpers are imported from it), gunicorn + the WeChat
   emulator + ``--clients`` load processes doing checkout then the signed pay notify, but every
   client's shopper is bound (``record_touch``, source ``link``) to a promoter made with
   ``make_promoter`` under a parent promoter, and a Celery worker (``celery -A config worker``,
   the default queue ``celery``, concurrency 2, as infra/devstack starts it) runs during the load
   and delivers the outbox messages (``commission_paid_order`` and ``count_sales``). After the
   load the bench waits up to ``--drain`` (60) seconds for both LineCommission rows of every
   answered order. Figures: ``commissioned_orders_per_s`` (notify answered 200 AND both rows
   there at the end, per measured second), ``orders_per_s``, ``p95_ms`` (checkout + notify),
   ``commission_lag_p50_ms`` / ``commission_lag_p95_ms`` (LineCommission.created − the order's
   ``paid`` OrderEvent.created: Order.paid_at is WeChat's success_time, whole seconds only),
   ``drain_seconds``, ``reconcile_drift``.

stdout carries only key=value lines; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import multiprocessing
import os
import pstats
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import ROOT, emit, log, machine_figures, setup_django

VENV_BIN = Path(sys.executable).parent
TENANT_SLUG = "xianguo"
SETTLE_PREFIX = "bench-comm-settle-"  # openid prefix of the settle fixture's customers
PRICES = (990, 1990, 2590, 4990, 12800)


def _tenant():
    from tenants.models import Tenant

    return Tenant.objects.get(slug=TENANT_SLUG)


def seed() -> None:
    from django.core.management import call_command

    log("migrate_all + seed_demo on the bench database (first run: a minute or two)…")
    call_command("migrate_all", verbosity=0, stdout=sys.stderr)
    call_command("seed_demo", stdout=sys.stderr)


# -- part 1: settlement -------------------------------------------------------------------------
def _tables():
    from mall.customers.models import Customer
    from mall.orders.models import Order, OrderLine
    from mall.promoters.models import CommissionEntry, LineCommission, Promoter

    return {m.__name__: m._meta.db_table for m in (Customer, Order, OrderLine, CommissionEntry, LineCommission,
                                                    Promoter)}  # fmt: skip


def delete_settle_fixture() -> None:
    """Remove the settle fixture of this or an earlier run (raw SQL: fixture data only)."""
    from django.db import connection, transaction

    t = _tables()
    like = SETTLE_PREFIX + "%"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SELECT id FROM {t['Customer']} WHERE openid LIKE %s", [like])
        customers = [r[0] for r in cur.fetchall()]
        if not customers:
            return
        cur.execute(f"SELECT id FROM {t['Promoter']} WHERE customer_id = ANY(%s)", [customers])
        promoters = [r[0] for r in cur.fetchall()]
        cur.execute(f"SELECT id FROM {t['Order']} WHERE customer_id = ANY(%s)", [customers])
        orders = [r[0] for r in cur.fetchall()]
        cur.execute(f"DELETE FROM {t['CommissionEntry']} WHERE promoter_id = ANY(%s)", [promoters])
        cur.execute(f"DELETE FROM {t['LineCommission']} WHERE promoter_id = ANY(%s)", [promoters])
        cur.execute(f"DELETE FROM {t['OrderLine']} WHERE order_id = ANY(%s)", [orders])
        cur.execute(f"DELETE FROM {t['Order']} WHERE id = ANY(%s)", [orders])
        cur.execute(f"UPDATE {t['Promoter']} SET parent_id = NULL WHERE id = ANY(%s)", [promoters])
        cur.execute(f"DELETE FROM {t['Promoter']} WHERE id = ANY(%s)", [promoters])
        cur.execute(f"DELETE FROM {t['Customer']} WHERE id = ANY(%s)", [customers])
    log(f"deleted an earlier settle fixture: {len(promoters)} promoters, {len(orders)} orders")


def build_settle_fixture(*, entries: int, promoters: int) -> dict:
    """FIXTURE DATA, written in bulk (bulk_create + one UPDATE), not through the actions: the
    promoters, the completed orders and lines, the pending line commissions, their ``accrued``
    entries and the promoters' cached balances, consistent with each other and with the
    engine's formula so that ``reconcile()`` finds no drift."""
    from django.db import connection, transaction
    from django.utils import timezone

    from mall.catalog.actions import create_product
    from mall.customers.models import Customer
    from mall.orders.models import Order, OrderLine, OrderStatus
    from mall.promoters.models import CommissionEntry, EntryKind, LineCommission, Promoter, PromoterStatus
    from mall.promoters.rules import Rate, line_amounts

    tag = uuid.uuid4().hex[:6]
    now = timezone.now()
    paid_at, completed_at = now - timedelta(days=40), now - timedelta(days=30)
    rates = {1: Rate(bps=1000), 2: Rate(bps=300)}
    n_lines = max(entries // 2, 1)
    n_orders = (n_lines + 1) // 2
    roots = max(promoters // 10, 1)
    with transaction.atomic():
        product = create_product(
            title=f"分佣压测 {tag}", weight_g=500, skus=[{"name": "标准装", "price_fen": 1990, "stock": 1_000_000}]
        )
        sku = product.skus.get()
        made = Customer.objects.bulk_create(
            [Customer(openid=f"{SETTLE_PREFIX}{tag}-p{i}") for i in range(promoters)]
            + [Customer(openid=f"{SETTLE_PREFIX}{tag}-s{i}") for i in range(promoters)],
            batch_size=2000,
        )
        p_customers, shoppers = made[:promoters], made[promoters:]
        proms = Promoter.objects.bulk_create(
            [
                Promoter(customer=c, invite_code=f"S{tag}{i:05d}"[:12], status=PromoterStatus.ACTIVE, reviewed_at=now)
                for i, c in enumerate(p_customers)
            ],
            batch_size=2000,
        )
        for i, p in enumerate(proms[roots:]):
            p.parent_id = proms[i % roots].pk
        Promoter.objects.bulk_update(proms[roots:], ["parent"], batch_size=2000)
        earners = proms[roots:] or proms  # level-1 earners: those with a parent
        order_objs = []
        line_specs = []  # per order: [(price, quantity), ...]
        for k in range(n_orders):
            specs = [(PRICES[(2 * k + j) % len(PRICES)], 1 + (k + j) % 3) for j in range(2)]
            if 2 * k + 1 >= n_lines:
                specs = specs[: n_lines - 2 * k]
            goods = sum(p * q for p, q in specs)
            earner = earners[k % len(earners)]
            order_objs.append(
                Order(
                    order_no=f"BC{tag}{k:09d}",
                    customer_id=shoppers[k % len(shoppers)].pk,
                    promoter_id=earner.pk,
                    status=OrderStatus.COMPLETED,
                    goods_fen=goods,
                    total_fen=goods,
                    paid_fen=goods,
                    has_physical=True,
                    has_real_track=True,
                    paid_at=paid_at,
                    shipped_at=paid_at + timedelta(days=1),
                    delivered_at=paid_at + timedelta(days=3),
                    completed_at=completed_at,
                    commission_checked_at=paid_at,
                )
            )
            line_specs.append(specs)
        orders = Order.objects.bulk_create(order_objs, batch_size=5000)
        line_objs = []
        for order, specs in zip(orders, line_specs, strict=True):
            for price, qty in specs:
                line_objs.append(
                    OrderLine(order_id=order.pk, product_id=product.pk, sku_id=sku.pk, title=product.title,
                              sku_name="标准装", unit_price_fen=price, quantity=qty, amount_fen=price * qty)
                )  # fmt: skip
        lines = OrderLine.objects.bulk_create(line_objs, batch_size=5000)
        parent_of = {p.pk: p.parent_id for p in proms}
        earner_of = {o.pk: o.promoter_id for o in orders}
        lcs = []
        for line in lines:
            amounts = line_amounts(net_fen=line.amount_fen, units=line.quantity, rates=rates)
            l1 = earner_of[line.order_id]
            for level, promoter_id in ((1, l1), (2, parent_of[l1])):
                a = amounts[level]
                lcs.append(
                    LineCommission(line_id=line.pk, order_id=line.order_id, level=level, promoter_id=promoter_id,
                                   rate_bps=rates[level].bps, rate_source="global", base_fen=line.amount_fen,
                                   target_fen=a.amount_fen, cut_fen=a.cut_fen)
                )  # fmt: skip
        lcs = LineCommission.objects.bulk_create(lcs[:entries], batch_size=5000)
        CommissionEntry.objects.bulk_create(
            [
                CommissionEntry(promoter_id=lc.promoter_id, kind=EntryKind.ACCRUED, order_id=lc.order_id,
                                line_id=lc.line_id, commission_id=lc.pk, level=lc.level, rate_bps=lc.rate_bps,
                                base_fen=lc.base_fen, amount_fen=lc.target_fen, cut_fen=lc.cut_fen,
                                pending_delta=lc.target_fen)
                for lc in lcs
                if lc.target_fen
            ],
            batch_size=5000,
        )  # fmt: skip
        pending: dict[int, int] = defaultdict(int)
        sales: dict[int, int] = defaultdict(int)
        for lc in lcs:
            pending[lc.promoter_id] += lc.target_fen
            if lc.level == 1:
                sales[lc.promoter_id] += lc.base_fen
        ids = sorted(pending)
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {Promoter._meta.db_table} AS p SET pending_fen = p.pending_fen + v.pending, "
                "sales_fen = p.sales_fen + v.sales "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, pending, sales) WHERE p.id = v.id",
                [ids, [pending[i] for i in ids], [sales.get(i, 0) for i in ids]],
            )
    return {"orders": len(orders), "lines": len(lines), "commissions": len(lcs), "promoters": len(pending)}


class SqlTimer:
    """Execute wrapper: wall time per statement kind (first words of the SQL)."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    @staticmethod
    def kind(sql: str) -> str:
        s = sql.lstrip().upper()
        if s.startswith("SELECT"):
            if "FOR UPDATE" in s:
                return "select_due_for_update"
            return "select_rows"
        if s.startswith("INSERT"):
            return "insert_entries"
        if s.startswith("UPDATE"):
            if "UNNEST" in s:
                return "update_balances"
            return "update_settled"
        if s.startswith("WITH"):
            return "proposed_batch"
        if s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET")):
            return "transaction"
        return "other"

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            k = self.kind(sql)
            self.seconds[k] += time.perf_counter() - t0
            self.count[k] += 1


def explain_due() -> None:
    """EXPLAIN ANALYZE of the first batch's due query (rolled back: its row locks go with it)."""
    from django.db import connection, transaction

    from mall.promoters.commission import due_commissions

    try:
        with transaction.atomic(), connection.cursor() as cur:
            qs = due_commissions().select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)
            sql, params = qs[:5000].query.sql_with_params()
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            log("EXPLAIN ANALYZE of the due query (first batch):\n" + "\n".join(r[0] for r in cur.fetchall()))
            raise _Rollback
    except _Rollback:
        pass


class _Rollback(Exception):
    pass


# -- the proposed set-based settlement (a PROTOTYPE for the report, not the engine's code) --------
PROPOSED_BATCH_SQL = """
WITH due AS (
    SELECT lc.id FROM {lc} lc
    JOIN {order} o ON o.id = lc.order_id
    JOIN {promoter} p ON p.id = lc.promoter_id
    WHERE NOT lc.settled AND o.status = %(completed)s AND o.completed_at <= %(cutoff)s AND p.status = %(active)s
      AND (NOT o.has_physical OR o.has_real_track) AND (NOT o.has_service OR o.redeemed_at IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM {refund} r WHERE r.order_id = lc.order_id AND r.status = ANY(%(open)s))
    ORDER BY lc.id LIMIT %(batch)s
    FOR UPDATE OF lc SKIP LOCKED
), upd AS (
    UPDATE {lc} lc SET settled = true FROM due WHERE lc.id = due.id
    RETURNING lc.id, lc.promoter_id, lc.order_id, lc.line_id, lc.level, lc.rate_bps, lc.base_fen, lc.target_fen
), ins AS (
    INSERT INTO {entry} (promoter_id, kind, order_id, line_id, commission_id, level, rate_bps, base_fen, amount_fen,
                         cut_fen, pending_delta, available_delta, inflight_delta, withdrawn_delta, note, created)
    SELECT promoter_id, %(settled)s, order_id, line_id, id, level, rate_bps, base_fen, target_fen,
           0, -target_fen, target_fen, 0, 0, '', now()
    FROM upd WHERE target_fen <> 0
), bal AS (
    UPDATE {promoter} p SET pending_fen = p.pending_fen - s.amount, available_fen = p.available_fen + s.amount
    FROM (SELECT promoter_id, sum(target_fen) AS amount FROM upd GROUP BY promoter_id HAVING sum(target_fen) <> 0) s
    WHERE p.id = s.promoter_id
)
SELECT count(*) FROM upd
"""


def settle_due_proposed(*, batch: int = 5000, async_commit: bool = False) -> int:
    """What settle_due does (same due conditions, same entries, same balance moves), as ONE
    statement per batch: the due rows are locked (SKIP LOCKED), marked settled, their
    ``settled`` entries inserted and the promoters' balances moved, all inside PostgreSQL; no
    row comes back to Python. A prototype to measure the proposal; ``reconcile()`` checks it."""
    from django.db import connection, transaction
    from django.utils import timezone

    from mall.orders.models import Order, OrderStatus
    from mall.payments.models import OPEN_REFUND_STATES, Refund
    from mall.promoters.models import (
        CommissionEntry,
        DistributionSettings,
        EntryKind,
        LineCommission,
        Promoter,
        PromoterStatus,
    )

    sql = PROPOSED_BATCH_SQL.format(
        lc=LineCommission._meta.db_table, order=Order._meta.db_table, promoter=Promoter._meta.db_table,
        refund=Refund._meta.db_table, entry=CommissionEntry._meta.db_table,
    )  # fmt: skip
    cutoff = timezone.now() - timedelta(days=DistributionSettings.current().settle_days)
    params = {"completed": OrderStatus.COMPLETED, "cutoff": cutoff, "active": PromoterStatus.ACTIVE,
              "open": list(OPEN_REFUND_STATES), "batch": batch, "settled": EntryKind.SETTLED}  # fmt: skip
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            if async_commit:  # the batch is idempotent (settled flag): losing the last one in a crash is safe
                cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute(sql, params)
            n = cur.fetchone()[0]
        if not n:
            return total
        total += n


def settle_part(args) -> dict:
    from django.db import connection
    from django_tenants.utils import schema_context

    from mall.promoters.commission import settle_due
    from mall.promoters.reconcile import reconcile

    tenant = _tenant()
    out = {}
    with schema_context(tenant.schema_name):
        delete_settle_fixture()
        log(f"settle fixture: {args.promoters} promoters, {args.entries} pending line commissions…")
        t0 = time.perf_counter()
        fx = build_settle_fixture(entries=args.entries, promoters=args.promoters)
        setup_s = time.perf_counter() - t0
        log(f"fixture in {setup_s:.1f} s: {fx}")
        with connection.cursor() as cur:  # fresh statistics, as autovacuum would have by settlement day
            cur.execute("ANALYZE")
        if args.profile:
            explain_due()
        timer = SqlTimer()
        profiler = cProfile.Profile() if args.profile else None
        log("settle_due()…")
        connection.ensure_connection()
        real_commit = connection._commit

        def timed_commit():
            t = time.perf_counter()
            try:
                return real_commit()
            finally:
                timer.seconds["commit"] += time.perf_counter() - t
                timer.count["commit"] += 1

        connection._commit = timed_commit  # the commits are not statements: timed here
        with connection.execute_wrapper(timer):
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            if args.settle_impl == "proposed":
                settled = settle_due_proposed(batch=args.batch, async_commit=args.async_commit)
            else:
                settled = settle_due(batch=args.batch)
            if profiler:
                profiler.disable()
            settle_s = time.perf_counter() - t0
        del connection._commit
        if profiler:
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(35)
            log("cProfile of settle_due (cumulative):\n" + buf.getvalue())
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(25)
            log("cProfile of settle_due (own time):\n" + buf.getvalue())
        log("reconcile()…")
        t0 = time.perf_counter()
        rep = reconcile()
        reconcile_s = time.perf_counter() - t0
        for line in rep.drift[:10]:
            log(f"drift: {line}")
        out.update(
            settle_impl=args.settle_impl,
            settle_batch=args.batch,
            settle_async_commit=args.async_commit,
            fixture_seconds=setup_s,
            entries=settled,
            promoters=fx["promoters"],
            orders=fx["orders"],
            settle_seconds=settle_s,
            settle_entries_per_s=settled / settle_s if settle_s else float("nan"),
        )
        sql_total = 0.0
        for k in sorted(timer.seconds):
            out[f"settle_sql_{k}_s"] = timer.seconds[k]
            out[f"settle_sql_{k}_n"] = timer.count[k]
            sql_total += timer.seconds[k]
        out["settle_sql_total_s"] = sql_total
        out["settle_python_s"] = settle_s - sql_total
        out.update(
            reconcile_drift=len(rep.drift),
            reconcile_seconds=reconcile_s,
            reconcile_lines=rep.lines,
            reconcile_ledger_entries=rep.entries,
        )
        if not args.keep:
            delete_settle_fixture()
    return out


# -- part 2: commissioned orders through HTTP ---------------------------------------------------
def prepare_orders(clients: int) -> dict:
    from django.db import connections
    from django_tenants.utils import schema_context

    from mall.api.auth import issue_token
    from mall.catalog.actions import create_product
    from mall.customers.actions import login_shopper, save_address
    from mall.promoters.actions import make_promoter
    from mall.promoters.binding import record_touch

    tenant = _tenant()
    run = uuid.uuid4().hex[:8]
    with schema_context(tenant.schema_name):
        product = create_product(
            title=f"分佣下单压测 {run[:6]}",
            weight_g=500,
            skus=[{"name": "标准装", "price_fen": 1990, "stock": 10_000_000}],
        )
        sku_id = product.skus.get().pk
        tokens, customer_ids = [], []
        for i in range(clients):
            parent = make_promoter(customer=login_shopper(openid=f"bench-comm-http-{run}-l2-{i}"))
            child = make_promoter(customer=login_shopper(openid=f"bench-comm-http-{run}-l1-{i}"), invited_by=parent)
            customer = login_shopper(openid=f"bench-comm-http-{run}-shopper-{i}")
            _touch, binding = record_touch(customer=customer, promoter=child, source="link")
            if binding is None or binding.promoter_id != child.pk:
                raise RuntimeError("the bench shopper did not bind to its promoter (store rules changed?)")
            save_address(
                customer=customer, receiver=f"分佣压测{i}", phone="13900009999", province="浙江省",
                city="杭州市", district="西湖区", detail="文三路 100 号压测楼",
            )  # fmt: skip
            tokens.append(issue_token(customer))
            customer_ids.append(customer.pk)
    connections.close_all()
    return {"tenant_id": tenant.pk, "schema": tenant.schema_name, "sku_id": sku_id, "tokens": tokens,
            "customer_ids": customer_ids}  # fmt: skip


def client_loop(args) -> list[tuple[float, float, bool, str]]:
    """bench/orders.py's load loop, also returning each order's number:
    (checkout s, notify s, notify answered 200, order_no)."""
    from orders import _signer

    port, token, sku_id, tenant_id, data_dir, mchid, appid, start_at, deadline = args
    signer = _signer(Path(data_dir))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    results = []
    while time.time() < start_at:
        time.sleep(0.01)
    body = json.dumps({"items": [{"sku_id": sku_id, "quantity": 1}]})
    while time.time() < deadline:
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/orders", body=body, headers={
            "Host": f"{TENANT_SLUG}.localhost", "Content-Type": "application/json",
            "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex,
        })  # fmt: skip
        resp = conn.getresponse()
        order = json.loads(resp.read())
        t1 = time.perf_counter()
        if resp.status != 201:
            results.append((t1 - t0, 0.0, False, ""))
            continue
        resource = {
            "appid": appid, "mchid": mchid, "out_trade_no": f"{tenant_id}_{order['order_no']}",
            "transaction_id": "4200" + secrets.token_hex(12), "trade_type": "JSAPI", "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功", "bank_type": "OTHERS",
            "success_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "payer": {"openid": "o-bench"},
            "amount": {"total": order["total_fen"], "payer_total": order["total_fen"], "currency": "CNY"},
        }  # fmt: skip
        notify = json.dumps(
            {
                "id": secrets.token_hex(18),
                "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": signer.encrypt_resource(resource, "transaction", "transaction"),
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Host": "localhost", "Content-Type": "application/json"}
        headers.update(dict(signer.response_headers(notify)))
        conn.request("POST", "/wechat/pay/notify/", body=notify, headers=headers)
        resp = conn.getresponse()
        resp.read()
        t2 = time.perf_counter()
        results.append((t1 - t0, t2 - t1, resp.status == 200, order["order_no"]))
    conn.close()
    return results


def _commission_state(schema: str, order_nos: list[str]) -> dict[str, tuple[int, object, object]]:
    """{order_no: (LineCommission rows, latest LineCommission.created, paid event created)}."""
    from django.db.models import Count, Max
    from django_tenants.utils import schema_context

    from mall.orders.models import Order, OrderEvent, OrderEventKind

    with schema_context(schema):
        rows = (
            Order.objects.filter(order_no__in=order_nos)
            .annotate(n=Count("commissions"), lc_at=Max("commissions__created"))
            .values_list("pk", "order_no", "n", "lc_at")
        )
        rows = list(rows)
        paid = dict(
            OrderEvent.objects.filter(order_id__in=[r[0] for r in rows], kind=OrderEventKind.PAID)
            .values("order_id")
            .annotate(at=Max("created"))
            .values_list("order_id", "at")
        )
    return {no: (n, lc_at, paid.get(pk)) for pk, no, n, lc_at in rows}


def _wait_commissions(schema: str, order_nos: list[str], timeout: float) -> tuple[dict, float]:
    t0 = time.monotonic()
    while True:
        state = _commission_state(schema, order_nos)
        done = sum(1 for n, _a, _b in state.values() if n >= 2)
        if done >= len(order_nos) or time.monotonic() - t0 > timeout:
            return state, time.monotonic() - t0
        time.sleep(0.5)


def purge_stale_messages() -> int:
    """Empty the bench broker's default queue before the worker starts: bench/orders.py (run
    before this one by ``make bench``) publishes commission messages with no worker running, and
    a backlog of them would be delivered during this run's load. The broker is the bench's own
    Redis database (bench/_common.py), never the developer's; their outbox rows stay pending."""
    from config.celery import app

    return app.control.purge() or 0


def start_worker(env: dict, log_path: Path) -> subprocess.Popen:
    cmd = [
        str(VENV_BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2",
        "-n", f"bench-comm-{os.getpid()}@%h",
    ]  # fmt: skip
    fh = open(log_path, "wb")  # noqa: SIM115 (the worker writes to it until it stops)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while b" ready." not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start (see {log_path})")
        time.sleep(0.3)
    return proc


def orders_part(args) -> dict:
    from orders import free_port, pct, start_emulator, wait_http

    info = prepare_orders(args.clients)
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="bench-comm-wechat-"))
    emulator, wx_env, _emu_port = start_emulator(tmp, port)
    env = dict(
        os.environ,
        **{k: str(v) for k, v in wx_env.items()},
        PUBLIC_PORT=str(port),
        DJANGO_SETTINGS_MODULE="bench.settings_bench",
        LOG_LEVEL="WARNING",
    )
    cmd = [
        str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--worker-class", "sync", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    log(f"gunicorn ({args.workers} sync workers) on 127.0.0.1:{port}, Celery worker (-c 2), {args.clients} clients")
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)
    worker = None
    worker_log = tmp / "worker.log"
    try:
        purged = purge_stale_messages()
        log(f"purged {purged} stale messages from the bench broker's queue")
        worker = start_worker(env, worker_log)
        wait_http(port, f"{TENANT_SLUG}.localhost", "/api/v1/store", server)
        mchid, appid = wx_env.get("WECHAT_PAY_MCHID", ""), wx_env.get("WECHAT_PAY_APPID", "")

        def run(seconds: float) -> tuple[list, float]:
            start_at = time.time() + 1.0
            jobs = [
                (port, token, info["sku_id"], info["tenant_id"], str(tmp), mchid, appid, start_at, start_at + seconds)
                for token in info["tokens"]
            ]
            with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
                return [r for chunk in pool.map(client_loop, jobs) for r in chunk], start_at

        if args.warmup > 0:
            warm = [r[3] for r in run(args.warmup)[0] if r[2]]
            _state, waited = _wait_commissions(info["schema"], warm, args.drain)
            log(f"warm-up: {len(warm)} orders, their commissions drained in {waited:.1f} s")
        results, load_start = run(args.seconds)
        load_end = time.time()
        paid_nos = [r[3] for r in results if r[2]]
        log(f"load done: {len(paid_nos)} paid orders; waiting up to {args.drain:.0f} s for their commissions…")
        state, drain_s = _wait_commissions(info["schema"], paid_nos, args.drain)
        drain_end = time.time()
    finally:
        server.send_signal(signal.SIGTERM)
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
        for proc in (server, worker):
            if proc is None:
                continue
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        emulator.terminate()

    from django.db.models import Count
    from django_tenants.utils import schema_context

    from core.models import OutboxMessage
    from mall.payments.models import Payment
    from mall.promoters.reconcile import reconcile

    paid = [r for r in results if r[2]]
    commissioned = [no for no in paid_nos if state.get(no, (0, None, None))[0] == 2]
    over = [no for no in paid_nos if state.get(no, (0, None, None))[0] > 2]
    lags = [
        (lc_at - paid_at).total_seconds()
        for no in commissioned
        for n, lc_at, paid_at in [state[no]]
        if lc_at is not None and paid_at is not None
    ]
    with schema_context(info["schema"]):
        doubles = Payment.objects.values("order_id").annotate(n=Count("id")).filter(n__gt=1).count()
        t0 = time.perf_counter()
        rep = reconcile()
        reconcile_s = time.perf_counter() - t0
    for line in rep.drift[:10]:
        log(f"drift: {line}")
    with schema_context("public"):
        outbox = OutboxMessage.objects.filter(schema_name=info["schema"])
        out_pending = outbox.filter(status="pending").count()
        out_parked = outbox.filter(status="parked").count()
        out_retried = outbox.filter(attempts__gt=1).count()

        def processed(a: float, b: float) -> int:
            return outbox.filter(processed_at__gte=datetime.fromtimestamp(a, UTC),
                                 processed_at__lt=datetime.fromtimestamp(b, UTC)).count()  # fmt: skip

        during_load = processed(load_start, load_start + args.seconds)
        after_load = processed(load_end, drain_end)
    errors = worker_log.read_text(errors="replace").count("ERROR")
    return {
        "workers": args.workers,
        "clients": args.clients,
        "seconds": args.seconds,
        "orders_paid": len(paid),
        "orders_failed": len(results) - len(paid),
        "orders_per_s": len(paid) / args.seconds,
        "p50_ms": pct([a + b for a, b, _ok, _no in paid], 50),
        "p95_ms": pct([a + b for a, b, _ok, _no in paid], 95),
        "checkout_p95_ms": pct([a for a, _b, _ok, _no in paid], 95),
        "notify_p95_ms": pct([b for _a, b, _ok, _no in paid], 95),
        "purged_stale_messages": purged,
        "commissioned_orders": len(commissioned),
        "commissioned_orders_per_s": len(commissioned) / args.seconds,
        "orders_with_more_than_two_commissions": len(over),
        "drain_seconds": drain_s,
        "commission_lag_p50_ms": pct(lags, 50),
        "commission_lag_p95_ms": pct(lags, 95),
        "commission_lag_max_ms": max(lags) * 1000 if lags else float("nan"),
        # outbox messages (commission + count_sales, 2 per paid order) the worker finished per second
        "worker_msgs_per_s_during_load": during_load / args.seconds,
        "worker_msgs_per_s_after_load": after_load / drain_s if drain_s > 0.5 else float("nan"),
        "db_orders_paid_twice": doubles,
        "outbox_pending_after": out_pending,
        "outbox_parked": out_parked,
        "outbox_retried": out_retried,
        "worker_log_errors": errors,
        "reconcile_drift": len(rep.drift),
        "reconcile_seconds": reconcile_s,
        "reconcile_lines": rep.lines,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("settle", "orders", "all"), default="all")
    parser.add_argument("--entries", type=int, default=100_000, help="pending line commissions to settle")
    parser.add_argument("--promoters", type=int, default=1000, help="promoters of the settle fixture")
    parser.add_argument("--profile", action="store_true", help="settle under cProfile + EXPLAIN ANALYZE (stderr)")
    parser.add_argument(
        "--settle-impl",
        choices=("engine", "proposed"),
        default="engine",
        help="engine: mall.promoters.commission.settle_due (the figure); proposed: the set-based "
        "prototype of this file, for comparison",
    )
    parser.add_argument("--batch", type=int, default=5000, help="settle batch size (settle_due's default: 5000)")
    parser.add_argument(
        "--async-commit", action="store_true", help="proposed only: SET LOCAL synchronous_commit = off per batch"
    )
    parser.add_argument("--keep", action="store_true", help="keep the settle fixture afterwards")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=8, help="concurrent load processes")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds of the orders part")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds first")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for the worker afterwards")
    parser.add_argument("--no-seed", action="store_true", help="skip migrate_all + seed_demo (already done)")
    args = parser.parse_args(argv)

    setup_django("bench.settings_bench")
    for key, value in machine_figures().items():
        emit(key, value)
    emit("loadavg_start", "/".join(f"{x:.2f}" for x in os.getloadavg()))
    if not args.no_seed:
        seed()
    ok = True
    if args.part in ("settle", "all"):
        figures = settle_part(args)
        for key, value in figures.items():
            emit(key, value)
        emit("settle_target_met", figures["settle_entries_per_s"] >= 50_000)
        emit("loadavg_after_settle", "/".join(f"{x:.2f}" for x in os.getloadavg()))
        ok = ok and figures["reconcile_drift"] == 0
    if args.part in ("orders", "all"):
        figures = orders_part(args)
        for key, value in figures.items():
            emit(key, value)
        emit("orders_target_met", figures["commissioned_orders_per_s"] >= 300)
        ok = ok and figures["reconcile_drift"] == 0 and figures["db_orders_paid_twice"] == 0
    emit("loadavg_end", "/".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
