from django.db import connection
from django.db.models import Count, Sum

from saas_platform.review.selectors import review_queue
from tenants.models import Tenant, TenantStatus


def staff_dashboard() -> dict:
    merchants = Tenant.objects.exclude(schema_name="public")
    by_status = dict(merchants.values_list("status").annotate(n=Count("pk")))
    return {
        "merchant_count": merchants.count(),
        "by_status": [(label, by_status.get(value, 0)) for value, label in TenantStatus.choices],
        "latest": list(merchants.order_by("-created")[:5]),
        "pending_documents": list(review_queue()[:10]),
    }


def merchant_dashboard() -> dict:
    from mall.catalog.models import Product
    from mall.orders.models import Order, OrderStatus
    from mall.promoters.models import Promoter

    paid = Order.objects.exclude(status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED])
    return {
        "store": connection.tenant,
        "product_count": Product.objects.count(),
        "promoter_count": Promoter.objects.count(),
        "order_count": Order.objects.count(),
        "paid_total_fen": paid.aggregate(s=Sum("paid_fen"))["s"] or 0,
    }
