from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "mall.orders"
    label = "orders"
    verbose_name = "订单"
