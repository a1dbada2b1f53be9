"""Schemas for new tenants, without running migrations in the request.

* ``tpl_tenant`` (settings.TENANT_BASE_SCHEMA): a migrated, empty tenant schema.
* spare schemas ``spare_<hex>``: clones of the template made ahead of time (a warm pool,
  refilled by a Celery task after every sign-up and every minute by beat). Sign-up renames one
  to the new tenant's schema: a catalogue update, a few milliseconds.
* The pool's size follows demand: ``pool_target()`` is the number of sign-ups of the last
  ``TENANT_SPARE_POOL_WINDOW_MINUTES`` × ``TENANT_SPARE_POOL_FACTOR``, clamped to
  [``TENANT_SPARE_POOL_SIZE``, ``TENANT_SPARE_POOL_MAX``].
* An empty pool falls back to cloning the template inside the sign-up transaction.

Cloning replays the template's DDL (``pg_dump --schema-only -n tpl_tenant``, captured once per
migration fingerprint and process) with the schema name substituted, and copies the template's
rows (migration records, content types, permissions, groups, Wagtail's root page, site,
locale, collection, workflow) table by table, all in one transaction. Its cost does not depend
on how many schemas the database holds; django-tenants' ``clone_schema`` walks
``information_schema`` over every schema, so it grew from ~0.5 s to many seconds as stores
accumulated (kept as ``clone_template_legacy`` for the benchmark and as a fallback when no
``pg_dump`` is installed).

Every deploy runs ``manage.py migrate_all``: public, template, tenants and spares, one schema
per transaction. A spare carries the fingerprint of the migrations applied in it; a spare whose
fingerprint is not the code's is never handed out.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import shutil
import subprocess
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_context, schema_exists

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
    """Create (if missing) and migrate the template schema; capture its replay script."""
    schema = template_schema()
    if not schema_exists(schema):
        with connection.cursor() as cur:
            cur.execute(f'CREATE SCHEMA "{schema}"')
    migrate_schema(schema, verbosity)
    connection.set_schema_to_public()
    if pg_dump_path() is not None:
        try:
            template_script()  # capture it now (deploy time) and share it through the cache
        except (RuntimeError, OSError, subprocess.SubprocessError):
            log.exception("capturing the template's DDL failed: clones fall back to clone_schema")


# --- cloning the template -------------------------------------------------------------------

_SCHEMA_TOKEN = "\x00schema\x00"  # stands for the target schema in a captured script


@dataclass(frozen=True)
class TemplateScript:
    """The template's structure and rows as one SQL script, the target schema left open."""

    fingerprint: str
    template_oid: int
    sql: str
    tables: int

    def for_schema(self, schema: str) -> str:
        return self.sql.replace(_SCHEMA_TOKEN, quote_ident(schema))


_script_lock = threading.Lock()
_script: TemplateScript | None = None


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pg_dump_path() -> str | None:
    """``settings.PG_DUMP`` if set, else the first of ``pg_dump`` on PATH and the one pgserver
    ships whose major version is at least the server's (pg_dump refuses newer servers)."""
    configured = getattr(settings, "PG_DUMP", "")
    if configured:
        return configured
    candidates = [shutil.which("pg_dump")]
    try:
        import pgserver  # the embedded PostgreSQL of `make run` / `make test`

        candidates.append(str(Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"))
    except ImportError:
        pass
    server_major = connection.pg_version // 10000
    for candidate in candidates:
        if candidate and _pg_dump_major(candidate) >= server_major:
            return candidate
    return None


@lru_cache(maxsize=8)
def _pg_dump_major(path: str) -> int:
    """``pg_dump --version`` → its major version (0 when it does not run)."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    except OSError:
        return 0
    found = re.search(r"\b(\d+)(?:\.\d+)+", out)
    return int(found.group(1)) if found else 0


def _pg_dump(section: str) -> str:
    db = connection.settings_dict
    args = [pg_dump_path(), "--schema-only", "--no-owner", "--no-privileges", f"--section={section}"]
    args += ["-n", template_schema(), "-d", db["NAME"]]
    if db.get("HOST"):
        args += ["-h", db["HOST"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    env = dict(os.environ, PGPASSWORD=db.get("PASSWORD") or "", PGCONNECT_TIMEOUT="10")
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump of {template_schema()} failed: {done.stderr.strip()}")
    return done.stdout


def _statements(dump: str) -> str:
    """A pg_dump script, minus its session settings and psql meta-commands, the template's name
    replaced by the token. Everything pg_dump writes is schema-qualified (it dumps with an empty
    search_path), so the replay needs no search_path of its own."""
    schema = re.escape(template_schema())
    session = re.compile(r"SET \w+ = [^;]*;|SELECT pg_catalog\.set_config\('search_path', '', false\);")
    kept = []
    for line in dump.splitlines():
        if line.startswith("\\") or session.fullmatch(line) or line == f"CREATE SCHEMA {template_schema()};":
            continue
        kept.append(line)
    text = "\n".join(kept)
    return re.sub(rf'(?<![\w"$]){schema}\.|"{schema}"\.', _SCHEMA_TOKEN + ".", text)


def _capture_template_script(fingerprint: str, template_oid: int) -> TemplateScript:
    schema = template_schema()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = %s AND c.relkind IN ('r', 'S') "
            "ORDER BY c.relname",
            [template_oid],
        )
        rels = cur.fetchall()
    tables = [name for name, kind in rels if kind == "r"]
    sequences = [name for name, kind in rels if kind == "S"]
    src = quote_ident(schema)
    rows = [
        f"INSERT INTO {_SCHEMA_TOKEN}.{quote_ident(t)} OVERRIDING SYSTEM VALUE SELECT * FROM {src}.{quote_ident(t)};"
        for t in tables
    ]
    rows += [
        f"SELECT setval('{_SCHEMA_TOKEN}.{quote_ident(q)}', last_value, is_called) FROM {src}.{quote_ident(q)};"
        for q in sequences
    ]
    # Structure first, then the rows, then indexes, constraints and triggers (pg_dump's own order:
    # an index is built once over the copied rows; foreign keys are checked once).
    sql = "\n".join(
        [
            "SET LOCAL check_function_bodies = false;",
            f"CREATE SCHEMA {_SCHEMA_TOKEN};",
            _statements(_pg_dump("pre-data")),
            *rows,
            _statements(_pg_dump("post-data")),
        ]
    )
    return TemplateScript(fingerprint=fingerprint, template_oid=template_oid, sql=sql, tables=len(tables))


SCRIPT_CACHE_SECONDS = 7 * 86400


def _script_cache_key(fingerprint: str, template_oid: int) -> str:
    # Used inside schema_context("public"): django-tenants prefixes the key with "public".
    return f"tenants:template-script:{fingerprint}:{template_oid}"


def template_script() -> TemplateScript:
    """The replay script for the template as it is now: captured once per migration fingerprint
    (and template schema: a recreated template has a new oid), then reused.

    pg_dump reads the whole catalogue, so capturing takes longer as stores accumulate (~0.3 s at a
    handful of schemas, seconds at 200): the first process to capture it (``migrate_all``'s
    refill, at each deploy) leaves it in the shared cache, and every other process (web, workers)
    takes it from there. Without the cache each process captures it once."""
    global _script
    schema = template_schema()
    with connection.cursor() as cur:
        cur.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
        row = cur.fetchone()
    if row is None:
        raise RuntimeError(f"template schema {schema} missing: run migrate_all")
    fingerprint, oid = schema_fingerprint(schema), row[0]
    with _script_lock:
        if _script is not None and (_script.fingerprint, _script.template_oid) == (fingerprint, oid):
            return _script
        key = _script_cache_key(fingerprint, oid)
        try:
            with schema_context("public"):
                shared = cache.get(key)
        except Exception:  # cache down: capture it here
            shared = None
        if isinstance(shared, dict) and shared.get("sql"):
            _script = TemplateScript(
                fingerprint=fingerprint, template_oid=oid, sql=shared["sql"], tables=shared["tables"]
            )
            return _script
        _script = _capture_template_script(fingerprint, oid)
        log.info("captured the DDL of %s (%d tables)", schema, _script.tables)
        try:
            with schema_context("public"):
                cache.set(key, {"sql": _script.sql, "tables": _script.tables}, SCRIPT_CACHE_SECONDS)
        except Exception:
            log.warning("could not share the template's script through the cache", exc_info=True)
        return _script


def forget_template_script(*, shared: bool = False) -> None:
    """Drop this process's copy (and with ``shared=True`` the cache's) of the replay script."""
    global _script
    with _script_lock:
        old, _script = _script, None
    if shared and old is not None:
        with schema_context("public"):
            cache.delete(_script_cache_key(old.fingerprint, old.template_oid))


def clone_template(new_schema: str) -> None:
    """Create ``new_schema`` as a copy of the template: structure and its seed rows.

    One script, one round trip, in the caller's transaction (or its own): a failure leaves
    nothing. Falls back to django-tenants' clone when no pg_dump is installed."""
    connection.set_schema_to_public()
    try:
        script = template_script() if pg_dump_path() is not None else None
    except (RuntimeError, OSError, subprocess.SubprocessError):
        log.exception("capturing the template's DDL failed")
        script = None
    if script is None:
        log.warning("no usable pg_dump (settings.PG_DUMP): cloning with django-tenants' clone_schema")
        clone_template_legacy(new_schema)
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(script.for_schema(new_schema))


def clone_template_legacy(new_schema: str) -> None:
    """django-tenants' ``clone_schema`` (walks information_schema across every schema)."""
    connection.set_schema_to_public()
    CloneSchema().clone_schema(template_schema(), new_schema, "DATA", set_connection=False)


# --- the spare pool ----------------------------------------------------------------------------


def valid_spares():
    return SpareSchema.objects.filter(fingerprint=code_fingerprint())


def claim_spare() -> SpareSchema | None:
    """Lock one ready spare for the current transaction (concurrent sign-ups skip it)."""
    return valid_spares().select_for_update(skip_locked=True).first()


def rename_schema(old: str, new: str) -> None:
    with connection.cursor() as cur:
        cur.execute(f'ALTER SCHEMA "{old}" RENAME TO "{new}"')


def recent_sign_ups() -> int:
    from tenants.models import Tenant

    since = timezone.now() - timedelta(minutes=settings.TENANT_SPARE_POOL_WINDOW_MINUTES)
    return Tenant.objects.filter(created__gte=since).exclude(schema_name="public").count()


def pool_target() -> int:
    """How many spares to keep ready: recent sign-ups × factor, within [min, max]."""
    low, high = settings.TENANT_SPARE_POOL_SIZE, max(settings.TENANT_SPARE_POOL_MAX, settings.TENANT_SPARE_POOL_SIZE)
    wanted = math.ceil(recent_sign_ups() * settings.TENANT_SPARE_POOL_FACTOR)
    return max(low, min(high, wanted))


def refill_spare_pool(size: int | None = None, *, wait: bool = False) -> int:
    """Clone spares until the pool holds ``size`` valid ones (default: ``pool_target()``, read
    again after every spare, so a burst of sign-ups during a refill raises it). Returns how many
    were made.

    One refill at a time (advisory lock): a concurrent call returns 0 at once, or with
    ``wait=True`` waits for the running refill and then tops up. Each spare is created in its own
    transaction, so a crash leaves either a registered spare or nothing."""
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
        while valid_spares().count() < (pool_target() if size is None else size):
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
