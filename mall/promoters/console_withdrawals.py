"""提现 (SPEC M16, D3): promoters' withdrawal requests, read-only, reviewed through
``withdrawals.review_withdrawal`` (its state machine: only a request under review can be
approved or rejected; a rejection returns the money and needs a reason).

* ``/console/withdrawals/``: the list, filtered by status and date, searched by transfer number;
* ``/console/withdrawals/inspect/<pk>/``: the detail with 通过 / 拒绝 (reason) buttons for
  holders of ``promoters.review_withdrawal``, and the withdrawal's ledger entries;
* ``/console/withdrawals/review/``: requests under review, approved in bulk."""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic.models import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from core import console as scope
from core.columns import MoneyColumn
from core.forms import add_action_errors
from core.money import format_yuan
from mall.promoters.console_common import ConfirmForm, ReasonForm, flash_errors, page_again, promoter_name
from mall.promoters.console_promoters import BulkApproveForm, money_or_owed
from mall.promoters.models import Withdrawal, WithdrawalStatus
from mall.promoters.withdrawals import review_withdrawal

VIEW = "promoters.view_withdrawal"
REVIEW = "promoters.review_withdrawal"

scope.action_only_policy(Withdrawal)  # requested by the promoter, moved by the withdrawal actions


def _token(w: Withdrawal) -> str:
    """What the buttons confirm: the request and the state it was seen in."""
    return f"{w.pk}:{w.status}"


class RejectWithdrawalForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "reject_%s")
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = _("拒绝原因")
        self.fields["reason"].error_messages["required"] = _("请填写拒绝原因。")


class WithdrawalFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=gettext_lazy("状态"), choices=WithdrawalStatus.choices)
    created = django_filters.DateFromToRangeFilter(label=gettext_lazy("申请时间"), widget=DateRangePickerWidget)

    class Meta:
        model = Withdrawal
        fields = ["status", "created"]


class WithdrawalIndexView(IndexView):
    def get_base_queryset(self):
        return Withdrawal.objects.select_related("promoter__customer")

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        q = self.search_query.strip()
        return queryset.filter(out_bill_no__icontains=q) | queryset.filter(promoter__invite_code__iexact=q)

    @cached_property
    def columns(self):
        return [
            self._get_title_column("id"),
            Column(
                "promoter",
                label=promoter_name(),
                accessor=lambda w: f"{w.promoter.customer} [{w.promoter.invite_code}]",
            ),
            Column("channel", label=_("方式"), accessor="get_channel_display", sort_key="channel"),
            MoneyColumn("amount_fen", label=_("提现金额")),
            MoneyColumn("fee_fen", label=_("手续费")),
            MoneyColumn("net_fen", label=_("到账金额")),
            Column("status", label=_("状态"), accessor="get_status_display", sort_key="status"),
            DateColumn("created", label=_("申请时间"), sort_key="created"),
            Column("failure", label=_("失败原因"), accessor=lambda w: w.failure or "—"),
        ]

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.request.user.has_perm(REVIEW):
            buttons.append(Button(_("批量审核"), url=reverse("withdrawals:review"), icon_name="tick", priority=80))
        return buttons


class WithdrawalDetailView(InspectView):
    template_name = "promoters/withdrawal_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(Withdrawal.objects.select_related("promoter__customer"), pk=self.pk)

    def get_page_title(self):
        return _("提现申请 %(no)s") % {"no": self.object.pk}

    def get_page_subtitle(self):
        return self.object.get_status_display()

    @property
    def header_more_buttons(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        w, user = self.object, self.request.user
        entries = list(w.entries.order_by("created", "pk"))
        for e in entries:
            e.amount = format_yuan(e.amount_fen)
        context.update(
            {
                "withdrawal": w,
                "promoter_name": promoter_name(),
                "amount": format_yuan(w.amount_fen),
                "fee": format_yuan(w.fee_fen),
                "net": format_yuan(w.net_fen),
                "available": money_or_owed(w.promoter.available_fen),
                "entries": entries,
                "can_review": w.status == WithdrawalStatus.REVIEWING and user.has_perm(REVIEW),
                "promoter_url": reverse("promoters:inspect", args=[w.promoter_id])
                if user.has_perm("promoters.view_promoter")
                else "",
            }
        )
        context.setdefault("approve_form", ConfirmForm(expected=_token(w)))
        context.setdefault("reject_form", RejectWithdrawalForm(expected=_token(w)))
        return context


def _review(request, pk: int, *, approve: bool):
    w = get_object_or_404(Withdrawal, pk=pk)
    form_class, key = (ConfirmForm, "approve_form") if approve else (RejectWithdrawalForm, "reject_form")
    form = form_class(request.POST, expected=_token(w))
    if form.is_valid():
        try:
            review_withdrawal(
                withdrawal=w, approve=approve, reason=form.cleaned_data.get("reason", ""), actor=request.user
            )
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(
                request, _("已通过，正在向微信发起转账。") if approve else _("已拒绝，金额已退回可提现余额。")
            )
            return redirect("withdrawals:inspect", pk=w.pk)
    return page_again(withdrawal_viewset.inspect_view, request, key, form, pk=pk)


@require_POST
@scope.require_perm(VIEW, REVIEW)
def approve(request, pk: int):
    return _review(request, pk, approve=True)


@require_POST
@scope.require_perm(VIEW, REVIEW)
def reject(request, pk: int):
    return _review(request, pk, approve=False)


@scope.require_perm(VIEW, REVIEW)
def bulk_review(request):
    reviewing = list(
        Withdrawal.objects.filter(status=WithdrawalStatus.REVIEWING)
        .select_related("promoter__customer")
        .order_by("created", "pk")[:200]
    )
    status = 200
    if request.method == "POST":
        form = BulkApproveForm(request.POST, choices=[w.pk for w in reviewing])
        if form.is_valid():
            chosen = set(form.cleaned_data["ids"])
            done, failed = 0, []
            for w in (w for w in reviewing if w.pk in chosen):
                try:
                    review_withdrawal(withdrawal=w, approve=True, actor=request.user)
                    done += 1
                except ValidationError as exc:
                    failed.append(f"{w.pk}：{'；'.join(exc.messages)}")
            if done:
                messages.success(request, _("已通过 %(n)s 笔提现。") % {"n": done})
            for f in failed:
                messages.error(request, f)
            return redirect("withdrawals:review")
        flash_errors(request, form)
        status = 400
    for w in reviewing:
        w.amount, w.net = format_yuan(w.amount_fen), format_yuan(w.net_fen)
    return TemplateResponse(
        request,
        "promoters/withdrawal_review.html",
        {"page_title": _("待审核提现"), "reviewing": reviewing, "promoter_name": promoter_name()},
        status=status,
    )


class WithdrawalViewSet(ModelViewSet):
    model = Withdrawal
    icon = "download"
    menu_label = gettext_lazy("提现")
    url_prefix = "withdrawals"
    index_view_class = WithdrawalIndexView
    inspect_view_class = WithdrawalDetailView
    filterset_class = WithdrawalFilterSet
    search_fields = ["out_bill_no"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    form_fields = ["amount_fen"]  # never shown: editing is refused by the policy

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("approve/<int:pk>/", approve, name="approve"),
            path("reject/<int:pk>/", reject, name="reject"),
            path("review/", bulk_review, name="review"),
        ]


withdrawal_viewset = WithdrawalViewSet("withdrawals")
