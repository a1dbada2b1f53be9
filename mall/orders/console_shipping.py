"""Merchant console: shipping an order (发货) and its parcels on the order detail.

* ``/console/orders/ship/<pk>/`` — the ship form: carrier, tracking number and, per physical
  line, how many units go in this parcel (a split shipment is several submissions). POST calls
  ``mall.orders.shipping.ship_order``; its errors are shown on the fields, in Chinese.
* ``{% order_shipments %}`` (``mall/orders/templatetags/order_shipping.py``) renders the
  parcels, their tracking events, 无真实物流 and the 发货 button on the order detail.
Needs ``orders.ship_order`` (owner and customer service)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import include, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks

from core import console as scope
from core.forms import add_action_errors
from integrations.logistics import carriers
from mall.catalog.models import ProductKind
from mall.orders.models import Order, OrderStatus
from mall.orders.shipping import ship_order, units_to_ship

SHIP_PERMS = ("orders.view_order", "orders.ship_order")


def can_ship(user, order: Order) -> bool:
    return order.status == OrderStatus.PAID and order.has_physical and user.has_perms(SHIP_PERMS)


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(
        label=gettext_lazy("快递公司"),
        choices=[],
        error_messages={
            "required": gettext_lazy("请选择快递公司。"),
            "invalid_choice": gettext_lazy("请选择快递公司。"),
        },
    )
    tracking_no = forms.CharField(
        label=gettext_lazy("运单号"),
        max_length=40,
        error_messages={
            "required": gettext_lazy("请填写运单号。"),
            "max_length": gettext_lazy("运单号最多 40 个字符。"),
        },
    )

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = [("", _("请选择")), *carriers.choices()]
        to_ship = units_to_ship(order)  # ordered − shipped − refunded before shipping
        self.line_rows = []
        for line in order.lines.filter(kind=ProductKind.PHYSICAL).order_by("pk"):
            left = to_ship.get(line.pk, 0)
            name = f"qty_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=f"{line.title} {line.sku_name}".strip(),
                min_value=0,
                max_value=left,
                initial=left,
                required=False,
                error_messages={
                    "invalid": gettext_lazy("请填写整数。"),
                    "min_value": gettext_lazy("数量不能为负。"),
                    "max_value": gettext_lazy("最多还能发 %(limit_value)s 件。"),
                },
            )
            self.line_rows.append({"field": name, "line": line, "ordered": line.quantity, "left": left})

    def rows(self):
        return [{**row, "bound": self[row["field"]]} for row in self.line_rows]

    def parcel(self) -> dict:
        lines = [
            (row["line"].pk, self.cleaned_data.get(row["field"]) or 0)
            for row in self.line_rows
            if self.cleaned_data.get(row["field"])
        ]
        return {
            "carrier": self.cleaned_data["carrier"],
            "tracking_no": self.cleaned_data["tracking_no"],
            "lines": lines,
        }


@scope.require_perm(*SHIP_PERMS)
def ship(request, pk: int):
    order = get_object_or_404(Order, pk=pk)
    status = 200
    if request.method == "POST":
        form = ShipForm(request.POST, order=order)
        if form.is_valid():
            try:
                ship_order(order=order, parcels=[form.parcel()], actor=request.user)
            except ValidationError as exc:
                errors = exc.message_dict
                if "lines" in errors:  # the per-line quantities: shown above the lines table
                    form.add_error(None, errors.pop("lines"))
                if errors:
                    add_action_errors(form, ValidationError(errors))
            else:
                messages.success(request, _("已发货。"))
                return redirect("orders:inspect", pk=order.pk)
        status = 400
    else:
        form = ShipForm(order=order)
    return TemplateResponse(
        request,
        "orders/ship.html",
        {
            "order": order,
            "form": form,
            "can_ship": order.status == OrderStatus.PAID and order.has_physical,
            "page_title": _("发货：订单 %(no)s") % {"no": order.order_no},
        },
        status=status,
    )


@hooks.register("register_admin_urls")
def register_shipping_urls():
    return [path("orders/ship/", include(([path("<int:pk>/", ship, name="ship")], "orders_shipping")))]
