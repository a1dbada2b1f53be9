"""Read queries of orders (house rule 1): the console listing, its flags and its export."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from mall.orders.models import Order, OrderLine, OrderStatus


def open_refund_exists():
    from mall.payments.models import OPEN_REFUND_STATES, Refund

    return Exists(Refund.objects.filter(order=OuterRef("pk"), status__in=OPEN_REFUND_STATES))


def console_orders(queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """Orders as the console lists them: customer and promoter joined, ``in_after_sales``
    annotated (an open refund), in one statement per page."""
    queryset = Order.objects.all() if queryset is None else queryset
    return queryset.select_related("customer", "promoter__customer").annotate(in_after_sales=open_refund_exists())


def export_orders(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """What the XLSX export reads per order: the listing's columns, the receiver (masked on
    output), and the lines (one prefetch per chunk). The street address is never loaded."""
    return (
        console_orders(queryset)
        .defer("receiver_detail", "customer__phone", "promoter__customer__phone")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.only("order_id", "title", "sku_name", "quantity").order_by("pk"),
            )
        )
    )


def has_no_real_track(order: Order) -> bool:
    """A shipped or completed order with goods, and no tracking record from the carrier (SPEC M8:
    no commission is settled on it)."""
    return (
        order.has_physical and not order.has_real_track and order.status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED)
    )


def no_real_track_q() -> Q:
    return Q(has_physical=True, has_real_track=False, status__in=[OrderStatus.SHIPPED, OrderStatus.COMPLETED])


def orders_in_category(queryset: QuerySet[Order], category) -> QuerySet[Order]:
    """Orders with at least one line of a product in ``category`` or its sub-categories."""
    return queryset.filter(
        Exists(
            OrderLine.objects.filter(order=OuterRef("pk")).filter(
                Q(product__category=category) | Q(product__category__parent=category)
            )
        )
    )
