"""Object storage with the tenant in every key.

``TenantStorage`` wraps the configured backend (filesystem, or S3 through django-storages)
and stores a file named ``x`` of tenant ``t_abc`` under ``tenants/t_abc/x``. Files are never
served from a public media URL: ``url()`` returns an expiring signed link to
``core.views.serve_file``, which serves only keys of the tenant the request belongs to.
"""

from __future__ import annotations

import posixpath

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage, storages
from django.core.files.storage.handler import StorageHandler
from django.db import connection
from django.urls import reverse
from django.utils.deconstruct import deconstructible

SIGNING_SALT = "core.storage.file-link"


def _inner() -> Storage:
    handler = getattr(_inner, "_handler", None)
    if handler is None:
        handler = StorageHandler({"inner": settings.TENANT_INNER_STORAGE})
        _inner._handler = handler
    return handler["inner"]


def tenant_prefix(schema_name: str | None = None) -> str:
    return f"tenants/{schema_name or connection.schema_name}/"


@deconstructible
class TenantStorage(Storage):
    def _full(self, name: str) -> str:
        name = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
        if name.startswith("..") or "/../" in f"/{name}/":
            raise SuspiciousFileOperation("path escapes the tenant folder")
        return tenant_prefix() + name

    def _open(self, name, mode="rb"):
        return _inner().open(self._full(name), mode)

    def _save(self, name, content):
        saved = _inner().save(self._full(name), content)
        return saved[len(tenant_prefix()) :]

    def get_available_name(self, name, max_length=None):
        return name

    def delete(self, name):
        _inner().delete(self._full(name))

    def exists(self, name):
        return _inner().exists(self._full(name))

    def size(self, name):
        return _inner().size(self._full(name))

    def listdir(self, path):
        return _inner().listdir(self._full(path))

    def url(self, name):
        token = signing.dumps({"s": connection.schema_name, "n": name}, salt=SIGNING_SALT)
        return reverse("core:file") + f"?t={token}"

    def get_modified_time(self, name):
        return _inner().get_modified_time(self._full(name))


def resolve_link(token: str, schema_name: str) -> str:
    """The file name a link points to, if it is fresh and of this tenant; raises otherwise."""
    data = signing.loads(token, salt=SIGNING_SALT, max_age=settings.PRIVATE_FILE_LINK_SECONDS)
    if data.get("s") != schema_name:
        raise signing.BadSignature("link of another tenant")
    return data["n"]


def default_storage() -> Storage:
    return storages["default"]
