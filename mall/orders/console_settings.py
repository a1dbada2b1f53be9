"""The merchant console's 订单设置 (order rules): a form that feeds ``update_order_settings``,
under the settings menu, for users holding ``orders.change_ordersettings`` (owner, operations)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks

from core import console as scope
from core.forms import add_action_errors
from mall.orders.actions import ORDER_SETTING_BOUNDS, update_order_settings
from mall.orders.models import OrderSettings

PERM = "orders.change_ordersettings"
scope.MERCHANT_ONLY_PREFIXES.add("order-settings")


def _field(name: str, label, help_text) -> forms.IntegerField:
    low, high = ORDER_SETTING_BOUNDS[name]
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        help_text=help_text,
        error_messages={
            "required": gettext_lazy("请填写此项。"),
            "invalid": gettext_lazy("请填写整数。"),
            "min_value": gettext_lazy("不能小于 %(limit_value)s。"),
            "max_value": gettext_lazy("不能大于 %(limit_value)s。"),
        },
    )


class OrderSettingsForm(forms.Form):
    auto_cancel_minutes = _field(
        "auto_cancel_minutes",
        gettext_lazy("未付款自动取消（分钟）"),
        gettext_lazy("下单后这么久仍未付款，订单自动取消并释放库存（5–1440）"),
    )
    unpaid_query_minutes = _field(
        "unpaid_query_minutes",
        gettext_lazy("补查支付（分钟）"),
        gettext_lazy("下单这么久仍未收到支付通知，主动向微信支付查询（1–60，须早于自动取消）"),
    )
    auto_complete_days = _field(
        "auto_complete_days",
        gettext_lazy("签收后自动完成（天）"),
        gettext_lazy("物流显示签收后这么多天自动确认收货（1–30）"),
    )


@scope.require_perm(PERM)
def edit(request):
    row = OrderSettings.current()
    status = 200
    if request.method == "POST":
        form = OrderSettingsForm(request.POST)
        if form.is_valid():
            try:
                update_order_settings(**form.cleaned_data, actor=request.user)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, _("订单设置已保存。"))
                return redirect("order_settings:edit")
        status = 400
    else:
        form = OrderSettingsForm(
            initial={
                "auto_cancel_minutes": row.auto_cancel_minutes,
                "unpaid_query_minutes": row.unpaid_query_minutes,
                "auto_complete_days": row.auto_complete_days,
            }
        )
    return TemplateResponse(request, "orders/settings.html", {"form": form, "page_title": _("订单设置")}, status=status)


@hooks.register("register_admin_urls")
def register_order_settings_urls():
    return [path("order-settings/", include(([path("", edit, name="edit")], "order_settings")))]


@hooks.register("register_settings_menu_item")
def order_settings_menu_item():
    return scope.PermissionMenuItem(
        gettext_lazy("订单设置"), reverse("order_settings:edit"), icon_name="cog", order=100, perm=PERM
    )
