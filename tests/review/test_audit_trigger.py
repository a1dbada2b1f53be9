"""The audit trail is append-only in the database too: a trigger refuses UPDATE and DELETE."""

import pytest
from django.db import transaction
from django.db.utils import DatabaseError
from django_tenants.utils import schema_context

from saas_platform.review.models import AuditEntry


def test_the_database_refuses_to_change_or_delete_an_audit_row(tenant_a, db):
    with schema_context("public"):
        entry = AuditEntry.objects.create(tenant=tenant_a, action="test_entry", subject="审计", reason="原始原因")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(reason="改过的原因")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            entry.reason = "通过 save() 改"
            entry.save()
        fresh = AuditEntry.objects.get(pk=entry.pk)
        assert fresh.reason == "原始原因"
