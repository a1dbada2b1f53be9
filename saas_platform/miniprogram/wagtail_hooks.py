from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from core import console as scope
from saas_platform.miniprogram import console

scope.MERCHANT_ONLY_PREFIXES.add("wechat")  # the staff console has no mini-program of its own


@hooks.register("register_admin_urls")
def wechat_admin_urls():
    return [
        path("wechat/", console.binding, name="wechat_binding"),
        path("wechat/authorize/", console.authorize, name="wechat_authorize"),
        path("wechat/authorized/", console.authorized, name="wechat_authorized"),
    ]


@hooks.register("register_admin_menu_item")
def wechat_menu_item():
    return MenuItem(_("绑定小程序"), reverse("wechat_binding"), icon_name="mobile-alt", order=900)
