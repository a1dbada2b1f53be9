from mall.catalog.models import Product


def shelf_products():
    return Product.objects.filter(on_shelf=True).select_related("category")
