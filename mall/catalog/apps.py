from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "mall.catalog"
    label = "catalog"
    verbose_name = "商品"
