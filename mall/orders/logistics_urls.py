"""The tracking API's push URL, mounted under /logistics/ on the platform host (config/urls_public.py)."""

from django.urls import path

from mall.orders import logistics_views

app_name = "logistics"
urlpatterns = [path("notify/<int:tenant_id>/", logistics_views.notify, name="notify")]
