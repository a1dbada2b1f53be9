from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from core import console as scope
from saas_platform.miniprogram import console

scope.MERCHANT_ONLY_PREFIXES.add("wechat")  # the staff console has no mini-program of its own


owner_only = scope.require_perm("accounts.manage_store")  # binding the mini-program is the owner's


@hooks.register("register_admin_urls")
def wechat_admin_urls():
    return [
        path("wechat/", owner_only(console.binding), name="wechat_binding"),
        path("wechat/authorize/", owner_only(console.authorize), name="wechat_authorize"),
        path("wechat/authorized/", owner_only(console.authorized), name="wechat_authorized"),
    ]


@hooks.register("register_admin_menu_item")
def wechat_menu_item():
    return scope.PermissionMenuItem(
        _("绑定小程序"), reverse("wechat_binding"), icon_name="mobile-alt", order=900, perm="accounts.manage_store"
    )
