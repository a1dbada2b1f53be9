from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from core import console as scope
from saas_platform.onboarding import console_views as v

scope.MERCHANT_ONLY_PREFIXES.add("onboarding")

urls = (
    [
        path("", v.overview, name="overview"),
        path("template/", v.choose_template, name="template"),
        path("business/", v.business, name="business"),
        path("documents/", v.documents, name="documents"),
        path("documents/<slug:kind>/", v.upload_document, name="upload"),
        path("documents/file/<int:pk>/", v.document_file, name="file"),
        path("wechat/", v.wechat, name="wechat"),
        path("pay/", v.pay, name="pay"),
        path("preview/", v.preview, name="preview"),
    ],
    "onboarding_console",
)


@hooks.register("register_admin_urls")
def register_onboarding_urls():
    return [path("onboarding/", include(urls))]


@hooks.register("register_admin_menu_item")
def onboarding_menu_item():
    return MenuItem(_("开店向导"), reverse("onboarding_console:overview"), icon_name="tasks", order=50)
