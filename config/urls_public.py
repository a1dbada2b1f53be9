"""Platform host (public schema): landing, accounts, staff console, health."""

from django.urls import include, path, re_path
from django.views.i18n import set_language
from wagtail.admin import urls as wagtailadmin_urls

from core.health import healthz
from mall.api import errors as api_errors
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
    path("logistics/", include("mall.orders.logistics_urls")),
    re_path(r"^api/", api_errors.not_found),  # the API is on tenant hosts: a JSON 404 here
]

# JSON for /api/ paths, Django's pages elsewhere.
handler400 = api_errors.handler400
handler404 = api_errors.handler404
handler500 = api_errors.handler500
