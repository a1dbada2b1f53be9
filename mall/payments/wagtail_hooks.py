"""Merchant console: payments and refunds, read-only (a payment is recorded only by
``record_payment`` from WeChat's word; a refund changes only through ``mall.payments.actions``).

The refund detail shows the lines, amounts and return tracking; a refund pending review has two
buttons, 同意退款 (``approve_refund``) and 拒绝退款 with a reason (``decline_refund``), for
holders of ``payments.review_refund`` (owner, customer service, finance)."""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from core import console as scope
from core.columns import BoolColumn, MoneyColumn
from core.forms import add_action_errors
from core.money import format_yuan
from mall.payments import actions
from mall.payments.models import (
    OPEN_REFUND_STATUSES,
    Payment,
    PaymentAnomaly,
    Refund,
    RefundKind,
    RefundSource,
    RefundStatus,
)

REVIEW_PERM = "payments.review_refund"

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
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RefundStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=RefundKind.choices)
    source = django_filters.ChoiceFilter(label=_("发起方"), choices=RefundSource.choices)
    created = django_filters.DateFromToRangeFilter(label=_("申请时间"), widget=DateRangePickerWidget)

    class Meta:
        model = Refund
        fields = ["open", "status", "kind", "source", "created"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status__in=OPEN_REFUND_STATUSES)
        return queryset.exclude(status__in=OPEN_REFUND_STATUSES)


class ReviewForm(forms.Form):
    """The approve button's form: it names the refund the merchant is looking at (a stale page
    or a stray POST approves nothing)."""

    confirm_no = forms.CharField(widget=forms.HiddenInput, error_messages={"required": _("请从退款详情页操作。")})

    def __init__(self, *args, refund: Refund, **kwargs):
        super().__init__(*args, **kwargs)
        self.refund = refund
        self.fields["confirm_no"].initial = refund.out_refund_no

    def clean_confirm_no(self):
        value = self.cleaned_data["confirm_no"]
        if value != self.refund.out_refund_no:
            raise forms.ValidationError(_("退款单已变化，请刷新页面后再操作。"))
        return value


class DeclineForm(ReviewForm):
    reason = forms.CharField(
        label=_("拒绝原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写拒绝原因。")},
    )


def refund_detail_context(refund: Refund) -> dict:
    lines = [
        {
            "title": part.line.title,
            "sku": part.line.sku_name or "—",
            "quantity": part.quantity,
            "line_quantity": part.line.quantity,
            "line_amount": format_yuan(part.line.amount_fen),
            "amount": format_yuan(part.amount_fen),
        }
        for part in refund.lines.select_related("line").order_by("pk")
    ]
    shipping = refund.amount_fen - sum(p.amount_fen for p in refund.lines.all())
    return {
        "refund": refund,
        "order": refund.order,
        "lines": lines,
        "amount": format_yuan(refund.amount_fen),
        "shipping": format_yuan(shipping) if shipping > 0 else "",
        "paid": format_yuan(refund.payment.amount_fen),
        "events": refund.order.events.filter(kind__startswith="refund_", note__startswith=refund.out_refund_no)
        .select_related("actor")
        .order_by("created", "pk"),
    }


class RefundIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("order")


class RefundDetailView(InspectView):
    template_name = "payments/refund_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(Refund.objects.select_related("order", "payment"), pk=self.pk)

    def get_page_title(self):
        return _("退款单 %(no)s") % {"no": self.object.out_refund_no}

    def get_page_subtitle(self):
        return self.object.get_status_display()

    @property
    def header_more_buttons(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(refund_detail_context(self.object))
        context["can_review"] = self.object.status == RefundStatus.PENDING_REVIEW and self.request.user.has_perm(
            REVIEW_PERM
        )
        context["approve_form"] = kwargs.get("approve_form") or ReviewForm(refund=self.object)
        context["decline_form"] = kwargs.get("decline_form") or DeclineForm(refund=self.object)
        context["order_url"] = (
            reverse("orders:inspect", args=[self.object.order_id])
            if self.request.user.has_perm("orders.view_order")
            else ""
        )
        return context


def _review(request, pk: int, *, form_class, form_key: str, run, done: str):
    refund = get_object_or_404(Refund, pk=pk)
    form = form_class(request.POST, refund=refund)
    if form.is_valid():
        try:
            run(refund, form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("refunds:inspect", pk=refund.pk)
    request.method = "GET"  # the detail page again (read-only), with the form's errors
    response = refund_viewset.inspect_view(request, pk=pk)
    if isinstance(response, TemplateResponse):
        response.context_data[form_key] = form
        response.status_code = 400
    return response


@require_POST
@scope.require_perm("payments.view_refund", REVIEW_PERM)
def approve(request, pk: int):
    return _review(
        request,
        pk,
        form_class=ReviewForm,
        form_key="approve_form",
        run=lambda refund, data: actions.approve_refund(refund=refund, actor=request.user),
        done=_("已同意退款，正在提交微信支付。"),
    )


@require_POST
@scope.require_perm("payments.view_refund", REVIEW_PERM)
def decline(request, pk: int):
    return _review(
        request,
        pk,
        form_class=DeclineForm,
        form_key="decline_form",
        run=lambda refund, data: actions.decline_refund(refund=refund, reason=data["reason"], actor=request.user),
        done=_("已拒绝退款。"),
    )


class RefundViewSet(ModelViewSet):
    model = Refund
    icon = "undo"
    menu_label = _("售后退款")
    url_prefix = "refunds"
    list_display = [
        "out_refund_no",
        "order",
        "kind",
        "source",
        MoneyColumn("amount_fen", label=_("退款金额")),
        "status",
        "created",
        "finished_at",
    ]
    filterset_class = RefundFilterSet
    search_fields = ["out_refund_no", "order__order_no"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    index_view_class = RefundIndexView
    inspect_view_class = RefundDetailView
    form_fields = ["reason"]  # never shown: editing is refused by the policy

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("approve/<int:pk>/", approve, name="approve"),
            path("decline/<int:pk>/", decline, name="decline"),
        ]


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
refund_viewset = next(vs for vs in money_group.registerables if vs.url_prefix == "refunds")
for vs in money_group.registerables:
    scope.merchant_only(vs)


@hooks.register("register_admin_viewset")
def register_money():
    return money_group
