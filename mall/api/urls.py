from django.urls import path

from mall.api import views

app_name = "api"
urlpatterns = [
    path("store", views.StoreView.as_view(), name="store"),
    path("products", views.ProductListView.as_view(), name="products"),
    path("products/<int:pk>", views.ProductDetailView.as_view(), name="product"),
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("orders", views.OrdersView.as_view(), name="orders"),
]
