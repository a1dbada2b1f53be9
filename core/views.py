import mimetypes

from django.core import signing
from django.db import connection
from django.http import FileResponse, Http404

from core.storage import default_storage, resolve_link


def serve_file(request):
    """Serve a stored file of the current tenant through an expiring signed link."""
    try:
        name = resolve_link(request.GET.get("t", ""), connection.schema_name)
    except signing.BadSignature as exc:
        raise Http404("link expired or not for this store") from exc
    storage = default_storage()
    if not storage.exists(name):
        raise Http404("no such file")
    content_type, _ = mimetypes.guess_type(name)
    return FileResponse(storage.open(name), content_type=content_type or "application/octet-stream")
