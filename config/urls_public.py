"""Platform host (public schema): landing, accounts, staff console, health."""

from django.urls import include, path
from django.views.i18n import set_language
from wagtail.admin import urls as wagtailadmin_urls

from core.health import healthz
from saas_platform.accounts import views as account_views
from saas_platform.review.views import review_file

urlpatterns = [
    path("", account_views.landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("saas_platform.accounts.urls")),
    path("accounts/", include("saas_platform.onboarding.urls")),
    path("review-files/", review_file, name="review_file"),
    path("staff/", include(wagtailadmin_urls)),
    path("wechat/", include("saas_platform.miniprogram.urls")),
    path("wechat/", include("mall.payments.urls")),
]
