from django.urls import path, re_path, register_converter

from mall.api import customers, views
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
    path("products", views.ProductListView.as_view(), name="products"),
    path("products/<id:pk>", views.ProductDetailView.as_view(), name="product"),
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("orders", views.OrdersView.as_view(), name="orders"),
    path("me", customers.MeView.as_view(), name="me"),
    path("me/phone", customers.BindPhoneView.as_view(), name="me-phone"),
    path("addresses", customers.AddressListView.as_view(), name="addresses"),
    path("addresses/<id:pk>", customers.AddressDetailView.as_view(), name="address"),
    # Anything else under /api/v1/ (unknown paths, bad ids, trailing slashes): a JSON 404.
    re_path(r"^.*$", not_found),
]
