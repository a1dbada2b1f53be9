"""Demo qualification documents in several review states (development only; called by
``tools/demo``), through the review actions."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from saas_platform.review.actions import approve_document, reject_document, submit_document
from saas_platform.review.models import QualificationDocument
from tenants.models import Tenant


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF standing in for a scanned licence."""
    text = title.encode("ascii", "replace").decode()
    stream = f"BT /F1 18 Tf 72 720 Td (DEMO QUALIFICATION: {text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def seed_documents(*, tenant: Tenant, documents: list[tuple[str, str]], credit_code: str, licence_days: int, reviewer):
    """``documents``: [(kind, "approved" | "rejected" | "pending"), …]; once per tenant."""
    if QualificationDocument.objects.filter(tenant=tenant).exists():
        return
    expires = timezone.localdate() + timedelta(days=licence_days)
    for kind, outcome in documents:
        doc = submit_document(
            tenant=tenant,
            kind=kind,
            upload=SimpleUploadedFile(f"{kind}.pdf", demo_pdf(f"{tenant.name} {kind}"), content_type="application/pdf"),
            number=f"{credit_code[:10]}{len(kind):02d}",
            expires_on=expires if kind.endswith("licence") else None,
        )
        if outcome == "approved":
            approve_document(document=doc, reviewer=reviewer)
        elif outcome == "rejected":
            reject_document(document=doc, reviewer=reviewer, reason="许可证照片反光，编号看不清，请重新拍摄上传。")
