from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "mall.customers"
    label = "customers"
    verbose_name = "顾客"
