from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from core import console as scope
from saas_platform.onboarding import console_views as v

scope.MERCHANT_ONLY_PREFIXES.add("onboarding")

owner_only = scope.require_perm("accounts.manage_store")  # the store's set-up is the owner's

urls = (
    [
        path("", owner_only(v.overview), name="overview"),
        path("template/", owner_only(v.choose_template), name="template"),
        path("business/", owner_only(v.business), name="business"),
        path("documents/", owner_only(v.documents), name="documents"),
        path("documents/<slug:kind>/", owner_only(v.upload_document), name="upload"),
        path("documents/file/<int:pk>/", owner_only(v.document_file), name="file"),
        path("wechat/", owner_only(v.wechat), name="wechat"),
        path("pay/", owner_only(v.pay), name="pay"),
        path("preview/", owner_only(v.preview), name="preview"),
    ],
    "onboarding_console",
)


@hooks.register("register_admin_urls")
def register_onboarding_urls():
    return [path("onboarding/", include(urls))]


@hooks.register("register_admin_menu_item")
def onboarding_menu_item():
    return scope.PermissionMenuItem(
        _("开店向导"), reverse("onboarding_console:overview"), icon_name="tasks", order=50, perm="accounts.manage_store"
    )
