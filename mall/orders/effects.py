"""Outbox handlers of the orders app (run once each, in the tenant's schema)."""

from django.db.models import F

from core import outbox
from mall.catalog.models import Product
from mall.orders.models import OrderLine


@outbox.handler
def count_sales(*, order_id: int) -> None:
    for product_id, quantity in OrderLine.objects.filter(order_id=order_id).values_list("product_id", "quantity"):
        Product.objects.filter(pk=product_id).update(sales_count=F("sales_count") + quantity)
