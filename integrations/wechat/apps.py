from django.apps import AppConfig


class WechatConfig(AppConfig):
    name = "integrations.wechat"
    label = "wechat"
    verbose_name = "微信"
    default_auto_field = "django.db.models.BigAutoField"
