from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "saas_platform.onboarding"
    label = "onboarding"
    verbose_name = "商户入驻"
