"""Merchant console: orders. The list and the detail page are read-only; the status changes
only through action buttons (``mall.orders.actions``). Generic add/edit/copy/delete are refused
by the permission policy (``core.console.action_only_policy``), not only hidden."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.views.generic.models import InspectView
from wagtail.admin.viewsets.model import ModelViewSet

from core import console as scope
from core.columns import MoneyColumn
from core.forms import add_action_errors
from core.money import format_yuan
from mall.orders import (
    actions,
    console_shipping,  # noqa: F401 (the ship screen, its URL and the parcels section)
)
from mall.orders.models import Order, OrderEvent, OrderStatus

scope.action_only_policy(Order)
scope.action_only_policy(OrderEvent)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("取消原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("请填写取消原因。")},
    )


def order_detail_context(order: Order) -> dict:
    lines = [
        {
            "title": line.title,
            "sku": "—",
            "price": format_yuan(line.unit_price_fen),
            "quantity": line.quantity,
            "amount": format_yuan(line.amount_fen),
        }
        for line in order.lines.all().order_by("pk")
    ]
    payments = [
        {"transaction_id": p.transaction_id, "amount": format_yuan(p.amount_fen), "paid_at": p.paid_at}
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
    return {
        "order": order,
        "lines": lines,
        "total": format_yuan(order.total_fen),
        "paid": format_yuan(order.paid_fen),
        "payments": payments,
        "refunds": refunds,
        "customer": order.customer,
        "promoter": order.promoter,
        "events": order.events.select_related("actor").all(),
        "can_cancel": order.status == OrderStatus.PENDING_PAYMENT,
        "payment_anomalies": payment_anomalies(order),
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
        context.update(order_detail_context(self.object))
        context["cancel_form"] = kwargs.get("cancel_form") or CancelForm()
        context["can_cancel"] = context["can_cancel"] and self.request.user.has_perm("orders.cancel_order")
        return context


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
    request.method = "GET"  # the detail page again (read-only), with the form's field errors
    response = order_viewset.inspect_view(request, pk=pk)
    if isinstance(response, TemplateResponse):
        response.context_data["cancel_form"] = form
        response.status_code = 400
    return response


class OrderViewSet(ModelViewSet):
    model = Order
    icon = "list-ul"
    menu_label = gettext_lazy("订单")
    menu_order = 210
    add_to_admin_menu = True
    url_prefix = "orders"
    list_display = [
        "order_no",
        "customer",
        "promoter",
        "status",
        MoneyColumn("total_fen", label=_("应付金额")),
        MoneyColumn("paid_fen", label=_("实付金额")),
        "created",
    ]
    list_filter = ["status"]
    search_fields = ["order_no"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = OrderDetailView
    form_fields = ["promoter"]  # never shown: editing is refused by the policy

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("cancel/<int:pk>/", cancel, name="cancel")]


order_viewset = scope.merchant_only(OrderViewSet("orders"))


@hooks.register("register_admin_viewset")
def register_orders():
    return order_viewset
