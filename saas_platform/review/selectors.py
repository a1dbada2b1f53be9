from __future__ import annotations

from saas_platform.review.models import DocumentKind, DocumentStatus, QualificationDocument
from tenants.models import Tenant

BASE_KINDS = [DocumentKind.BUSINESS_LICENCE, DocumentKind.LEGAL_PERSON_ID, DocumentKind.ICP_FILING]
KINDS_BY_CATEGORY = {"food": [DocumentKind.FOOD_LICENCE], "travel": [DocumentKind.TRAVEL_LICENCE]}


def required_kinds(tenant: Tenant) -> list[str]:
    """The documents this merchant must provide, from the service categories it chose."""
    categories = getattr(getattr(tenant, "profile", None), "service_categories", None) or []
    kinds = list(BASE_KINDS)
    for category in categories:
        for kind in KINDS_BY_CATEGORY.get(category, []):
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def documents_by_kind(tenant: Tenant) -> dict[str, QualificationDocument]:
    return {d.kind: d for d in QualificationDocument.objects.filter(tenant=tenant)}


def review_queue():
    return QualificationDocument.objects.filter(status=DocumentStatus.PENDING).select_related("tenant")
