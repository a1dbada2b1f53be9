from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "mall.api"
    label = "mall_api"
    verbose_name = "小程序接口"
