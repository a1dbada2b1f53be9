from django.urls import path, re_path, register_converter

from mall.api import catalog, views
from mall.api.errors import not_found


class IdConverter:
    """A database id: 1–18 digits (a longer number can be no row, and would overflow bigint)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")

app_name = "api"
urlpatterns = [
    path("store", views.StoreView.as_view(), name="store"),
    path("categories", catalog.CategoryTreeView.as_view(), name="categories"),
    path("products", catalog.ProductListView.as_view(), name="products"),
    path("products/<id:pk>", catalog.ProductDetailView.as_view(), name="product"),
    path("products/<id:pk>/contract", catalog.ContractView.as_view(), name="product-contract"),
    path("products/<id:pk>/contract/accept", catalog.ContractAcceptView.as_view(), name="product-contract-accept"),
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("orders", views.OrdersView.as_view(), name="orders"),
    # Anything else under /api/v1/ (unknown paths, bad ids, trailing slashes): a JSON 404.
    re_path(r"^.*$", not_found),
]
