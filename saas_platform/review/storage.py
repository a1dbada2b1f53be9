"""Private object storage for qualification files: key ``object_key(kind="qualifications")``
(``tenants/<schema>/qualifications/<uuid>.<ext>``) in the configured backend (filesystem or S3),
served only through expiring signed links."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile

from core.storage import KIND_QUALIFICATIONS, backend, object_key

SALT = "review.document-link"
SNIFF = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the file's first bytes; None for anything but PDF/PNG/JPEG."""
    for magic, kind in SNIFF.items():
        if head.startswith(magic):
            return kind
    return None


def folder(schema_name: str) -> str:
    return object_key(schema_name=schema_name, kind=KIND_QUALIFICATIONS)


def save(schema_name: str, data: bytes, ext: str) -> str:
    key = object_key(schema_name=schema_name, kind=KIND_QUALIFICATIONS, name=f"{uuid.uuid4().hex}.{ext}")
    return backend().save(key, ContentFile(data))


def delete(key: str) -> None:
    if key:
        backend().delete(key)


def open_file(key: str):
    return backend().open(key, "rb")


def exists(key: str) -> bool:
    return backend().exists(key)


def link_token(document_id: int, schema_name: str) -> str:
    return signing.dumps({"d": document_id, "s": schema_name}, salt=SALT)


def read_token(token: str) -> dict:
    return signing.loads(token, salt=SALT, max_age=settings.PRIVATE_FILE_LINK_SECONDS)
