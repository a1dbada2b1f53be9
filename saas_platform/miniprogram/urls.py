from django.urls import path

from integrations.wechat import views

app_name = "wechat"
urlpatterns = [
    path("component/", views.component_push, name="component_push"),
    path("events/<str:appid>/", views.authorizer_event, name="authorizer_event"),
    path("pay/notify/", views.pay_notify, name="pay_notify"),
    path("pay/refund-notify/", views.refund_notify, name="refund_notify"),
    path("pay/transfer-notify/", views.transfer_notify, name="transfer_notify"),
]
