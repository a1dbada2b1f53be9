from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "mall.payments"
    label = "payments"
    verbose_name = "支付与退款"
    default_auto_field = "django.db.models.BigAutoField"
