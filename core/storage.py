"""Object storage with the tenant in every key.

Every object-storage key is built by one function, ``object_key``:
``tenants/<schema>/<kind>/<name>``; the kinds are ``files`` (whatever goes through
``TenantStorage``: images, documents, published configs) and ``qualifications`` (merchant
qualification files, ``saas_platform.review.storage``). ``backend()`` is the configured backend
(filesystem, or S3 through django-storages); nothing else builds keys for it.

``TenantStorage`` (the default storage) stores a file named ``x`` of tenant ``t_abc`` under
``tenants/t_abc/files/x``. Files are never served from a public media URL: ``url()`` returns an
expiring signed link to ``core.views.serve_file``, which serves only keys of the tenant the
request belongs to.
"""

from __future__ import annotations

import posixpath
import re

from django.conf import settings
from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage, storages
from django.core.files.storage.handler import StorageHandler
from django.db import connection
from django.urls import reverse
from django.utils.deconstruct import deconstructible

SIGNING_SALT = "core.storage.file-link"
KIND_FILES = "files"
KIND_QUALIFICATIONS = "qualifications"
KINDS = frozenset({KIND_FILES, KIND_QUALIFICATIONS})
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_handler: list[StorageHandler | None] = [None]


def backend() -> Storage:
    """The configured object-storage backend (``TENANT_INNER_STORAGE``); keys from ``object_key``."""
    if _handler[0] is None:
        _handler[0] = StorageHandler({"inner": settings.TENANT_INNER_STORAGE})
    return _handler[0]["inner"]


def reset_backend() -> None:
    """Rebuild the backend from the settings on next use (after they change, e.g. in tests)."""
    _handler[0] = None


def object_key(*, schema_name: str, kind: str, name: str = "") -> str:
    """The key of object ``name`` of ``kind`` of one tenant: ``tenants/<schema>/<kind>/<name>``.
    With no name, the folder (ending in ``/``). A name that leaves the folder is refused."""
    if not _SCHEMA.match(schema_name or ""):
        raise SuspiciousFileOperation(f"not a schema name: {schema_name!r}")
    if kind not in KINDS:
        raise ValueError(f"unknown object kind: {kind!r}")
    prefix = f"tenants/{schema_name}/{kind}/"
    if not name:
        return prefix
    clean = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if clean in ("", ".") or clean.startswith("..") or "/../" in f"/{clean}/":
        raise SuspiciousFileOperation("path escapes the tenant folder")
    return prefix + clean


def tenant_prefix(schema_name: str | None = None) -> str:
    return object_key(schema_name=schema_name or connection.schema_name, kind=KIND_FILES)


@deconstructible
class TenantStorage(Storage):
    def _full(self, name: str) -> str:
        return object_key(schema_name=connection.schema_name, kind=KIND_FILES, name=name)

    def _open(self, name, mode="rb"):
        return backend().open(self._full(name), mode)

    def _save(self, name, content):
        saved = backend().save(self._full(name), content)
        return saved[len(tenant_prefix()) :]

    def get_available_name(self, name, max_length=None):
        return name

    def delete(self, name):
        backend().delete(self._full(name))

    def exists(self, name):
        return backend().exists(self._full(name))

    def size(self, name):
        return backend().size(self._full(name))

    def listdir(self, path):
        return backend().listdir(self._full("" if path in ("", ".") else path))

    def url(self, name):
        token = signing.dumps({"s": connection.schema_name, "n": name}, salt=SIGNING_SALT)
        return reverse("core:file") + f"?t={token}"

    def get_modified_time(self, name):
        return backend().get_modified_time(self._full(name))


def resolve_link(token: str, schema_name: str) -> str:
    """The file name a link points to, if it is fresh and of this tenant; raises otherwise."""
    data = signing.loads(token, salt=SIGNING_SALT, max_age=settings.PRIVATE_FILE_LINK_SECONDS)
    if data.get("s") != schema_name:
        raise signing.BadSignature("link of another tenant")
    return data["n"]


def default_storage() -> Storage:
    return storages["default"]
