"""Merchant console: payments and refunds, read-only (a payment is recorded only by
``record_payment`` from WeChat's word; a refund changes only through ``mall.payments.actions``)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from core import console as scope
from core.columns import BoolColumn, MoneyColumn
from mall.payments.models import OPEN_REFUND_STATUSES, Payment, PaymentAnomaly, Refund

scope.action_only_policy(Payment)
scope.action_only_policy(Refund)
scope.action_only_policy(PaymentAnomaly)


class PaymentViewSet(ModelViewSet):
    model = Payment
    icon = "success"
    menu_label = _("支付")
    url_prefix = "payments"
    list_display = [
        "transaction_id",
        "order",
        MoneyColumn("amount_fen", label=_("金额")),
        BoolColumn("is_duplicate", label=_("重复支付")),
        "paid_at",
    ]
    list_filter = ["is_duplicate"]
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


class AnomalyIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("refund")


def _refund_state(anomaly: PaymentAnomaly) -> str:
    if anomaly.refund_id is None:
        return str(_("待商家处理"))
    return f"{anomaly.refund.out_refund_no} · {anomaly.refund.get_status_display()}"


class PaymentAnomalyViewSet(ModelViewSet):
    """What WeChat reported that we did not simply accept (a wrong amount, a second payment, a
    payment after cancellation): read-only; a duplicate's automatic refund is shown with it."""

    model = PaymentAnomaly
    icon = "warning"
    menu_label = _("支付异常")
    url_prefix = "payment-anomalies"
    list_display = [
        "order_no",
        "kind",
        "transaction_id",
        MoneyColumn("amount_fen", label=_("支付金额")),
        MoneyColumn("expected_fen", label=_("应付金额")),
        Column("refund_state", label=_("自动退款"), accessor=_refund_state),
        "created",
    ]
    list_filter = ["kind"]
    search_fields = ["order_no", "transaction_id"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    form_fields = ["order_no"]  # never shown: editing is refused by the policy
    index_view_class = AnomalyIndexView


class MoneyGroup(ModelViewSetGroup):
    menu_label = _("支付与售后")
    menu_icon = "success"
    menu_order = 215
    items = (PaymentViewSet("payments"), RefundViewSet("refunds"), PaymentAnomalyViewSet("payment_anomalies"))


money_group = MoneyGroup()
for vs in money_group.registerables:
    scope.merchant_only(vs)


@hooks.register("register_admin_viewset")
def register_money():
    return money_group
