from django.db.models import F

from mall.catalog.models import Category, Product, ProductContract, ProductSku


def shelf_products():
    return Product.objects.filter(on_shelf=True).select_related("category")


LOW_STOCK_THRESHOLD = 10  # the default of ``Product.low_stock_threshold``


def low_stock_skus():
    """Active SKUs of products on the shelf with fewer units than their product's threshold."""
    return ProductSku.objects.filter(
        is_active=True, product__on_shelf=True, stock__lt=F("product__low_stock_threshold")
    )


def low_stock_products():
    """Products on the shelf with a SKU below the product's low-stock threshold (the dashboard's
    to-do and the product list's "库存不足" filter)."""
    return Product.objects.filter(on_shelf=True, pk__in=low_stock_skus().values("product_id"))


def category_with_children(category_id: int) -> list[int]:
    """A category's id and its sub-categories' ids (the tree is two levels deep)."""
    return [category_id, *Category.objects.filter(parent_id=category_id).values_list("pk", flat=True)]


def newest_contract(product: Product) -> ProductContract | None:
    return ProductContract.objects.filter(product=product).order_by("-version").first()
