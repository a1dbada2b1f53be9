from mall.catalog.models import Product


def shelf_products():
    return Product.objects.filter(on_shelf=True).select_related("category")


LOW_STOCK_THRESHOLD = 10  # a product on the shelf with fewer units than this needs restocking


def low_stock_products():
    """Products on the shelf with fewer than ``LOW_STOCK_THRESHOLD`` units (the dashboard's
    to-do and the product list's "库存不足" filter)."""
    return Product.objects.filter(on_shelf=True, stock__lt=LOW_STOCK_THRESHOLD)
