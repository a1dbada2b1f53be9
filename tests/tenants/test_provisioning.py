import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client
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
