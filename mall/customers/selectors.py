"""Read queries of the shoppers app (the console's shopper list and detail)."""

from __future__ import annotations

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core import crypto
from mall.customers.models import Customer


def _paid_orders():
    from mall.orders.models import Order, OrderStatus

    return Order.objects.filter(customer=OuterRef("pk"), paid_at__isnull=False).exclude(status=OrderStatus.CANCELLED)


def with_spending(queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """Shoppers annotated in SQL (no per-row query): ``paid_orders`` (orders paid and not
    cancelled), ``paid_total_fen`` (what they paid for them), ``refunded_fen`` (refunds
    completed on them) and ``spent_fen`` (paid − refunded)."""
    from mall.payments.models import Refund, RefundStatus

    queryset = Customer.objects.all() if queryset is None else queryset
    count = _paid_orders().order_by().values("customer").annotate(n=Count("pk")).values("n")
    paid = _paid_orders().order_by().values("customer").annotate(s=Sum("paid_fen")).values("s")
    refunded = (
        Refund.objects.filter(order__customer=OuterRef("pk"), status=RefundStatus.SUCCESS, payment__is_duplicate=False)
        .order_by()
        .values("order__customer")
        .annotate(s=Sum("amount_fen"))
        .values("s")
    )
    zero = Value(0, output_field=IntegerField())
    return queryset.annotate(
        paid_orders=Coalesce(Subquery(count, output_field=IntegerField()), zero),
        paid_total_fen=Coalesce(Subquery(paid, output_field=IntegerField()), zero),
        refunded_fen=Coalesce(Subquery(refunded, output_field=IntegerField()), zero),
    ).annotate(spent_fen=F("paid_total_fen") - F("refunded_fen"))


def search(queryset: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    """By nickname (contains) or, for a full mobile number, exactly by its blind index."""
    term = (term or "").strip()
    if not term:
        return queryset
    if crypto.is_valid_phone(term):
        return queryset.filter(phone_index=crypto.blind_index(crypto.normalize_phone(term)))
    return queryset.filter(nickname__icontains=term)
