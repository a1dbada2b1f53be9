"""The two consoles' home pages: every figure comes from one selector here.

The cached figures are plain numbers, keys and names (no translated label, no URL): the
console's panels (wagtail_hooks.py) add those per request, in the user's language.
Each dashboard is computed once and cached for ``DASHBOARD_CACHE_SECONDS``. The cache's
KEY_FUNCTION (``django_tenants.cache.make_key``) puts the active schema in front of every key, so
one store's figures are never served to another (tests/console/test_dashboards.py checks the
stored key). Dates are days in the platform's time zone (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from saas_platform.review.models import DocumentStatus, QualificationDocument
from saas_platform.review.selectors import review_queue
from tenants.models import Tenant, TenantStatus

DASHBOARD_CACHE_SECONDS = 60
EXPIRING_WITHIN_DAYS = 30
CHART_DAYS = 30


def _days(end: dt.date, n: int) -> list[dt.date]:
    return [end - dt.timedelta(days=i) for i in range(n - 1, -1, -1)]


def _series(rows: dict[dt.date, int], days: list[dt.date]) -> list[int]:
    return [int(rows.get(day, 0)) for day in days]


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def dashboard_cache_key(kind: str) -> str:
    """The key is prefixed with the active schema by the cache's KEY_FUNCTION."""
    return f"console:dashboard:{kind}:v1"


def forget_staff_dashboard() -> None:
    """The staff figures change with every review decision: the next view recomputes them."""
    from django_tenants.utils import schema_context

    with schema_context("public"):
        cache.delete(dashboard_cache_key("staff"))


def merchant_dashboard() -> dict:
    return cache.get_or_set(dashboard_cache_key("merchant"), _merchant_dashboard, DASHBOARD_CACHE_SECONDS)


def staff_dashboard() -> dict:
    return cache.get_or_set(dashboard_cache_key("staff"), _staff_dashboard, DASHBOARD_CACHE_SECONDS)


def _merchant_dashboard() -> dict:
    from mall.catalog.models import Product
    from mall.catalog.selectors import low_stock_products
    from mall.orders.models import Order, OrderStatus
    from mall.payments.models import OPEN_REFUND_STATUSES, Refund
    from mall.promoters.models import Promoter, PromoterStatus
    from saas_platform.onboarding.selectors import DONE, checklist

    tenant: Tenant = Tenant.objects.get(schema_name=connection.schema_name)
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    days = _days(today, CHART_DAYS)

    paid = Order.objects.filter(paid_at__gte=_day_start(days[0]))
    daily = {
        row["day"]: row
        for row in paid.annotate(day=TruncDate("paid_at"))
        .values("day")
        .annotate(amount=Sum("paid_fen"), orders=Count("pk"))
        .order_by()
    }
    amounts = {d: r["amount"] or 0 for d, r in daily.items()}
    counts = {d: r["orders"] for d, r in daily.items()}

    pending_kind = getattr(PromoterStatus, "PENDING", None)  # no application step yet: nothing to review
    promoter_applications = Promoter.objects.filter(status=pending_kind).count() if pending_kind else 0
    horizon = today + dt.timedelta(days=EXPIRING_WITHIN_DAYS)
    qualification_issues = (
        QualificationDocument.objects.filter(tenant=tenant)
        .filter(
            Q(status__in=[DocumentStatus.REJECTED, DocumentStatus.EXPIRED])
            | Q(status=DocumentStatus.APPROVED, expires_on__lte=horizon)
        )
        .count()
    )
    todos = {
        "to_ship": Order.objects.filter(status=OrderStatus.PAID).count(),
        "refunds": Refund.objects.filter(status__in=OPEN_REFUND_STATUSES).count(),
        "promoters": promoter_applications,
        "low_stock": low_stock_products().count(),
        "qualifications": qualification_issues,
    }
    steps = checklist(tenant)
    done = sum(1 for s in steps if s.state == DONE)
    return {
        "store": {"name": tenant.name, "status": tenant.status},
        "trial_ends_on": timezone.localdate(tenant.trial_ends_at) if tenant.trial_ends_at else None,
        "today": {"paid_fen": amounts.get(today, 0), "orders": counts.get(today, 0)},
        "yesterday": {"paid_fen": amounts.get(yesterday, 0), "orders": counts.get(yesterday, 0)},
        "todos": todos,
        "onboarding": {"done": done, "total": len(steps), "complete": done == len(steps)},
        "chart": {
            "days": [d.strftime("%m-%d") for d in days],
            "paid_fen": _series(amounts, days),
            "orders": _series(counts, days),
        },
        "product_count": Product.objects.count(),
        "promoter_count": Promoter.objects.count(),
    }


def _staff_dashboard() -> dict:
    merchants = Tenant.objects.exclude(schema_name="public")
    by_status = dict(merchants.values_list("status").annotate(n=Count("pk")))
    today = timezone.localdate()
    days = _days(today, CHART_DAYS)
    signups = dict(
        merchants.filter(created__gte=_day_start(days[0]))
        .annotate(day=TruncDate("created"))
        .values_list("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    queue = review_queue()
    return {
        "merchant_count": merchants.count(),
        "review_queue_count": queue.count(),
        "expiring_count": QualificationDocument.objects.filter(
            status=DocumentStatus.APPROVED,
            expires_on__isnull=False,
            expires_on__lte=today + dt.timedelta(days=EXPIRING_WITHIN_DAYS),
        ).count(),
        "new_this_week": merchants.filter(created__gte=_day_start(today - dt.timedelta(days=6))).count(),
        "by_status": {value: by_status.get(value, 0) for value in TenantStatus.values},
        "latest": [
            {
                "pk": t.pk,
                "name": t.name,
                "slug": t.slug,
                "industry": t.industry,
                "status": t.status,
            }
            for t in merchants.order_by("-created")[:5]
        ],
        "pending_documents": [
            {"pk": d.pk, "tenant": d.tenant.name, "kind": d.kind, "submitted_at": d.submitted_at}
            for d in queue.order_by("submitted_at")[:10]
        ],
        "chart": {"days": [d.strftime("%m-%d") for d in days], "signups": _series(signups, days)},
    }
