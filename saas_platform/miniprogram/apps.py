from django.apps import AppConfig


class MiniProgramConfig(AppConfig):
    name = "saas_platform.miniprogram"
    label = "miniprogram"
    verbose_name = "小程序绑定"
    default_auto_field = "django.db.models.BigAutoField"
