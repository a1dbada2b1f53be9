from django.apps import AppConfig


class PromotersConfig(AppConfig):
    name = "mall.promoters"
    label = "promoters"
    verbose_name = "推广员"
