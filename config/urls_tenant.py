"""Tenant host ({slug}.<platform domain>) and the shared API host: merchant console, H5
storefront, the public API."""

from django.urls import include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from wagtail.admin import urls as wagtailadmin_urls

from core.health import healthz
from mall.api import errors as api_errors
from mall.storefront_views import h5_app, store_home
from saas_platform.accounts.views import console_link
from saas_platform.review.views import review_file

urlpatterns = [
    path("", store_home, name="store_home"),
    path("h5/", h5_app, name="h5"),
    path("h5/<path:path>", h5_app, name="h5-file"),
    path("healthz", healthz),
    path("i18n/setlang/", set_language, name="set_language"),
    path("console-link/", console_link, name="console_link"),
    path("review-files/", review_file, name="review_file"),
    path("console/", include(wagtailadmin_urls)),
    path("api/v1/", include("mall.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script for the CSP to allow.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^api/", api_errors.not_found),  # every other /api/ path: a JSON 404
    path("", include("core.urls")),
]

# JSON for /api/ paths, Django's pages elsewhere.
handler400 = api_errors.handler400
handler404 = api_errors.handler404
handler500 = api_errors.handler500
