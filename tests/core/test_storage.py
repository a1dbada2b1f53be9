"""Every object-storage key comes from ``core.storage.object_key``: tenant, kind, name."""

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django_tenants.utils import schema_context

from core.storage import KIND_FILES, KIND_QUALIFICATIONS, backend, default_storage, object_key
from saas_platform.review import storage as review_storage


def test_object_key_is_tenant_then_kind_then_name():
    assert object_key(schema_name="t_abc", kind=KIND_FILES, name="img/a.png") == "tenants/t_abc/files/img/a.png"
    assert object_key(schema_name="t_abc", kind=KIND_QUALIFICATIONS, name="x.pdf") == (
        "tenants/t_abc/qualifications/x.pdf"
    )
    assert object_key(schema_name="t_abc", kind=KIND_FILES) == "tenants/t_abc/files/"
    assert object_key(schema_name="t_abc", kind=KIND_FILES, name="/a//b/./c.txt") == "tenants/t_abc/files/a/b/c.txt"
    assert object_key(schema_name="t_abc", kind=KIND_FILES, name="a\\b.txt") == "tenants/t_abc/files/a/b.txt"


@pytest.mark.parametrize("name", ["../t_other/files/x", "a/../../x", "..", "."])
def test_object_key_refuses_names_that_leave_the_folder(name):
    with pytest.raises(SuspiciousFileOperation):
        object_key(schema_name="t_abc", kind=KIND_FILES, name=name)


@pytest.mark.parametrize("schema", ["", "T_ABC", "a/b", "../x", "a b"])
def test_object_key_refuses_what_is_not_a_schema_name(schema):
    with pytest.raises(SuspiciousFileOperation):
        object_key(schema_name=schema, kind=KIND_FILES, name="x")


def test_object_key_refuses_an_unknown_kind():
    with pytest.raises(ValueError):
        object_key(schema_name="t_abc", kind="misc", name="x")


def test_tenant_files_and_qualification_files_use_the_same_key_scheme(tenant_a, db, settings, tmp_path):
    settings.TENANT_INNER_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)},
    }
    from core import storage as core_storage

    core_storage.reset_backend()
    try:
        with schema_context(tenant_a.schema_name):
            name = default_storage().save("docs/menu.txt", ContentFile("菜单".encode()))
            assert name == "docs/menu.txt"
        assert (tmp_path / object_key(schema_name=tenant_a.schema_name, kind=KIND_FILES, name=name)).exists()
        key = review_storage.save(tenant_a.schema_name, b"%PDF-1.4 test", "pdf")
        assert key.startswith(object_key(schema_name=tenant_a.schema_name, kind=KIND_QUALIFICATIONS))
        assert key.endswith(".pdf") and backend().exists(key)
        assert sorted(p.name for p in (tmp_path / "tenants" / tenant_a.schema_name).iterdir()) == [
            "files",
            "qualifications",
        ]
    finally:
        core_storage.reset_backend()
