"""Outbox handlers of the catalog (run once each, in the tenant's schema)."""

from core import outbox
from mall.catalog.models import ProductSku, StockNotice


@outbox.handler
def write_stock_notices(*, sku_ids: list[int]) -> None:
    """The merchant's low-stock notices (shown on the console's product list)."""
    skus = ProductSku.objects.filter(pk__in=sku_ids).select_related("product")
    StockNotice.objects.bulk_create(
        StockNotice(sku=s, stock=s.stock, threshold=s.product.low_stock_threshold) for s in skus
    )
