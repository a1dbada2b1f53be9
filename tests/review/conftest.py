import uuid

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from saas_platform.accounts.actions import create_platform_user
from saas_platform.accounts.models import User
from saas_platform.onboarding.actions import create_store
from tests.conftest import remove_tenant_rows
from tests.onboarding.conftest import memory_sms, new_phone  # noqa: F401 (fixture)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def reviewer(committed):
    with schema_context("public"):
        return User.objects.filter(username="reviewer").first() or create_platform_user(
            username="reviewer", password="Review-Pass-2026", phone="13911112222", is_staff=True
        )


@pytest.fixture
def food_store(committed):
    """A fresh merchant selling food and travel services (so it needs both industry licences)."""
    owner = create_platform_user(username=f"m-{uuid.uuid4().hex[:8]}", password="Shop-Pass-2026", phone=new_phone())
    tenant = create_store(
        owner=owner,
        slug=f"food-{uuid.uuid4().hex[:6]}",
        name="鲜味旅行社",
        industry="fresh",
        categories=["food", "travel"],
    )
    yield tenant
    connection.set_schema_to_public()
    with connection.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
    remove_tenant_rows(tenant)  # the audit trail is append-only: see tests.conftest
