"""Schemas for new tenants, without running migrations in the request.

* ``tpl_tenant`` (settings.TENANT_BASE_SCHEMA): a migrated, empty tenant schema.
* spare schemas ``spare_<hex>``: clones of the template made ahead of time (a warm pool,
  refilled by a Celery task). Sign-up renames one to the new tenant's schema: a catalogue
  update, a few milliseconds.
* An empty pool falls back to cloning the template inside the sign-up transaction (~0.5 s).

Every deploy runs ``manage.py migrate_all``: public, template, tenants and spares, one schema
per transaction. A spare carries the fingerprint of the migrations applied in it; a spare whose
fingerprint is not the code's is never handed out.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from functools import lru_cache

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

from tenants.models import SpareSchema

log = logging.getLogger(__name__)

SPARE_PREFIX = "spare_"
REFILL_LOCK_KEY = 7_301_001  # pg advisory lock id for the pool refill


def template_schema() -> str:
    return settings.TENANT_BASE_SCHEMA


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Hash of every migration on disk: what a fully migrated schema has applied."""
    loader = MigrationLoader(None, ignore_no_migrations=True, load=False)
    loader.load_disk()
    names = sorted(f"{app}.{name}" for app, name in loader.disk_migrations)
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def schema_fingerprint(schema: str) -> str:
    with connection.cursor() as cur:
        cur.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        names = sorted(f"{app}.{name}" for app, name in cur.fetchall())
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def migrate_schema(schema: str, verbosity: int = 0) -> None:
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=verbosity)


def ensure_template(verbosity: int = 0) -> None:
    """Create (if missing) and migrate the template schema."""
    schema = template_schema()
    if not schema_exists(schema):
        with connection.cursor() as cur:
            cur.execute(f'CREATE SCHEMA "{schema}"')
    migrate_schema(schema, verbosity)
    connection.set_schema_to_public()


def clone_template(new_schema: str) -> None:
    """Copy the template (structure and its few seed rows) to ``new_schema``."""
    connection.set_schema_to_public()
    CloneSchema().clone_schema(template_schema(), new_schema, "DATA", set_connection=False)


def valid_spares():
    return SpareSchema.objects.filter(fingerprint=code_fingerprint())


def claim_spare() -> SpareSchema | None:
    """Lock one ready spare for the current transaction (concurrent sign-ups skip it)."""
    return valid_spares().select_for_update(skip_locked=True).first()


def rename_schema(old: str, new: str) -> None:
    with connection.cursor() as cur:
        cur.execute(f'ALTER SCHEMA "{old}" RENAME TO "{new}"')


def refill_spare_pool(size: int | None = None, *, wait: bool = False) -> int:
    """Clone spares until the pool holds ``size`` valid ones. Returns how many were made.

    One refill at a time (advisory lock): a concurrent call returns 0 at once, or with
    ``wait=True`` waits for the running refill and then tops up. Each spare is created in its own
    transaction, so a crash leaves either a registered spare or nothing."""
    size = settings.TENANT_SPARE_POOL_SIZE if size is None else size
    if connection.in_atomic_block:
        raise RuntimeError("refill_spare_pool commits each spare itself: call it outside a transaction")
    if not schema_exists(template_schema()):
        log.warning("template schema %s missing: run migrate_all", template_schema())
        return 0
    made = 0
    connection.set_schema_to_public()
    with connection.cursor() as cur:
        if wait:
            cur.execute("SELECT pg_advisory_lock(%s)", [REFILL_LOCK_KEY])
        else:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [REFILL_LOCK_KEY])
            if not cur.fetchone()[0]:
                return 0
    try:
        fingerprint = schema_fingerprint(template_schema())
        if fingerprint != code_fingerprint():
            log.warning("template schema is behind the code's migrations: run migrate_all")
            return 0
        drop_stale_spares()
        while valid_spares().count() < size:
            name = f"{SPARE_PREFIX}{uuid.uuid4().hex[:12]}"
            with transaction.atomic():
                clone_template(name)
                SpareSchema.objects.create(schema_name=name, fingerprint=fingerprint)
            made += 1
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [REFILL_LOCK_KEY])
    return made


def drop_stale_spares() -> int:
    stale = list(SpareSchema.objects.exclude(fingerprint=code_fingerprint()))
    for spare in stale:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(f'DROP SCHEMA IF EXISTS "{spare.schema_name}" CASCADE')
            spare.delete()
    return len(stale)


def migrate_spares(verbosity: int = 0) -> None:
    """Bring every spare up to the code's migrations (part of each deploy)."""
    for spare in list(SpareSchema.objects.all()):
        if not schema_exists(spare.schema_name):
            spare.delete()
            continue
        migrate_schema(spare.schema_name, verbosity)
        connection.set_schema_to_public()
        spare.fingerprint = schema_fingerprint(spare.schema_name)
        spare.save(update_fields=["fingerprint"])
