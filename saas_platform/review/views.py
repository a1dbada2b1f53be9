from django.core import signing
from django.db import connection
from django.http import FileResponse, Http404

from saas_platform.review import storage
from saas_platform.review.models import QualificationDocument


def review_file(request):
    """A qualification file through an expiring signed link: on the platform host for staff,
    on the merchant's own host for its console users; anyone else gets 404."""
    try:
        data = storage.read_token(request.GET.get("t", ""))
    except signing.BadSignature as exc:
        raise Http404("link expired") from exc
    user = request.user
    if not user.is_authenticated:
        raise Http404
    on_platform = connection.schema_name == "public"
    if on_platform and not user.is_staff:
        raise Http404
    if not on_platform and data["s"] != connection.schema_name:
        raise Http404
    doc = QualificationDocument.objects.filter(pk=data["d"], tenant__schema_name=data["s"]).first()
    if doc is None or not storage.exists(doc.file_key):
        raise Http404
    response = FileResponse(storage.open_file(doc.file_key), content_type=doc.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response
