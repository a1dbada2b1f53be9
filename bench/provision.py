"""Tenant provisioning benchmark: warm pool, empty pool, full migrations; then the clone and a
burst of sign-ups at 10 and at 200 existing stores, today's way (main) beside the new one.

    make bench        # or: .venv/bin/python -m infra.devstack exec .venv/bin/python bench/provision.py
    BENCH_DATABASE=provision_bench BENCH_REDIS_DB=6 …   # a database and Redis db of one's own

Runs on the separate database ``fenxiao_bench`` (see bench/_common.py), after ``migrate_all``
(bench stores excepted, see ``migrate``).

Part 1, at the stores the database holds (none but the bench's own):

* provision: ``tenants.actions.provision_tenant`` (what sign-up calls) with a spare schema ready;
  the pool is refilled, untimed, before every call. Only the call itself is timed.
* empty_pool: the same call with the pool emptied first, so it clones the template inside the
  transaction (the new clone).
* migrate: the old way, ``CREATE SCHEMA`` + ``migrate_schemas`` for that schema + the Tenant and
  Domain rows (auto_create_schema=False).

Part 2, at each level of ``--stores`` (default 10 and 200 existing stores; they are made with
the new clone and dated a day back, so they do not count as recent sign-ups):

* ddl_capture_ms: ``pg_dump`` of the template (once per deploy, then shared through the cache).
* clone_ms: ``provisioning.clone_template`` (replays the template's captured DDL and copies its
  seed rows) into a scratch schema, ``--clones`` times; clone_ms_today: django-tenants'
  ``clone_schema`` (what main runs), ``--clones-today`` times; the two take turns.
* burst: ``--burst`` sign-ups (20) spread evenly over ``--burst-seconds`` (30 s), each timed.
  After each, a background thread is woken to refill the pool (what the sign-up's outbox message
  → Celery task does, without the queue's latency). Both variants start from a pool of
  ``TENANT_SPARE_POOL_SIZE`` spares and no recent sign-ups:
  - today: the legacy clone and a pool fixed at ``TENANT_SPARE_POOL_SIZE`` (main's behaviour);
  - new: the new clone and the adaptive target (``provisioning.pool_target``).
  burst_p95_ms is the nearest-rank 95th percentile of the burst's sign-up times. No sign-up
  starts after ``--burst-budget`` seconds (60): main's clone at 200 stores would run for
  minutes; ``burst_signups`` says how many ran.

Every tenant and schema it creates is dropped at the end (``--keep-stores`` keeps the part-2
stores for the next run). Figures go to stdout as key=value
(``…@10`` and ``…@200`` for the levels).
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
import uuid

from _common import emit, log, machine_figures, median, setup_django

BENCH_SLUG_PREFIX = "bench-"


def new_slug(kind: str) -> str:
    return f"{BENCH_SLUG_PREFIX}{kind}{uuid.uuid4().hex[:10]}"


def drop_schema(name: str) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else float("nan")


def empty_spare_pool(keep: int = 0) -> int:
    """Drop spares (the newest first) until ``keep`` are left."""
    from django.db import connection, transaction

    from tenants.models import SpareSchema

    connection.set_schema_to_public()
    spares = list(SpareSchema.objects.order_by("-created"))
    extra = spares[: max(0, len(spares) - keep)]
    for spare in extra:
        with transaction.atomic():
            drop_schema(spare.schema_name)
            spare.delete()
    return len(extra)


def provision_once(kind: str) -> tuple[float, str]:
    from tenants.actions import provision_tenant

    slug = new_slug(kind)
    start = time.perf_counter()
    tenant = provision_tenant(slug=slug, name=f"Bench {slug}", owner=None)
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, tenant.schema_name


def migrate_once() -> tuple[float, str]:
    """CREATE SCHEMA + full tenant migrations + the tenant's rows: provisioning before the pool."""
    from django.core.management import call_command
    from django.db import connection

    from tenants.actions import schema_name_for
    from tenants.models import Domain, Tenant

    slug = new_slug("m")
    schema = schema_name_for(slug)
    connection.set_schema_to_public()
    start = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{schema}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    tenant = Tenant(schema_name=schema, slug=slug, name=f"Bench {slug}")
    tenant.auto_create_schema = False
    tenant.save()
    Domain.objects.create(domain=tenant.primary_host, tenant=tenant, is_primary=True)
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed, schema


def drop_tenants(tenants) -> None:
    from django.db import connection, transaction

    from tenants.models import Domain, Tenant

    connection.set_schema_to_public()
    for tenant in tenants:
        with transaction.atomic():
            drop_schema(tenant.schema_name)
            Domain.objects.filter(tenant=tenant).delete()
            Tenant.objects.filter(pk=tenant.pk).delete()


def cleanup(outbox_after: int | None, kinds: str = "") -> int:
    """Drop bench tenants' schemas and rows (also those of an earlier, aborted run); ``kinds``
    limits it to slugs ``bench-<kind>…`` of those kinds."""
    from django.db import connection

    from core.models import OutboxMessage
    from tenants.models import Tenant

    connection.set_schema_to_public()
    tenants = [
        t
        for t in Tenant.objects.filter(slug__startswith=BENCH_SLUG_PREFIX)
        if not kinds or t.slug[len(BENCH_SLUG_PREFIX)] in kinds
    ]
    drop_tenants(tenants)
    # Orphan schemas: an interrupted migrate run (schema created, row not yet saved), scratch clones.
    kept = set(Tenant.objects.values_list("schema_name", flat=True))
    with connection.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [r"t\_bench\_%"])
        for (name,) in cur.fetchall():
            if name not in kept:
                drop_schema(name)
    if outbox_after is not None:
        OutboxMessage.objects.filter(pk__gt=outbox_after, schema_name="public").delete()
    return len(tenants)


def make_stores(level: int) -> tuple[int, float]:
    """Bench stores (slug ``bench-s…``) added or dropped until the database holds ``level``
    tenant schemas; made with the new clone, dated a day back (not recent sign-ups). Returns
    (stores made or, negative, dropped; seconds)."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from tenants import provisioning
    from tenants.actions import schema_name_for
    from tenants.models import Tenant

    connection.set_schema_to_public()
    have = Tenant.objects.exclude(schema_name="public").count()
    start = time.perf_counter()
    if have > level:
        extra = Tenant.objects.filter(slug__startswith=f"{BENCH_SLUG_PREFIX}s").order_by("-created", "-pk")
        drop_tenants(list(extra[: have - level]))
    for _ in range(max(0, level - have)):
        slug = new_slug("s")
        with transaction.atomic():
            provisioning.clone_template(schema_name_for(slug))
            tenant = Tenant(schema_name=schema_name_for(slug), slug=slug, name=f"Bench {slug}")
            tenant.auto_create_schema = False
            tenant.save()
            Tenant.objects.filter(pk=tenant.pk).update(created=timezone.now() - timedelta(days=1))
    connection.set_schema_to_public()
    return Tenant.objects.exclude(schema_name="public").count() - have, time.perf_counter() - start


def migrate(verbosity: int = 0) -> None:
    """``migrate_all``, except that the bench's own stores (``bench-s…``, only there to fill the
    catalogue) are not migrated one by one (minutes at 200 stores): a store kept from a run of
    older code is simply dropped and made again."""
    from django.core.management import call_command
    from django.db import connection

    from tenants import provisioning
    from tenants.models import Tenant

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    provisioning.ensure_template(verbosity)
    stores = Tenant.objects.exclude(schema_name="public")
    for tenant in stores.exclude(slug__startswith=f"{BENCH_SLUG_PREFIX}s"):
        call_command("migrate_schemas", tenant=True, schema_name=tenant.schema_name, interactive=False, verbosity=0)
        connection.set_schema_to_public()
    behind = [t for t in stores.filter(slug__startswith=f"{BENCH_SLUG_PREFIX}s")[:1]]
    if behind and provisioning.schema_fingerprint(behind[0].schema_name) != provisioning.code_fingerprint():
        log("bench stores of older migrations: dropping them")
        drop_tenants(list(stores.filter(slug__startswith=f"{BENCH_SLUG_PREFIX}s")))
    provisioning.migrate_spares(verbosity)
    provisioning.refill_spare_pool()


def time_clones(clones: dict, counts: dict) -> dict[str, list[float]]:
    """Time each clone function ``counts[name]`` times into scratch schemas, taking turns, so
    that every kind sees the same moment of a shared machine."""
    from django.db import connection, transaction

    out: dict[str, list[float]] = {name: [] for name in clones}
    for i in range(max(counts.values())):
        for name, clone in clones.items():
            if i >= counts[name]:
                continue
            schema = f"t_bench_x{uuid.uuid4().hex[:10]}"
            connection.set_schema_to_public()
            start = time.perf_counter()
            with transaction.atomic():
                clone(schema)
            out[name].append((time.perf_counter() - start) * 1000)
            drop_schema(schema)
    return out


class Refiller(threading.Thread):
    """The Celery worker's part: woken after each sign-up, refills the pool (own DB connection)
    until it holds ``pool_target()`` spares, one ``refill_spare_pool`` call per spare so that a
    stop request waits for one clone at most."""

    def __init__(self):
        super().__init__(daemon=True)
        self.wake = threading.Event()
        self.stopping = False
        self.made = 0
        self.error: BaseException | None = None

    def run(self):
        from django.db import connections

        from tenants import provisioning

        try:
            while not self.stopping:
                ready = provisioning.valid_spares().count()
                if ready < provisioning.pool_target():
                    self.made += provisioning.refill_spare_pool(size=ready + 1, wait=True)
                    continue
                self.wake.wait()
                self.wake.clear()
        except BaseException as exc:  # reported by the main thread
            self.error = exc
        finally:
            connections.close_all()

    def stop(self):
        self.stopping = True
        self.wake.set()
        self.join(timeout=300)


def burst(count: int, seconds: float, budget: float) -> dict:
    """``count`` sign-ups spread evenly over ``seconds``, a refill asked after each; no sign-up
    starts after ``budget`` seconds (main's clone at many stores would take minutes)."""
    from tenants import provisioning

    refiller = Refiller()
    refiller.start()
    times, hits = [], 0
    spacing = seconds / count
    t0 = time.monotonic()
    try:
        for i in range(count):
            delay = t0 + i * spacing - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if time.monotonic() - t0 > budget:
                break
            before = provisioning.valid_spares().count()
            ms, _ = provision_once("b")
            hits += before > 0
            times.append(ms)
            refiller.wake.set()
    finally:
        refiller.stop()
    if refiller.error:
        raise refiller.error
    return {
        "p95": p95(times),
        "median": median(times),
        "max": max(times),
        "done": len(times),
        "hits": hits,
        "made": refiller.made,
        "pool_after": provisioning.valid_spares().count(),
        "elapsed_s": time.monotonic() - t0,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10, help="tenants provisioned from the warm pool (timed)")
    parser.add_argument("--k", type=int, default=3, help="tenants provisioned with an empty pool (clone path)")
    parser.add_argument("--m", type=int, default=3, help="tenants created by full migrations")
    parser.add_argument("--pool", type=int, default=2, help="spare pool size refilled before each timed call")
    parser.add_argument("--stores", default="10,200", help="levels of existing stores for part 2")
    parser.add_argument("--clones", type=int, default=5, help="new clones timed at each level")
    parser.add_argument("--clones-today", type=int, default=2, help="django-tenants clones timed at each level")
    parser.add_argument("--burst", type=int, default=20, help="sign-ups in a burst")
    parser.add_argument("--burst-seconds", type=float, default=30.0, help="the burst's duration")
    parser.add_argument("--burst-budget", type=float, default=60.0, help="no sign-up of a burst starts after this")
    parser.add_argument("--no-today", action="store_true", help="skip main's clone and pool (part 2)")
    parser.add_argument("--settle", type=float, default=20.0, help="pause after making or dropping stores")
    parser.add_argument("--keep-stores", action="store_true", help="keep the bench stores for the next run")
    args = parser.parse_args(argv)
    if min(args.n, args.k, args.m, args.pool, args.burst) < 1:
        parser.error("--n, --k, --m, --pool and --burst must be at least 1")
    levels = sorted(int(x) for x in args.stores.split(",") if x.strip())

    setup_django()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Max

    from core.models import OutboxMessage
    from tenants import provisioning
    from tenants.models import SpareSchema, Tenant

    for key, value in machine_figures().items():
        emit(key, value)
    emit("database", settings.DATABASES["default"]["NAME"])

    log("migrating the bench database (first run: a minute or two)…")
    start = time.perf_counter()
    migrate()
    emit("migrate_all_s", (time.perf_counter() - start))
    removed = cleanup(None, kinds="wpcmbx" if args.keep_stores else "")
    if removed:
        log(f"removed {removed} bench tenants left by an earlier run")
    connection.set_schema_to_public()
    outbox_after = OutboxMessage.objects.aggregate(m=Max("pk"))["m"] or 0

    provision_ms: list[float] = []
    empty_ms: list[float] = []
    migrate_ms: list[float] = []
    pool_hits = 0
    new_clone = provisioning.clone_template
    pool_min = settings.TENANT_SPARE_POOL_SIZE
    try:
        # Warm-up (untimed in the figures): first queries of this process, first clone of the run.
        provisioning.refill_spare_pool(size=args.pool)
        warmup, _ = provision_once("w")
        emit("warmup_provision_ms", warmup)

        log(f"provisioning {args.n} tenants from the warm pool…")
        for _ in range(args.n):
            provisioning.refill_spare_pool(size=args.pool)  # untimed
            before = provisioning.valid_spares().count()
            ms, _ = provision_once("p")
            if provisioning.valid_spares().count() == before - 1:
                pool_hits += 1
            provision_ms.append(ms)

        log(f"provisioning {args.k} tenants with an empty pool (clone fallback)…")
        for _ in range(args.k):
            empty_spare_pool()  # untimed
            assert not SpareSchema.objects.exists()
            ms, _ = provision_once("c")
            empty_ms.append(ms)

        log(f"creating {args.m} tenants by full migrations…")
        for _ in range(args.m):
            ms, _ = migrate_once()
            migrate_ms.append(ms)
        cleanup(None, kinds="wpcm")

        p, c, m = median(provision_ms), median(empty_ms), median(migrate_ms)
        emit("n", args.n)
        emit("pool_hits", pool_hits)
        emit("provision_ms", p)
        emit("provision_min_ms", min(provision_ms))
        emit("provision_max_ms", max(provision_ms))
        emit("k", args.k)
        emit("empty_pool_ms", c)
        emit("empty_pool_min_ms", min(empty_ms))
        emit("empty_pool_max_ms", max(empty_ms))
        emit("m", args.m)
        emit("migrate_ms", m)
        emit("migrate_min_ms", min(migrate_ms))
        emit("migrate_max_ms", max(migrate_ms))
        emit("speedup", m / p)
        emit("target_provision_le_100ms", "yes" if p <= 100 else "no")

        have = Tenant.objects.exclude(schema_name="public").count()
        if levels and have >= levels[-1]:  # stores kept from a run before: go down, not up
            levels.reverse()
        for level in levels:
            made, secs = make_stores(level)
            if made:
                time.sleep(args.settle)  # let the disk catch up with the DDL (dropped files above all)
            with connection.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_namespace")
                schemas = cur.fetchone()[0]
            log(f"{level} stores ({made} made in {secs:.1f} s, {schemas} schemas in the database)")
            emit(f"schemas@{level}", schemas)
            emit(f"stores_made@{level}", made)
            emit(f"stores_made_s@{level}", secs)
            # The capture (pg_dump reads the whole catalogue): once per deploy, shared through the cache.
            provisioning.forget_template_script(shared=True)
            t = time.perf_counter()
            provisioning.template_script()
            emit(f"ddl_capture_ms@{level}", (time.perf_counter() - t) * 1000)
            kinds, counts = {"": new_clone}, {"": args.clones}
            if not args.no_today:
                kinds["_today"], counts["_today"] = provisioning.clone_template_legacy, args.clones_today
            for suffix, times in time_clones(kinds, counts).items():
                emit(f"clone_ms{suffix}@{level}", median(times))
                emit(f"clone_min_ms{suffix}@{level}", min(times))
                emit(f"clone_max_ms{suffix}@{level}", max(times))
            variants = [("", new_clone, None)]
            if not args.no_today:
                variants.insert(0, ("_today", provisioning.clone_template_legacy, 0.0))
            for suffix, clone, factor in variants:
                saved_factor = settings.TENANT_SPARE_POOL_FACTOR
                provisioning.clone_template = clone
                if factor is not None:
                    settings.TENANT_SPARE_POOL_FACTOR = factor
                try:
                    empty_spare_pool(keep=pool_min)
                    provisioning.refill_spare_pool(size=pool_min, wait=True)
                    log(
                        f"burst{suffix or ' (new)'} at {level} stores: {args.burst} sign-ups in {args.burst_seconds:g} s…"
                    )
                    result = burst(args.burst, args.burst_seconds, args.burst_budget)
                finally:
                    provisioning.clone_template = new_clone
                    settings.TENANT_SPARE_POOL_FACTOR = saved_factor
                    cleanup(None, kinds="b")
                for key in ("p95", "median", "max"):
                    emit(f"burst_{key}_ms{suffix}@{level}", result[key])
                emit(f"burst_signups{suffix}@{level}", f"{result['done']}/{args.burst}")
                emit(f"burst_pool_hits{suffix}@{level}", f"{result['hits']}/{result['done']}")
                emit(f"burst_refill_made{suffix}@{level}", result["made"])
                emit(f"burst_pool_after{suffix}@{level}", result["pool_after"])
                emit(f"burst_elapsed_s{suffix}@{level}", result["elapsed_s"])
                emit(f"target_burst_p95_le_100ms{suffix}@{level}", "yes" if result["p95"] <= 100 else "no")
    finally:
        provisioning.clone_template = new_clone
        log("cleaning up bench tenants and restoring the spare pool…")
        cleanup(outbox_after, kinds="wpcmbx" if args.keep_stores else "")
        empty_spare_pool(keep=pool_min)
        provisioning.refill_spare_pool(size=pool_min)
        cache.clear()  # the bench Redis database only (cache entries and unconsumed Celery messages)
    emit("loadavg_after", machine_figures()["loadavg"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
