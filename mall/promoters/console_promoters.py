"""The promoter screens (SPEC M3, M8; issue 11 point 8), named with the store's own word for
promoters (``DistributionSettings.promoter_name``).

* ``/console/promoters/``: the list (balances, a negative withdrawable balance shown as 欠款,
  team size of levels 1 and 2, parent), filtered by status and grade, searched by nickname or
  invite code; read-only (``core.console.action_only_policy``: no generic add/edit/delete).
* ``/console/promoters/inspect/<pk>/``: the detail, read-only: balances, ledger entries,
  withdrawals, the two-level downline, and buttons that call the actions: approve / reject an
  application (``review_promoter``), freeze / unfreeze (``freeze_promoter``,
  ``unfreeze_promoter``), the promoter's own rates (``set_rate_override``) and a manual
  adjustment (``adjust_commission``).
* ``/console/promoters/applications/``: pending applications, approved in bulk.
* ``/console/promoters/shopper/<customer pk>/``: a shopper's distribution: who holds it, the
  touch that won, expiry, every touch and binding change, the two-level graph, and a rebind
  form (``binding.rebind``)."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from core import console as scope
from core.columns import MoneyColumn
from core.forms import PercentField, YuanField, add_action_errors
from core.money import format_bps, format_yuan
from mall.customers.models import Customer
from mall.promoters import actions, selectors
from mall.promoters.binding import active_binding, find_promoter, rebind
from mall.promoters.console_common import ConfirmForm, ReasonForm, flash_errors, page_again, promoter_name
from mall.promoters.models import (
    Binding,
    BindingChange,
    DistributionLog,
    Grade,
    Promoter,
    PromoterStatus,
    Touch,
)

VIEW = "promoters.view_promoter"
REVIEW = "promoters.review_promoter"
FREEZE = "promoters.freeze_promoter"
OVERRIDE = "promoters.override_promoter_rate"
ADJUST = "promoters.adjust_commission"
REBIND = "promoters.change_binding"  # the merchant's rebind (``binding.rebind``), never a generic form
ENTRIES_ON_DETAIL = 50
WITHDRAWALS_ON_DETAIL = 20
ADJUST_LIMIT_FEN = 100_000_000  # ¥1,000,000 either way: a typo guard, not a rule

scope.action_only_policy(Promoter)  # made by actions.make_promoter / apply, never by a form
scope.action_only_policy(Touch)
scope.action_only_policy(Binding)
scope.action_only_policy(BindingChange)
scope.action_only_policy(DistributionLog)  # written by the actions (audit), never edited


def money_or_owed(fen: int) -> str:
    """A withdrawable balance: below zero the promoter owes (欠款)."""
    return _("欠款 %(x)s") % {"x": format_yuan(-fen)} if fen < 0 else format_yuan(fen)


# --- forms of the action buttons -------------------------------------------------------------------


class OverrideForm(ConfirmForm):
    level1_bps = PercentField(
        label=gettext_lazy("专属一级比例"), required=False, max_bps=3000, help_text=gettext_lazy("留空则按店铺规则")
    )
    level2_bps = PercentField(
        label=gettext_lazy("专属二级比例"), required=False, max_bps=3000, help_text=gettext_lazy("留空则按店铺规则")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "override_%s")
        super().__init__(*args, **kwargs)


class AdjustForm(ConfirmForm):
    amount_fen = YuanField(
        label=gettext_lazy("调整金额（元，扣减填负数）"),
        min_fen=-ADJUST_LIMIT_FEN,
        max_fen=ADJUST_LIMIT_FEN,
        error_messages={"required": gettext_lazy("请填写调整金额。")},
    )
    reason = forms.CharField(
        label=gettext_lazy("调整原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("请填写调整原因。")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "adjust_%s")
        super().__init__(*args, **kwargs)


def _reason_form(prefix: str):
    class _Form(ReasonForm):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("auto_id", f"{prefix}_%s")
            super().__init__(*args, **kwargs)

    return _Form


RejectForm = _reason_form("reject")
FreezeForm = _reason_form("freeze")


# --- the list --------------------------------------------------------------------------------------


class PromoterFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=gettext_lazy("状态"), choices=PromoterStatus.choices)
    grade = django_filters.ModelChoiceFilter(label=gettext_lazy("等级"), queryset=Grade.objects.all())

    class Meta:
        model = Promoter
        fields = ["status", "grade"]


class AvailableColumn(Column):
    def get_value(self, instance):
        return money_or_owed(instance.available_fen)


class PromoterIndexView(IndexView):
    def get_base_queryset(self):
        return selectors.promoter_list()

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        q = self.search_query.strip()
        return queryset.filter(Q(customer__nickname__icontains=q) | Q(invite_code__iexact=q))

    def get_page_title(self):
        return promoter_name()

    @cached_property
    def columns(self):
        name = promoter_name()
        return [
            self._get_title_column("id"),
            Column("nickname", label=_("昵称"), accessor=lambda p: p.customer.nickname or "—"),
            Column("phone", label=_("手机号"), accessor=lambda p: p.customer.masked_phone or "—"),
            Column("invite_code", label=_("邀请码"), sort_key="invite_code"),
            Column("status", label=_("状态"), accessor="get_status_display", sort_key="status"),
            Column("grade", label=_("等级"), accessor=lambda p: p.grade.name if p.grade else "—"),
            MoneyColumn("sales_fen", label=_("推广销售额")),
            MoneyColumn("pending_fen", label=_("待结算")),
            AvailableColumn("available_fen", label=_("可提现"), sort_key="available_fen"),
            MoneyColumn("withdrawn_fen", label=_("已提现")),
            Column("team", label=_("团队人数"), accessor=lambda p: p.team_l1 + p.team_l2),
            Column(
                "parent",
                label=_("上级%(name)s") % {"name": name},
                accessor=lambda p: str(p.parent.customer) if p.parent else "—",
            ),
        ]

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.request.user.has_perm(REVIEW):
            buttons.append(
                Button(_("待审核申请"), url=reverse("promoters:applications"), icon_name="tick", priority=80)
            )
        return buttons


# --- the detail page ---------------------------------------------------------------------------------


def promoter_detail_context(promoter: Promoter) -> dict:
    entries = list(promoter.entries.select_related("order", "line", "actor")[:ENTRIES_ON_DETAIL])
    for e in entries:
        e.amount = format_yuan(e.amount_fen)
        e.rate = format_bps(e.rate_bps) if e.rate_bps is not None else "—"
    withdrawals = list(selectors.withdrawals_of(promoter)[:WITHDRAWALS_ON_DETAIL])
    for w in withdrawals:
        w.amount, w.fee, w.net = format_yuan(w.amount_fen), format_yuan(w.fee_fen), format_yuan(w.net_fen)
    team = list(selectors.team(promoter))
    for member in team:
        member.sales = format_yuan(member.sales_fen)
    team_l1 = [m for m in team if m.level == 1]
    for m in team_l1:
        m.kids = [c for c in team if c.level == 2 and c.parent_id == m.pk]
    upline = []
    if promoter.parent_id:
        upline.append(promoter.parent)
        if promoter.parent.parent_id:
            upline.append(promoter.parent.parent)
    return {
        "promoter": promoter,
        "balances": {
            "sales": format_yuan(promoter.sales_fen),
            "pending": format_yuan(promoter.pending_fen),
            "available": money_or_owed(promoter.available_fen),
            "owed": promoter.available_fen < 0,
            "inflight": format_yuan(promoter.inflight_fen),
            "withdrawn": format_yuan(promoter.withdrawn_fen),
        },
        "override_l1": format_bps(promoter.level1_override_bps) if promoter.level1_override_bps is not None else "",
        "override_l2": format_bps(promoter.level2_override_bps) if promoter.level2_override_bps is not None else "",
        "entries": entries,
        "entry_count": promoter.entries.count(),
        "withdrawals": withdrawals,
        "logs": list(promoter.logs.select_related("actor")[:20]),
        "team": team,
        "team_l1": team_l1,
        "upline": upline,
    }


class PromoterDetailView(InspectView):
    template_name = "promoters/promoter_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(
            Promoter.objects.select_related("customer", "grade", "parent__customer", "parent__parent__customer"),
            pk=self.pk,
        )

    def get_page_title(self):
        return _("%(name)s %(who)s") % {"name": promoter_name(), "who": self.object.customer}

    def get_page_subtitle(self):
        return self.object.get_status_display()

    @property
    def header_more_buttons(self):
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        p, user = self.object, self.request.user
        code = p.invite_code
        context.update(promoter_detail_context(p))
        context["promoter_name"] = promoter_name()
        context["can_review"] = p.status == PromoterStatus.PENDING and user.has_perm(REVIEW)
        context["can_freeze"] = p.status == PromoterStatus.ACTIVE and user.has_perm(FREEZE)
        context["can_unfreeze"] = p.status == PromoterStatus.FROZEN and user.has_perm(FREEZE)
        context["can_override"] = user.has_perm(OVERRIDE)
        context["can_adjust"] = user.has_perm(ADJUST)
        context["can_see_ledger"] = user.has_perm("promoters.view_commissionentry")
        context["can_see_withdrawals"] = user.has_perm("promoters.view_withdrawal")
        context["shopper_url"] = reverse("promoters:shopper", args=[p.customer_id])
        context.setdefault("approve_form", ConfirmForm(expected=code))
        context.setdefault("reject_form", RejectForm(expected=code))
        context.setdefault("freeze_form", FreezeForm(expected=code))
        context.setdefault("unfreeze_form", ConfirmForm(expected=code))
        context.setdefault(
            "override_form",
            OverrideForm(
                expected=code, initial={"level1_bps": p.level1_override_bps, "level2_bps": p.level2_override_bps}
            ),
        )
        context.setdefault("adjust_form", AdjustForm(expected=code))
        return context


def _act(request, pk: int, *, form_class, form_key: str, run, done: str):
    """One action button: check the form, run the action, show its field errors on the page."""
    promoter = get_object_or_404(Promoter, pk=pk)
    form = form_class(request.POST, expected=promoter.invite_code)
    if form.is_valid():
        try:
            run(promoter, form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("promoters:inspect", pk=promoter.pk)
    return page_again(promoter_viewset.inspect_view, request, form_key, form, pk=pk)


@require_POST
@scope.require_perm(VIEW, REVIEW)
def approve(request, pk: int):
    return _act(
        request,
        pk,
        form_class=ConfirmForm,
        form_key="approve_form",
        run=lambda p, d: actions.review_promoter(promoter=p, approve=True, actor=request.user),
        done=_("已通过申请。"),
    )


@require_POST
@scope.require_perm(VIEW, REVIEW)
def reject(request, pk: int):
    return _act(
        request,
        pk,
        form_class=RejectForm,
        form_key="reject_form",
        run=lambda p, d: actions.review_promoter(promoter=p, approve=False, reason=d["reason"], actor=request.user),
        done=_("已拒绝申请。"),
    )


@require_POST
@scope.require_perm(VIEW, FREEZE)
def freeze(request, pk: int):
    return _act(
        request,
        pk,
        form_class=FreezeForm,
        form_key="freeze_form",
        run=lambda p, d: actions.freeze_promoter(promoter=p, reason=d["reason"], actor=request.user),
        done=_("已冻结。"),
    )


@require_POST
@scope.require_perm(VIEW, FREEZE)
def unfreeze(request, pk: int):
    return _act(
        request,
        pk,
        form_class=ConfirmForm,
        form_key="unfreeze_form",
        run=lambda p, d: actions.unfreeze_promoter(promoter=p, actor=request.user),
        done=_("已解除冻结。"),
    )


@require_POST
@scope.require_perm(VIEW, OVERRIDE)
def override(request, pk: int):
    return _act(
        request,
        pk,
        form_class=OverrideForm,
        form_key="override_form",
        run=lambda p, d: actions.set_rate_override(
            promoter=p, level1_bps=d["level1_bps"], level2_bps=d["level2_bps"], actor=request.user
        ),
        done=_("专属佣金比例已保存。"),
    )


@require_POST
@scope.require_perm(VIEW, ADJUST)
def adjust(request, pk: int):
    return _act(
        request,
        pk,
        form_class=AdjustForm,
        form_key="adjust_form",
        run=lambda p, d: actions.adjust_commission(
            promoter=p, amount_fen=d["amount_fen"], reason=d["reason"], actor=request.user
        ),
        done=_("已记入手工调整。"),
    )


# --- pending applications, approved in bulk ----------------------------------------------------------


class BulkApproveForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(
        coerce=int, error_messages={"required": gettext_lazy("请至少选择一项。")}, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in choices]


@scope.require_perm(VIEW, REVIEW)
def applications(request):
    pending = list(
        Promoter.objects.filter(status=PromoterStatus.PENDING).select_related("customer", "parent__customer")[:200]
    )
    status = 200
    if request.method == "POST":
        form = BulkApproveForm(request.POST, choices=[p.pk for p in pending])
        if form.is_valid():
            done, failed = 0, []
            for p in (p for p in pending if p.pk in set(form.cleaned_data["ids"])):
                try:
                    actions.review_promoter(promoter=p, approve=True, actor=request.user)
                    done += 1
                except ValidationError as exc:
                    failed.append(f"{p.customer}：{'；'.join(exc.messages)}")
            if done:
                messages.success(request, _("已通过 %(n)s 个申请。") % {"n": done})
            for f in failed:
                messages.error(request, f)
            return redirect("promoters:applications")
        flash_errors(request, form)
        status = 400
    name = promoter_name()
    return TemplateResponse(
        request,
        "promoters/applications.html",
        {"page_title": _("%(name)s申请待审核") % {"name": name}, "pending": pending, "promoter_name": name},
        status=status,
    )


# --- a shopper's distribution -----------------------------------------------------------------------


class RebindForm(forms.Form):
    invite_code = forms.CharField(
        label=gettext_lazy("新的推广员邀请码"),
        max_length=12,
        error_messages={"required": gettext_lazy("请填写邀请码。")},
    )
    reason = forms.CharField(
        label=gettext_lazy("改绑原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("请填写改绑原因。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invite_code"].label = _("新的%(name)s邀请码") % {"name": promoter_name()}


@scope.require_perm(VIEW)
def shopper(request, pk: int, rebind_form=None, status: int = 200):
    customer = get_object_or_404(Customer, pk=pk)
    binding = active_binding(customer.pk)
    stored = Binding.objects.select_related("promoter__customer", "touch").filter(customer=customer).first()
    holder = binding.promoter if binding else None
    upline = []
    if holder is not None:
        holder = Promoter.objects.select_related("customer", "parent__customer").get(pk=holder.pk)
        upline = [holder] + ([holder.parent] if holder.parent_id else [])
    own = Promoter.objects.select_related("customer", "parent__customer", "parent__parent__customer").filter(
        customer=customer
    )
    own = own.first()
    own_context = promoter_detail_context(own) if own else {}
    name = promoter_name()
    return TemplateResponse(
        request,
        "promoters/shopper.html",
        {
            "page_title": _("顾客分销关系：%(who)s") % {"who": customer},
            "promoter_name": name,
            "customer": customer,
            "binding": binding,
            "expired_binding": stored if stored is not None and binding is None else None,
            "holder": holder,
            "upline": upline,
            "own": own,
            "own_team_l1": own_context.get("team_l1", []),
            "touches": Touch.objects.filter(customer=customer).select_related("promoter__customer")[:100],
            "changes": BindingChange.objects.filter(customer=customer)
            .select_related("from_promoter__customer", "to_promoter__customer", "actor", "touch")
            .order_by("-created", "-pk")[:100],
            "can_rebind": request.user.has_perm(REBIND),
            "rebind_form": rebind_form or RebindForm(),
            "customer_url": reverse("customers:inspect", args=[customer.pk])
            if request.user.has_perm("customers.view_customer")
            else "",
        },
        status=status,
    )


@require_POST
@scope.require_perm(VIEW, REBIND)
def shopper_rebind(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = RebindForm(request.POST)
    if form.is_valid():
        try:
            target = find_promoter(invite_code=form.cleaned_data["invite_code"])
            rebind(customer=customer, promoter=target, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, _("已改绑到 %(who)s。") % {"who": target.customer})
            return redirect("promoters:shopper", pk=customer.pk)
    request.method = "GET"
    return shopper(request, pk=pk, rebind_form=form, status=400)


# --- the viewset -----------------------------------------------------------------------------------


class _NamedMenuItemMixin:
    """The menu says the store's own word for promoters."""

    def render_component(self, request):
        self.label = promoter_name()
        return super().render_component(request)


class PromoterViewSet(ModelViewSet):
    model = Promoter
    icon = "group"
    menu_label = gettext_lazy("推广员")
    url_prefix = "promoters"
    index_view_class = PromoterIndexView
    inspect_view_class = PromoterDetailView
    filterset_class = PromoterFilterSet
    search_fields = ["invite_code", "customer__nickname"]  # the view searches nickname or exact code
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    form_fields = ["invite_code"]  # never shown: editing is refused by the policy

    @cached_property
    def menu_item_class(self):
        return type("PromoterMenuItem", (_NamedMenuItemMixin, super().menu_item_class), {})

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("approve/<int:pk>/", approve, name="approve"),
            path("reject/<int:pk>/", reject, name="reject"),
            path("freeze/<int:pk>/", freeze, name="freeze"),
            path("unfreeze/<int:pk>/", unfreeze, name="unfreeze"),
            path("override/<int:pk>/", override, name="override"),
            path("adjust/<int:pk>/", adjust, name="adjust"),
            path("applications/", applications, name="applications"),
            path("shopper/<int:pk>/", shopper, name="shopper"),
            path("shopper/<int:pk>/rebind/", shopper_rebind, name="shopper_rebind"),
        ]


promoter_viewset = PromoterViewSet("promoters")
