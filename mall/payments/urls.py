"""WeChat Pay's notify URLs, mounted under /wechat/ on the platform host (config/urls_public.py)."""

from django.urls import path

from mall.payments import views

app_name = "payments"
urlpatterns = [
    path("pay/notify/", views.pay_notify, name="pay_notify"),
    path("pay/refund-notify/", views.refund_notify, name="refund_notify"),
    path("pay/transfer-notify/", views.transfer_notify, name="transfer_notify"),
]
