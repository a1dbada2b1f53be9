"""Merchant console: payments and refunds, read-only (a payment is recorded only by
``record_payment`` from WeChat's word; a refund changes only through ``mall.payments.actions``)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from core import console as scope
from mall.payments.models import OPEN_REFUND_STATUSES, Payment, Refund

scope.action_only_policy(Payment)
scope.action_only_policy(Refund)


class PaymentViewSet(ModelViewSet):
    model = Payment
    icon = "success"
    menu_label = _("支付")
    url_prefix = "payments"
    list_display = ["transaction_id", "order", "amount_fen", "paid_at"]
    search_fields = ["transaction_id", "order__order_no"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    form_fields = ["transaction_id"]  # never shown: editing is refused by the policy


class RefundFilterSet(WagtailFilterSet):
    open = django_filters.BooleanFilter(label=_("未完结"), method="filter_open")

    class Meta:
        model = Refund
        fields = ["status"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status__in=OPEN_REFUND_STATUSES)
        return queryset.exclude(status__in=OPEN_REFUND_STATUSES)


class RefundViewSet(ModelViewSet):
    model = Refund
    icon = "undo"
    menu_label = _("售后退款")
    url_prefix = "refunds"
    list_display = ["out_refund_no", "order", "amount_fen", "status", "created", "finished_at"]
    filterset_class = RefundFilterSet
    search_fields = ["out_refund_no", "order__order_no"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    form_fields = ["reason"]  # never shown: editing is refused by the policy


class MoneyGroup(ModelViewSetGroup):
    menu_label = _("支付与售后")
    menu_icon = "success"
    menu_order = 215
    items = (PaymentViewSet("payments"), RefundViewSet("refunds"))


money_group = MoneyGroup()
for vs in money_group.registerables:
    scope.merchant_only(vs)


@hooks.register("register_admin_viewset")
def register_money():
    return money_group
