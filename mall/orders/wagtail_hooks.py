"""Merchant console: orders. The list and the detail page are read-only; the status and the
amounts change only through action buttons (``mall.orders.actions``: cancel, 改价, 核销). Generic
add/edit/copy/delete are refused by the permission policy (``core.console.action_only_policy``),
not only hidden. The list exports to XLSX (``?export=xlsx``, the current filters applied,
streamed; ``core.xlsx``) for holders of ``orders.export_order``.

Bulk actions: Wagtail's bulk-action framework serves pages, images, documents, users and
snippets; a ``ModelViewSet`` listing has no selection checkboxes or bulk footer, so "export the
selected orders" is the filtered export instead (filter, then 导出 Excel)."""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic.models import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet

from core import console as scope
from core.columns import MoneyColumn
from core.crypto import mask_phone
from core.forms import YuanField, add_action_errors
from core.money import format_yuan
from core.xlsx import Col, XlsxExportMixin
from mall.catalog.models import Category
from mall.orders import (
    actions,
    console_settings,  # noqa: F401 (订单设置: its URL and settings-menu item)
    console_shipping,  # noqa: F401 (the ship screen, its URL and the parcels section)
    selectors,
)
from mall.orders.models import Order, OrderEvent, OrderStatus
from mall.promoters.models import Promoter

scope.action_only_policy(Order)
scope.action_only_policy(OrderEvent)


# --- forms of the action buttons --------------------------------------------------------------


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("取消原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("请填写取消原因。")},
    )


class AdjustPriceForm(forms.Form):
    new_total_fen = YuanField(
        label=gettext_lazy("新的应付金额（元）"),
        min_fen=1,
        error_messages={"required": gettext_lazy("请输入新的应付金额。")},
    )
    reason = forms.CharField(
        label=gettext_lazy("改价原因"),
        max_length=120,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("请填写改价原因。")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "adjust_%s")  # the cancel form on the same page has a reason too
        super().__init__(*args, **kwargs)


class RedeemForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("核销码"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "inputmode": "numeric", "placeholder": "0000000000"}
        ),
        error_messages={"required": gettext_lazy("请输入核销码。")},
    )


# --- the list ----------------------------------------------------------------------------------


def _masked_name(name: str) -> str:
    return (name[0] + "*" * max(len(name) - 1, 1)) if name else ""


def _promoter_label(promoter) -> str:
    return f"{promoter.customer} [{promoter.invite_code}]" if promoter else ""


def _flags(order: Order) -> list[str]:
    flags = []
    if getattr(order, "in_after_sales", False):
        flags.append(_("售后中"))
    if selectors.has_no_real_track(order):
        flags.append(_("无真实物流"))
    return flags


class FlagsColumn(Column):
    """售后中 (an open refund) and 无真实物流 (shipped goods the carrier never tracked)."""

    def get_value(self, instance):
        return "、".join(_flags(instance)) or "—"


class OrderFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=gettext_lazy("状态"), choices=OrderStatus.choices)
    created = django_filters.DateFromToRangeFilter(label=gettext_lazy("下单时间"), widget=DateRangePickerWidget)
    category = django_filters.ModelChoiceFilter(
        label=gettext_lazy("商品分类"),
        queryset=Category.objects.select_related("parent").order_by("parent_id", "sort_order", "pk"),
        method="filter_category",
    )
    promoter = django_filters.ModelChoiceFilter(
        label=gettext_lazy("推广员"), queryset=Promoter.objects.select_related("customer")
    )
    after_sales = django_filters.BooleanFilter(label=gettext_lazy("售后中"), method="filter_after_sales")
    no_real_track = django_filters.BooleanFilter(label=gettext_lazy("无真实物流"), method="filter_no_real_track")

    class Meta:
        model = Order
        fields = ["status", "created", "category", "promoter"]

    def filter_category(self, queryset, name, value):
        return selectors.orders_in_category(queryset, value) if value else queryset

    def filter_after_sales(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(selectors.open_refund_exists() if value else ~selectors.open_refund_exists())

    def filter_no_real_track(self, queryset, name, value):
        if value is None:
            return queryset
        q = selectors.no_real_track_q()
        return queryset.filter(q) if value else queryset.exclude(q)


def _order_export_columns() -> list[Col]:
    return [
        Col(_("订单号"), lambda o: o.order_no, width=24),
        Col(_("状态"), lambda o: o.get_status_display(), width=10),
        Col(_("售后与物流"), lambda o: "、".join(_flags(o)), width=16),
        Col(_("下单时间"), lambda o: o.created, "datetime", width=20),
        Col(_("付款时间"), lambda o: o.paid_at, "datetime", width=20),
        Col(_("发货时间"), lambda o: o.shipped_at, "datetime", width=20),
        Col(_("完成时间"), lambda o: o.completed_at, "datetime", width=20),
        Col(_("顾客"), lambda o: str(o.customer), width=16),
        Col(_("收货人"), lambda o: _masked_name(o.receiver), width=10),
        Col(_("收货手机"), lambda o: mask_phone(o.receiver_phone), width=14),
        Col(_("收货地区"), lambda o: o.receiver_region, width=20),
        Col(
            _("商品"),
            lambda o: "；".join(
                f"{line.title}{' ' + line.sku_name if line.sku_name else ''} ×{line.quantity}" for line in o.lines.all()
            ),
            width=40,
        ),
        Col(_("商品金额（元）"), lambda o: o.goods_fen, "money"),
        Col(_("运费（元）"), lambda o: o.shipping_fen, "money"),
        Col(_("改价（元）"), lambda o: o.adjust_fen, "money"),
        Col(_("应付金额（元）"), lambda o: o.total_fen, "money"),
        Col(_("实付金额（元）"), lambda o: o.paid_fen, "money"),
        Col(_("推广员"), lambda o: _promoter_label(o.promoter), width=20),
        Col(_("买家留言"), lambda o: o.remark, width=24),
    ]


class OrderIndexView(XlsxExportMixin, IndexView):
    export_permission = "orders.export_order"
    export_filename = "orders"
    export_title = gettext_lazy("订单")

    def get_base_queryset(self):
        return selectors.console_orders(super().get_base_queryset())

    def export_columns(self):
        return _order_export_columns()

    def export_rows(self, queryset):
        return selectors.export_orders(queryset).iterator(chunk_size=self.export_chunk_size)

    @property
    def header_more_buttons(self):
        from wagtail.admin.widgets.button import Button

        buttons = list(super().header_more_buttons)
        if self.request.user.has_perm("orders.redeem_order"):
            buttons.append(Button(_("核销"), url=reverse("orders:redeem"), icon_name="tick", priority=80))
        return buttons


# --- the detail page ---------------------------------------------------------------------------


def _image_url(name: str) -> str:
    if not name:
        return ""
    try:
        return default_storage.url(name)
    except Exception:  # noqa: BLE001 (a missing or unreachable image must not break the page)
        return ""


def order_detail_context(order: Order) -> dict:
    from mall.payments.models import OPEN_REFUND_STATES

    lines = [
        {
            "title": line.title,
            "sku": line.sku_name or "—",
            "image": _image_url(line.image),
            "kind": line.get_kind_display(),
            "price": format_yuan(line.unit_price_fen),
            "quantity": line.quantity,
            "amount": format_yuan(line.amount_fen),
        }
        for line in order.lines.all().order_by("pk")
    ]
    payments = [
        {
            "transaction_id": p.transaction_id,
            "amount": format_yuan(p.amount_fen),
            "paid_at": p.paid_at,
            "duplicate": p.is_duplicate,
        }
        for p in order.payments.all()
    ]
    refunds = [
        {
            "no": r.out_refund_no,
            "amount": format_yuan(r.amount_fen),
            "status": r.get_status_display(),
            "reason": r.reason,
        }
        for r in order.refunds.all()
    ]
    after_sales = any(r.status in OPEN_REFUND_STATES for r in order.refunds.all())
    flags = []
    if after_sales:
        flags.append(_("售后中"))
    if selectors.has_no_real_track(order):
        flags.append(_("无真实物流"))
    receiver = None
    if order.has_physical and (order.receiver or order.receiver_region):
        detail = order.receiver_detail or ""
        receiver = {
            "name": _masked_name(order.receiver),
            "phone": order.masked_receiver_phone,
            "region": order.receiver_region,
            "detail": (detail[:4] + "****") if len(detail) > 4 else "****",
        }
    return {
        "order": order,
        "lines": lines,
        "goods": format_yuan(order.goods_fen),
        "shipping": format_yuan(order.shipping_fen),
        "adjust": format_yuan(order.adjust_fen) if order.adjust_fen else "",
        "total": format_yuan(order.total_fen),
        "paid": format_yuan(order.paid_fen),
        "payments": payments,
        "refunds": refunds,
        "after_sales": after_sales,
        "flags": flags,
        "customer": order.customer,
        "receiver": receiver,
        "promoter": order.promoter,
        "events": order.events.select_related("actor").all(),
        "can_cancel": order.status == OrderStatus.PENDING_PAYMENT,
        "payment_anomalies": payment_anomalies(order),
        "can_adjust": order.status == OrderStatus.PENDING_PAYMENT,
    }


def payment_anomalies(order: Order) -> list:
    """A wrong amount, a second payment, a payment after cancellation, with the automatic
    refund (templates/payments/_order_anomalies.html)."""
    rows = list(order.payment_anomalies.select_related("refund").order_by("created"))
    for a in rows:
        a.paid, a.expected = format_yuan(a.amount_fen), format_yuan(a.expected_fen)
    return rows


class OrderDetailView(InspectView):
    template_name = "orders/detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(Order.objects.select_related("customer", "promoter__customer"), pk=self.pk)

    def get_page_title(self):
        return _("订单 %(no)s") % {"no": self.object.order_no}

    def get_page_subtitle(self):
        return self.object.get_status_display()

    @property
    def header_more_buttons(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(order_detail_context(self.object))
        context["cancel_form"] = kwargs.get("cancel_form") or CancelForm()
        context["adjust_form"] = kwargs.get("adjust_form") or AdjustPriceForm(
            initial={"new_total_fen": self.object.total_fen}
        )
        context["can_cancel"] = context["can_cancel"] and user.has_perm("orders.cancel_order")
        context["can_adjust"] = context["can_adjust"] and user.has_perm("orders.adjust_order")
        context["can_redeem"] = (
            self.object.has_service
            and self.object.redeemed_at is None
            and self.object.status in (OrderStatus.PAID, OrderStatus.SHIPPED)
            and user.has_perm("orders.redeem_order")
        )
        return context


def _detail_again(request, pk: int, **forms_by_name):
    """The detail page again (read-only), with an action form's field errors (400)."""
    request.method = "GET"
    response = order_viewset.inspect_view(request, pk=pk)
    if isinstance(response, TemplateResponse):
        response.context_data.update(forms_by_name)
        response.status_code = 400
    return response


@require_POST
@scope.require_perm("orders.view_order", "orders.cancel_order")
def cancel(request, pk: int):
    order = get_object_or_404(Order, pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            actions.cancel_order(order=order, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("订单已取消。"))
            return redirect("orders:inspect", pk=order.pk)
    return _detail_again(request, pk, cancel_form=form)


@require_POST
@scope.require_perm("orders.view_order", "orders.adjust_order")
def adjust(request, pk: int):
    order = get_object_or_404(Order, pk=pk)
    form = AdjustPriceForm(request.POST)
    if form.is_valid():
        try:
            changed = actions.adjust_order_price(
                order=order,
                new_total_fen=form.cleaned_data["new_total_fen"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("已改价，应付金额为 %(total)s。") % {"total": format_yuan(changed.total_fen)})
            return redirect("orders:inspect", pk=order.pk)
    return _detail_again(request, pk, adjust_form=form)


@require_http_methods(["GET", "POST"])
@scope.require_perm("orders.view_order", "orders.redeem_order")
def redeem(request):
    """The 核销 screen: type (or scan) the shopper's code; the order is redeemed."""
    form = RedeemForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                order = actions.redeem_order(order_or_code=form.cleaned_data["code"], actor=request.user)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("核销成功：订单 %(no)s（%(status)s）。")
                    % {"no": order.order_no, "status": order.get_status_display()},
                )
                return redirect(f"{reverse('orders:redeem')}?done={order.pk}")
        status = 400
    done = None
    if request.GET.get("done", "").isdigit():
        done = Order.objects.filter(pk=int(request.GET["done"]), redeemed_at__isnull=False).first()
    return TemplateResponse(
        request,
        "orders/redeem.html",
        {"page_title": _("核销"), "form": form, "done": done},
        status=status,
    )


class OrderViewSet(ModelViewSet):
    model = Order
    export_filename = "orders"  # the download's name (Wagtail passes its own to the index view)
    icon = "list-ul"
    menu_label = gettext_lazy("订单")
    menu_order = 210
    add_to_admin_menu = True
    url_prefix = "orders"
    index_view_class = OrderIndexView
    list_display = [
        "order_no",
        "customer",
        MoneyColumn("total_fen", label=gettext_lazy("应付金额")),
        "status",
        "promoter",
        DateColumn("created", label=gettext_lazy("下单时间"), sort_key="created"),
        DateColumn("paid_at", label=gettext_lazy("付款时间"), sort_key="paid_at"),
        FlagsColumn("flags", label=gettext_lazy("标记")),
    ]
    filterset_class = OrderFilterSet
    search_fields = ["order_no", "customer__nickname"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = OrderDetailView
    form_fields = ["promoter"]  # never shown: editing is refused by the policy

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("cancel/<int:pk>/", cancel, name="cancel"),
            path("adjust/<int:pk>/", adjust, name="adjust"),
            path("redeem/", redeem, name="redeem"),
        ]


order_viewset = scope.merchant_only(OrderViewSet("orders"))


@hooks.register("register_admin_viewset")
def register_orders():
    return order_viewset
