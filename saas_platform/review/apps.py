from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "saas_platform.review"
    label = "review"
    verbose_name = "资质审核"
