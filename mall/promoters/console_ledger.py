"""佣金明细 (SPEC M3, issue 11 point 8): the commission ledger, read-only (append-only, house
rule 5; no generic add/edit/delete: ``core.console.action_only_policy``).

* ``/console/commissions/``: every ``CommissionEntry`` with filters (kind, level, promoter, date
  range), search by order number, and the totals of what is listed; ``?export=xlsx`` streams it
  (one row per entry) to holders of ``promoters.export_commissionentry``.
* ``/console/commissions/adjust/``: a manual adjustment (``adjust_commission``: ± yuan and a
  reason) for finance, who sees the ledger but not the promoter screens."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic.models import IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from core import console as scope
from core.columns import MoneyColumn, PercentColumn
from core.forms import add_action_errors
from core.money import format_bps, format_yuan
from core.xlsx import Col, XlsxExportMixin
from mall.promoters import actions
from mall.promoters.binding import find_promoter
from mall.promoters.console_common import promoter_name
from mall.promoters.console_promoters import ADJUST, AdjustForm
from mall.promoters.models import CommissionEntry, EntryKind, Promoter

VIEW = "promoters.view_commissionentry"
EXPORT = "promoters.export_commissionentry"

scope.action_only_policy(CommissionEntry)  # rows come from the ledger (``ledger.append``) only


def _level(entry) -> str:
    return {1: _("一级"), 2: _("二级")}.get(entry.level, "—")


def _who(promoter: Promoter) -> str:
    return f"{promoter.customer} [{promoter.invite_code}]"


class EntryFilterSet(WagtailFilterSet):
    kind = django_filters.ChoiceFilter(label=gettext_lazy("类型"), choices=EntryKind.choices)
    level = django_filters.ChoiceFilter(
        label=gettext_lazy("层级"), choices=[(1, gettext_lazy("一级")), (2, gettext_lazy("二级"))]
    )
    promoter = django_filters.ModelChoiceFilter(
        label=gettext_lazy("推广员"), queryset=Promoter.objects.select_related("customer")
    )
    created = django_filters.DateFromToRangeFilter(label=gettext_lazy("时间"), widget=DateRangePickerWidget)

    class Meta:
        model = CommissionEntry
        fields = ["kind", "level", "promoter", "created"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["promoter"].label = promoter_name()


def entry_export_columns() -> list[Col]:
    return [
        Col(_("时间"), lambda e: e.created, "datetime", width=20),
        Col(_("订单号"), lambda e: e.order.order_no if e.order_id else "", width=24),
        Col(_("商品"), lambda e: e.line.title if e.line_id else "", width=30),
        Col(promoter_name(), lambda e: _who(e.promoter), width=20),
        Col(_("层级"), lambda e: _level(e) if e.level else "", width=8),
        Col(_("比例"), lambda e: format_bps(e.rate_bps) if e.rate_bps is not None else "", width=8),
        Col(_("计佣金额（元）"), lambda e: e.base_fen, "money"),
        Col(_("金额（元）"), lambda e: e.amount_fen, "money"),
        Col(_("类型"), lambda e: e.get_kind_display(), width=12),
        Col(_("说明"), lambda e: e.note, width=30),
    ]


class EntryIndexView(XlsxExportMixin, IndexView):
    results_template_name = "promoters/ledger_results.html"
    export_permission = EXPORT
    export_filename = "commissions"
    export_title = gettext_lazy("佣金明细")

    def get_base_queryset(self):
        return CommissionEntry.objects.select_related("promoter__customer", "order")

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return queryset.filter(order__order_no__icontains=self.search_query.strip())

    def export_columns(self):
        return entry_export_columns()

    def export_rows(self, queryset):
        rows = queryset.select_related("promoter__customer", "order", "line")
        return rows.iterator(chunk_size=self.export_chunk_size)

    @cached_property
    def columns(self):
        return [
            DateColumn("created", label=_("时间"), sort_key="created"),
            Column("order", label=_("订单号"), accessor=lambda e: e.order.order_no if e.order_id else "—"),
            Column("promoter", label=promoter_name(), accessor=lambda e: _who(e.promoter)),
            Column("kind", label=_("类型"), accessor="get_kind_display", sort_key="kind"),
            Column("level", label=_("层级"), accessor=_level),
            PercentColumn("rate_bps", label=_("比例")),
            MoneyColumn("base_fen", label=_("计佣金额")),
            MoneyColumn("amount_fen", label=_("金额")),
            Column("note", label=_("说明"), accessor=lambda e: e.note or "—"),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        totals = self.get_queryset().order_by().aggregate(n=Count("pk"), s=Sum("amount_fen"))
        by_kind = (
            self.get_queryset().order_by().values("kind").annotate(n=Count("pk"), s=Sum("amount_fen")).order_by("kind")
        )
        labels = dict(EntryKind.choices)
        context["totals"] = {
            "count": totals["n"] or 0,
            "amount": format_yuan(totals["s"] or 0),
            # Commission, settlement, withdrawals and adjustments mean different things: per kind.
            "kinds": [
                {"label": labels.get(r["kind"], r["kind"]), "n": r["n"], "amount": format_yuan(r["s"] or 0)}
                for r in by_kind
            ],
        }
        return context

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.request.user.has_perm(ADJUST):
            buttons.append(Button(_("手工调整"), url=reverse("commissions:adjust"), icon_name="edit", priority=80))
        return buttons


class LedgerAdjustForm(AdjustForm):
    """The ledger's adjustment: the promoter is named by its invite code (no confirmation field:
    the code is the confirmation)."""

    invite_code = forms.CharField(
        label=gettext_lazy("邀请码"), max_length=12, error_messages={"required": gettext_lazy("请填写邀请码。")}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, expected="", **kwargs)
        del self.fields["confirm"]
        self.fields["invite_code"].label = _("%(name)s邀请码") % {"name": promoter_name()}
        self.order_fields(["invite_code", "amount_fen", "reason"])


@scope.require_perm(VIEW, ADJUST)
def adjust(request):
    form = LedgerAdjustForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                code = form.cleaned_data["invite_code"].strip().upper()
                promoter = Promoter.objects.filter(invite_code=code).first()
                if promoter is None:
                    find_promoter(invite_code=code)  # raises the action's "no such promoter" error
                actions.adjust_commission(
                    promoter=promoter,
                    amount_fen=form.cleaned_data["amount_fen"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("已为 %(who)s 记入手工调整 %(amount)s。")
                    % {"who": _who(promoter), "amount": format_yuan(form.cleaned_data["amount_fen"])},
                )
                return redirect(f"{reverse('commissions:index')}?promoter={promoter.pk}")
        status = 400
    return TemplateResponse(
        request,
        "promoters/ledger_adjust.html",
        {"page_title": _("手工调整佣金"), "form": form, "promoter_name": promoter_name()},
        status=status,
    )


class CommissionViewSet(ModelViewSet):
    model = CommissionEntry
    export_filename = "commissions"  # the download's name (Wagtail passes its own to the index view)
    icon = "list-ul"
    menu_label = gettext_lazy("佣金明细")
    url_prefix = "commissions"
    index_view_class = EntryIndexView
    filterset_class = EntryFilterSet
    search_fields = ["order__order_no"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = False
    form_fields = ["note"]  # never shown: editing is refused by the policy

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("adjust/", adjust, name="adjust")]


commission_viewset = CommissionViewSet("commissions")
