from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "saas_platform.console"
    label = "platform_console"
    verbose_name = "运营后台"
