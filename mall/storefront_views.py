from django.db import connection
from django.shortcuts import render

from mall.catalog.selectors import shelf_products


def store_home(request):
    """The H5 storefront's landing page on the tenant host (the uni-app client replaces it)."""
    return render(request, "storefront/home.html", {"store": connection.tenant, "products": shelf_products()[:40]})
