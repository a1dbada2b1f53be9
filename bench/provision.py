"""Tenant provisioning benchmark: warm spare pool vs empty-pool clone vs full migrations.

    make bench        # or: .venv/bin/python -m infra.devstack exec .venv/bin/python bench/provision.py

Runs on the separate database ``fenxiao_bench`` (see bench/_common.py), after ``migrate_all``.

* provision: ``tenants.actions.provision_tenant`` (what sign-up calls) with a spare schema ready;
  the pool is refilled, untimed, before every call. Only the call itself is timed.
* clone: the same call with the pool emptied first (every spare row deleted, its schema dropped),
  so it clones the template inside the transaction.
* migrate: the old way, ``CREATE SCHEMA`` + ``migrate_schemas`` for that schema + the Tenant and
  Domain rows (auto_create_schema=False).

Every tenant and schema it creates is dropped at the end. Figures go to stdout as key=value.
"""

from __future__ import annotations

import argparse
import sys
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


def empty_spare_pool() -> int:
    from django.db import connection, transaction

    from tenants.models import SpareSchema

    connection.set_schema_to_public()
    spares = list(SpareSchema.objects.all())
    for spare in spares:
        with transaction.atomic():
            drop_schema(spare.schema_name)
            spare.delete()
    return len(spares)


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


def cleanup(outbox_after: int | None) -> int:
    """Drop every bench tenant's schema and rows (also those of an earlier, aborted run)."""
    from django.db import connection, transaction

    from core.models import OutboxMessage
    from tenants.models import Domain, Tenant

    connection.set_schema_to_public()
    tenants = list(Tenant.objects.filter(slug__startswith=BENCH_SLUG_PREFIX))
    for tenant in tenants:
        with transaction.atomic():
            drop_schema(tenant.schema_name)
            Domain.objects.filter(tenant=tenant).delete()
            Tenant.objects.filter(pk=tenant.pk).delete()
    # Orphan schemas of an interrupted migrate run (schema created, row not yet saved).
    with connection.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [r"t\_bench\_%"])
        for (name,) in cur.fetchall():
            drop_schema(name)
    if outbox_after is not None:
        OutboxMessage.objects.filter(pk__gt=outbox_after, schema_name="public").delete()
    return len(tenants)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10, help="tenants provisioned from the warm pool (timed)")
    parser.add_argument("--k", type=int, default=3, help="tenants provisioned with an empty pool (clone path)")
    parser.add_argument("--m", type=int, default=3, help="tenants created by full migrations")
    parser.add_argument("--pool", type=int, default=2, help="spare pool size refilled before each timed call")
    args = parser.parse_args(argv)
    if min(args.n, args.k, args.m, args.pool) < 1:
        parser.error("--n, --k, --m and --pool must be at least 1")

    setup_django()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max

    from core.models import OutboxMessage
    from tenants import provisioning
    from tenants.models import SpareSchema

    for key, value in machine_figures().items():
        emit(key, value)
    emit("database", settings.DATABASES["default"]["NAME"])

    log("migrate_all on the bench database (first run: a minute or two)…")
    start = time.perf_counter()
    call_command("migrate_all", verbosity=0, stdout=sys.stderr)
    emit("migrate_all_s", (time.perf_counter() - start))
    removed = cleanup(None)
    if removed:
        log(f"removed {removed} bench tenants left by an earlier run")
    connection.set_schema_to_public()
    outbox_after = OutboxMessage.objects.aggregate(m=Max("pk"))["m"] or 0

    provision_ms: list[float] = []
    clone_ms: list[float] = []
    migrate_ms: list[float] = []
    pool_hits = 0
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
            clone_ms.append(ms)

        log(f"creating {args.m} tenants by full migrations…")
        for _ in range(args.m):
            ms, _ = migrate_once()
            migrate_ms.append(ms)
    finally:
        log("cleaning up bench tenants and restoring the spare pool…")
        cleanup(outbox_after)
        provisioning.refill_spare_pool()
        cache.clear()  # the bench Redis database only (cache entries and unconsumed Celery messages)

    p, c, m = median(provision_ms), median(clone_ms), median(migrate_ms)
    emit("n", args.n)
    emit("pool_hits", pool_hits)
    emit("provision_ms", p)
    emit("provision_min_ms", min(provision_ms))
    emit("provision_max_ms", max(provision_ms))
    emit("k", args.k)
    emit("clone_ms", c)
    emit("clone_min_ms", min(clone_ms) if clone_ms else float("nan"))
    emit("clone_max_ms", max(clone_ms) if clone_ms else float("nan"))
    emit("m", args.m)
    emit("migrate_ms", m)
    emit("migrate_min_ms", min(migrate_ms) if migrate_ms else float("nan"))
    emit("migrate_max_ms", max(migrate_ms) if migrate_ms else float("nan"))
    emit("speedup", m / p)
    emit("clone_speedup", m / c)
    emit("target_provision_le_100ms", "yes" if p <= 100 else "no")
    emit("target_speedup_ge_50x", "yes" if m / p >= 50 else "no")
    emit("loadavg_after", machine_figures()["loadavg"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
