import math
import re
import threading
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from tenants import provisioning
from tenants.actions import provision_tenant, set_tenant_status
from tenants.models import Domain, SpareSchema, Tenant, TenantStatus
from tests.conftest import make_owner


def _slug():
    return f"shop-{uuid.uuid4().hex[:8]}"


def _drop(tenant):
    with connection.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
    Domain.objects.filter(tenant=tenant).delete()
    Tenant.objects.filter(pk=tenant.pk).delete()


def test_provisioning_takes_a_warm_spare_and_the_tenant_is_usable_at_once(committed):
    provisioning.refill_spare_pool(size=1, wait=True)
    spare = provisioning.valid_spares().first()
    owner = make_owner(f"o-{uuid.uuid4().hex[:6]}", f"135{uuid.uuid4().int % 10**8:08d}")
    tenant = provision_tenant(slug=_slug(), name="即开即用小店", owner=owner, industry="beauty")
    try:
        assert not SpareSchema.objects.filter(pk=spare.pk).exists()
        assert not schema_exists(spare.schema_name)
        assert schema_exists(tenant.schema_name)
        assert tenant.status == TenantStatus.TRIAL
        assert (tenant.trial_ends_at - tenant.created).days in (13, 14)
        # Usable immediately: the storefront API answers from the new schema …
        response = Client().get("/api/v1/products", HTTP_HOST=tenant.primary_host)
        assert response.status_code == 200
        assert response.json()["count"] == 0
        # … the owner has a console user there, and the Wagtail site knows its host.
        with schema_context(tenant.schema_name):
            from wagtail.models import Site

            from saas_platform.accounts.models import User

            console_user = User.objects.get(platform_user_id=owner.pk)
            assert not console_user.is_superuser  # console users are never superusers …
            assert set(console_user.groups.values_list("name", flat=True)) == {"role:owner"}  # … but owners
            assert console_user.has_perm("wagtailadmin.access_admin")
            assert Site.objects.get(is_default_site=True).hostname == tenant.primary_host
    finally:
        _drop(tenant)


def test_an_empty_pool_falls_back_to_cloning_the_template(committed):
    with connection.cursor() as cur:  # hold the refill lock: no background refill meanwhile
        cur.execute("SELECT pg_advisory_lock(%s)", [provisioning.REFILL_LOCK_KEY])
    try:
        for spare in list(SpareSchema.objects.all()):
            with connection.cursor() as cur:
                cur.execute(f'DROP SCHEMA IF EXISTS "{spare.schema_name}" CASCADE')
            spare.delete()
        assert list(SpareSchema.objects.values_list("schema_name", flat=True)) == [], "pool not empty before"
        tenant = provision_tenant(slug=_slug(), name="克隆小店", owner=None)
        left = list(SpareSchema.objects.values_list("schema_name", flat=True))
        assert left == [], f"a spare appeared while the refill lock was held: {left}"
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [provisioning.REFILL_LOCK_KEY])
    try:
        assert schema_exists(tenant.schema_name)
        assert Client().get("/api/v1/store", HTTP_HOST=tenant.primary_host).json()["name"] == "克隆小店"
        assert provisioning.schema_fingerprint(tenant.schema_name) == provisioning.code_fingerprint()
    finally:
        _drop(tenant)
        provisioning.refill_spare_pool(size=2, wait=True)


def test_a_failed_provisioning_leaves_no_schema_and_gives_the_spare_back(committed, monkeypatch):
    provisioning.refill_spare_pool(size=1, wait=True)
    before = set(provisioning.valid_spares().values_list("schema_name", flat=True))
    slug = _slug()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("tenants.actions._prepare_tenant_schema", boom)
    with pytest.raises(RuntimeError):
        provision_tenant(slug=slug, name="失败的店", owner=None)
    assert not Tenant.objects.filter(slug=slug).exists()
    assert not schema_exists(f"t_{slug.replace('-', '_')}")
    # The spares are all still there (a background refill may have added more meanwhile).
    assert before <= set(provisioning.valid_spares().values_list("schema_name", flat=True))
    assert all(schema_exists(s) for s in before)


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("www", "reserved"),
        ("api", "reserved"),
        ("staff", "reserved"),
        ("Ab", "invalid"),
        ("-abc", "invalid"),
        ("中文店", "invalid"),
    ],
)
def test_bad_slugs_get_a_field_error_in_chinese(db, slug, code):
    with pytest.raises(ValidationError) as err:
        provision_tenant(slug=slug, name="某店", owner=None)
    assert "slug" in err.value.message_dict
    assert err.value.error_dict["slug"][0].code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message_dict["slug"][0])


def test_a_duplicate_slug_is_refused(tenant_a, db):
    with pytest.raises(ValidationError) as err:
        provision_tenant(slug=tenant_a.slug, name="重名", owner=None)
    assert "已被使用" in err.value.message_dict["slug"][0]


def test_concurrent_sign_ups_each_get_their_own_schema(committed):
    provisioning.refill_spare_pool(size=2, wait=True)
    slugs = [_slug() for _ in range(3)]
    results, errors = {}, []

    def sign_up(slug):
        try:
            results[slug] = provision_tenant(slug=slug, name=f"并发{slug}", owner=None).schema_name
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(s,)) for s in slugs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors
        assert len(set(results.values())) == 3
        assert all(schema_exists(s) for s in results.values())
    finally:
        for tenant in Tenant.objects.filter(slug__in=slugs):
            _drop(tenant)
        provisioning.refill_spare_pool(size=2, wait=True)


def test_lifecycle_transitions_are_explicit(committed):
    tenant = provision_tenant(slug=_slug(), name="状态店", owner=None)
    try:
        tenant = set_tenant_status(tenant=tenant, status=TenantStatus.SUSPENDED)
        closed = Client().get("/api/v1/products", HTTP_HOST=tenant.primary_host)
        assert closed.status_code == 403
        assert closed.json()["error"]["code"] == "store_closed"
        tenant = set_tenant_status(tenant=tenant, status=TenantStatus.ACTIVE)
        assert Client().get("/api/v1/products", HTTP_HOST=tenant.primary_host).status_code == 200
        with pytest.raises(ValidationError):
            set_tenant_status(tenant=tenant, status=TenantStatus.TRIAL)
    finally:
        _drop(tenant)


# --- the clone: a spare is the template, structure and seed rows -------------------------------


def _structure(schema: str) -> dict[str, list]:
    """What pg_catalog says about ``schema``: relations, columns, constraints, indexes, sequences,
    triggers, functions and views, with the schema's own name written as ``<s>``."""
    queries = {
        "relations": """
            SELECT c.relname, c.relkind, c.relpersistence FROM pg_class c
            WHERE c.relnamespace = %(ns)s ORDER BY 1""",
        "columns": """
            SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                   a.attgenerated, pg_get_expr(d.adbin, d.adrelid), a.attcollation
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relnamespace = %(ns)s AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'p')
            ORDER BY c.relname, a.attnum""",
        "constraints": """
            SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            WHERE k.connamespace = %(ns)s ORDER BY 1, 2""",
        "indexes": """
            SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c
            WHERE c.relnamespace = %(ns)s AND c.relkind = 'i' ORDER BY 1""",
        "sequences": """
            SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                   s.seqcycle, owner.relname, a.attname
            FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
            LEFT JOIN pg_depend d ON d.objid = c.oid AND d.classid = 'pg_class'::regclass
                 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
            LEFT JOIN pg_class owner ON owner.oid = d.refobjid
            LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE c.relnamespace = %(ns)s ORDER BY 1""",
        "triggers": """
            SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relnamespace = %(ns)s AND NOT t.tgisinternal ORDER BY 1, 2""",
        "functions": """
            SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid) FROM pg_proc p
            WHERE p.pronamespace = %(ns)s ORDER BY 1, 2""",
        "views": """
            SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c
            WHERE c.relnamespace = %(ns)s AND c.relkind IN ('v', 'm') ORDER BY 1""",
    }
    own = re.compile(rf'"{re.escape(schema)}"|(?<![\w"]){re.escape(schema)}(?![\w"])')
    connection.set_schema_to_public()
    with connection.cursor() as cur:
        cur.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])
        ns = cur.fetchone()[0]
        out = {}
        for key, sql in queries.items():
            cur.execute(sql, {"ns": ns})
            out[key] = [tuple(own.sub("<s>", v) if isinstance(v, str) else v for v in row) for row in cur.fetchall()]
        counts = []
        for (table,) in [(r[0],) for r in out["relations"] if r[1] == "r"]:
            cur.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
            counts.append((table, cur.fetchone()[0]))
        out["row_counts"] = counts
        cur.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY app, name')
        out["migrations"] = cur.fetchall()
    return out


class _Rollback(Exception):
    pass


def _reparsed_index(schema: str, definition: str) -> str:
    """``definition`` (with ``<s>``) built on ``schema``'s table and read back, then rolled back.

    PostgreSQL prints some predicates differently once they have been parsed again: the
    migration's ``status IN ('a', 'b')`` reads ``= ANY ((ARRAY['a'::varchar, …])::text[])``
    in the template, and that text, replayed, reads ``= ANY (ARRAY[('a'::varchar)::text, …])``.
    Same index; this shows it by building the template's text on the spare."""
    sql = re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON", r"CREATE \1INDEX reparse_probe ON", definition)
    sql = sql.replace("<s>", f'"{schema}"')
    result = None
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
            cur.execute(f"SELECT pg_get_indexdef('\"{schema}\".reparse_probe'::regclass)")
            result = cur.fetchone()[0].replace(f'"{schema}"', "<s>").replace(f"{schema}.", "<s>.")
            raise _Rollback
    except _Rollback:
        pass
    return result.replace("reparse_probe", definition.split()[3 if definition.startswith("CREATE UNIQUE") else 2])


def _compare(left: dict, right: dict, left_schema: str) -> None:
    """``left`` (a clone) must equal ``right`` (the migrated template), key by key."""
    for key in left:
        only_left = sorted(set(left[key]) - set(right[key]), key=repr)
        only_right = sorted(set(right[key]) - set(left[key]), key=repr)
        if key == "indexes" and len(only_left) == len(only_right):
            # Same names, and the template's text builds exactly the clone's index.
            assert [n for n, _ in only_left] == [n for n, _ in only_right]
            assert [(n, _reparsed_index(left_schema, d)) for n, d in only_right] == only_left
            continue
        assert not only_left and not only_right, f"{key} differ: {only_left[:5]} vs {only_right[:5]}"
        assert left[key] == right[key], f"{key}: same rows, other order"


def test_a_fresh_spare_is_the_migrated_template_in_structure_and_migration_table(committed):
    template = provisioning.template_schema()
    name = f"spare_test_{uuid.uuid4().hex[:8]}"
    provisioning.clone_template(name)
    try:
        spare, migrated = _structure(name), _structure(template)
        assert migrated["relations"] and migrated["indexes"] and migrated["constraints"]
        assert len(migrated["migrations"]) > 50
        _compare(spare, migrated, name)
        assert provisioning.schema_fingerprint(name) == provisioning.code_fingerprint()
        # The seed rows are the template's own, ids included (content types match across schemas).
        with connection.cursor() as cur:
            cur.execute(
                f'SELECT id, app_label, model FROM "{name}".django_content_type EXCEPT '
                f'SELECT id, app_label, model FROM "{template}".django_content_type'
            )
            assert cur.fetchall() == []
            # Sequences go on from the template's values: the next row gets a fresh id.
            cur.execute(f'SELECT max(id) FROM "{template}".auth_permission')
            highest = cur.fetchone()[0]
            cur.execute(
                f'INSERT INTO "{name}".auth_permission (name, content_type_id, codename) '
                f"SELECT 'x', min(id), 'x_test' FROM \"{name}\".django_content_type RETURNING id"
            )
            assert cur.fetchone()[0] > highest
    finally:
        with connection.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_the_template_ddl_is_captured_once_per_fingerprint_and_replayed_as_one_script(committed):
    provisioning.forget_template_script()
    first = provisioning.template_script()
    assert provisioning.template_script() is first  # captured once, reused
    assert "information_schema" not in first.sql
    assert provisioning.template_schema() + "." not in first.sql  # every name points at the target
    assert first.fingerprint == provisioning.code_fingerprint()
    names = [f"spare_test_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        for name in names:
            provisioning.clone_template(name)
        assert provisioning.template_script() is first
        assert _structure(names[0]) == _structure(names[1])
    finally:
        with connection.cursor() as cur:
            for name in names:
                cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_other_processes_take_the_captured_script_from_the_cache(committed, monkeypatch):
    script = provisioning.template_script()
    provisioning.forget_template_script()  # this process's copy only: as in a fresh process

    def no_pg_dump(section):
        raise AssertionError("pg_dump ran although the cache holds the script")

    monkeypatch.setattr(provisioning, "_pg_dump", no_pg_dump)
    shared = provisioning.template_script()
    assert shared.sql == script.sql and shared.fingerprint == script.fingerprint
    monkeypatch.undo()
    provisioning.forget_template_script(shared=True)
    assert provisioning.template_script().sql == script.sql  # captured again, same text


def test_without_a_usable_pg_dump_the_clone_falls_back_to_clone_schema(committed, settings):
    provisioning.forget_template_script(shared=True)
    settings.PG_DUMP = "/nonexistent/pg_dump"
    name = f"spare_test_{uuid.uuid4().hex[:8]}"
    try:
        provisioning.clone_template(name)
        assert schema_exists(name)
        assert provisioning.schema_fingerprint(name) == provisioning.code_fingerprint()
    finally:
        with connection.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        provisioning.forget_template_script()


def test_a_failed_clone_leaves_no_schema(committed):
    name = f"spare_test_{uuid.uuid4().hex[:8]}"
    with pytest.raises(RuntimeError), transaction.atomic():
        provisioning.clone_template(name)
        raise RuntimeError("the sign-up failed after the clone")
    assert not schema_exists(name)


# --- the pool's size follows demand ------------------------------------------------------------


def test_the_pool_target_follows_recent_sign_ups_within_bounds(db, settings):
    settings.TENANT_SPARE_POOL_SIZE = 2
    settings.TENANT_SPARE_POOL_MAX = 12
    settings.TENANT_SPARE_POOL_WINDOW_MINUTES = 10
    settings.TENANT_SPARE_POOL_FACTOR = 1.5
    base = provisioning.recent_sign_ups()

    def add(n: int, minutes_ago: int = 0) -> None:
        for _ in range(n):
            tenant = Tenant(schema_name=f"t_rows_{uuid.uuid4().hex[:8]}", slug=_slug(), name="行")
            tenant.auto_create_schema = False
            tenant.save()
            if minutes_ago:
                Tenant.objects.filter(pk=tenant.pk).update(created=timezone.now() - timedelta(minutes=minutes_ago))

    def expected(recent: int) -> int:
        return max(2, min(12, math.ceil(recent * 1.5)))

    add(3, minutes_ago=30)  # outside the window: no effect
    assert provisioning.recent_sign_ups() == base
    assert provisioning.pool_target() == expected(base)
    add(4)
    assert provisioning.recent_sign_ups() == base + 4
    assert provisioning.pool_target() == expected(base + 4)
    add(10)
    assert provisioning.pool_target() == 12  # capped
    settings.TENANT_SPARE_POOL_FACTOR = 0.0
    assert provisioning.pool_target() == 2  # never below the minimum


def test_a_refill_without_a_size_tops_the_pool_up_to_the_target(committed, settings):
    ready = provisioning.valid_spares().count()
    settings.TENANT_SPARE_POOL_FACTOR = 0.0
    settings.TENANT_SPARE_POOL_SIZE = ready + 1
    provisioning.refill_spare_pool(wait=True)
    assert provisioning.valid_spares().count() >= ready + 1
