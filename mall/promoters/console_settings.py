"""分销设置 (SPEC M5, M6): the store's distribution rules and the promoter grades, for holders of
``promoters.change_distributionsettings`` (the owner).

* ``/console/distribution-settings/``: one form over ``DistributionSettings``; it feeds
  ``update_distribution_settings`` (ranges, the two-level limit, the 30 % cap, banned words in
  the agreement): its errors are shown on their fields (the cap on the form), nothing is saved
  on an error. The agreement's version is shown read-only (a changed text gets a new one).
* ``/console/distribution-settings/grades/``: the grades, each added or changed by ``save_grade``
  (a bonus that could break the cap is refused)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from core import console as scope
from core.forms import add_action_errors
from core.money import format_bps, format_yuan
from mall.promoters.actions import SETTINGS_FIELDS, save_grade, update_distribution_settings
from mall.promoters.console_common import promoter_name
from mall.promoters.models import PROMOTER_NAMES, DistributionSettings, Grade, Promoter

PERM = "promoters.change_distributionsettings"

# The form's sections, in order: (title, fields). ``{name}`` is the store's promoter name.
SECTIONS = [
    (gettext_lazy("基本"), ["enabled", "levels", "promoter_name"]),
    (gettext_lazy("佣金"), ["level1_bps", "level2_bps", "self_purchase"]),
    (gettext_lazy("绑定与结算"), ["binding_rule", "binding_days", "settle_days", "clawback"]),
    (
        gettext_lazy("成为{name}"),
        ["threshold", "threshold_spent_fen", "threshold_product", "auto_approve", "agreement_text"],
    ),
    (
        gettext_lazy("提现"),
        [
            "payout_mode",
            "withdraw_min_fen",
            "withdraw_daily_count",
            "withdraw_daily_fen",
            "withdraw_fee_free_under_fen",
            "withdraw_fee_bps",
            "withdraw_auto_review_under_fen",
        ],
    ),
    (gettext_lazy("团队分红"), ["dividend_enabled", "dividend_threshold_fen", "dividend_bps"]),
]
# Fields the model and the action know (a rule added to both appears here without a change).
_KNOWN = {f.name for f in DistributionSettings._meta.get_fields()} & SETTINGS_FIELDS
SECTIONS = [(title, [n for n in names if n in _KNOWN]) for title, names in SECTIONS]
FIELDS = [name for _title, names in SECTIONS for name in names]
HELP = {
    "level1_bps": gettext_lazy("8%–15%，例如 10%"),
    "level2_bps": gettext_lazy("3%–5%，例如 3%"),
    "levels": gettext_lazy("最多两级（法规要求）"),
    "settle_days": gettext_lazy("订单完成（或核销）后这么多天佣金转为可提现（0–90）"),
    "binding_days": gettext_lazy("0 为永久绑定（0–3650）"),
}
INT_ERRORS = {
    "required": gettext_lazy("请填写此项。"),
    "invalid": gettext_lazy("请填写整数。"),
    "min_value": gettext_lazy("不能小于 %(limit_value)s。"),
    "max_value": gettext_lazy("不能大于 %(limit_value)s。"),
}


class DistributionSettingsForm(forms.Form):
    """The fields of ``DistributionSettings`` (their own form fields: yuan, percentages,
    choices), checked again and saved by ``update_distribution_settings``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in FIELDS:
            model_field = DistributionSettings._meta.get_field(name)
            if name == "promoter_name":
                field = forms.ChoiceField(label=model_field.verbose_name, choices=[(n, n) for n in PROMOTER_NAMES])
            elif name == "threshold_product":
                field = model_field.formfield(empty_label=_("（不指定）"))
            else:
                field = model_field.formfield()
            if isinstance(field, forms.IntegerField):
                field.error_messages.update(INT_ERRORS)
            if name in HELP:
                field.help_text = HELP[name]
            if name == "agreement_text":
                field.widget = forms.Textarea(attrs={"rows": 6})
            self.fields[name] = field

    def sections(self):
        name = promoter_name()
        return [(str(title).format(name=name), [self[f] for f in names]) for title, names in SECTIONS]


def _initial(ds: DistributionSettings) -> dict:
    data = {name: getattr(ds, name) for name in FIELDS if name != "threshold_product"}
    data["threshold_product"] = ds.threshold_product_id
    return data


@scope.require_perm(PERM)
def edit(request):
    ds = DistributionSettings.current()
    status = 200
    if request.method == "POST":
        form = DistributionSettingsForm(request.POST)
        if form.is_valid():
            try:
                update_distribution_settings(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, _("分销设置已保存。"))
                return redirect("distribution_settings:edit")
        status = 400
    else:
        form = DistributionSettingsForm(initial=_initial(ds))
    return TemplateResponse(
        request,
        "promoters/settings.html",
        {
            "form": form,
            "page_title": _("分销设置"),
            "agreement_version": ds.agreement_version,
            "promoter_name": promoter_name(),
            "grades_url": reverse("distribution_settings:grades"),
        },
        status=status,
    )


# --- grades --------------------------------------------------------------------------------------


class GradeForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("等级名称"), max_length=20, error_messages={"required": gettext_lazy("请填写等级名称。")}
    )
    rank = forms.IntegerField(
        label=gettext_lazy("等级（数字越大越高）"), min_value=1, max_value=99, error_messages=INT_ERRORS
    )
    bonus_bps = Grade._meta.get_field("bonus_bps").formfield(
        label=gettext_lazy("一级佣金加成"), help_text=gettext_lazy("加在一级比例上，例如 2%（0%–10%）")
    )
    min_sales_fen = Grade._meta.get_field("min_sales_fen").formfield(label=gettext_lazy("个人销售额达到（元）"))
    min_direct_promoters = forms.IntegerField(
        label=gettext_lazy("直接邀请人数达到"), min_value=0, max_value=100000, error_messages=INT_ERRORS
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "grade_%s")
        super().__init__(*args, **kwargs)
        self.fields["min_direct_promoters"].label = _("直接邀请%(name)s数达到") % {"name": promoter_name()}


def _grade_rows():
    from django.db.models import Count

    rows = []
    for g in Grade.objects.annotate(holders=Count("promoters")).order_by("rank"):
        g.bonus = format_bps(g.bonus_bps)
        g.min_sales = format_yuan(g.min_sales_fen)
        rows.append(g)
    return rows


@scope.require_perm(PERM)
def grades(request, pk: int | None = None):
    """The grade list with one form: a new grade, or (``pk``) the grade being changed."""
    grade = get_object_or_404(Grade, pk=pk) if pk is not None else None
    status = 200
    if request.method == "POST":
        form = GradeForm(request.POST)
        if form.is_valid():
            try:
                save_grade(grade=grade, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, _("等级已保存。"))
                return redirect("distribution_settings:grades")
        status = 400
    elif grade is not None:
        form = GradeForm(
            initial={
                "name": grade.name,
                "rank": grade.rank,
                "bonus_bps": grade.bonus_bps,
                "min_sales_fen": grade.min_sales_fen,
                "min_direct_promoters": grade.min_direct_promoters,
            }
        )
    else:
        form = GradeForm(initial={"bonus_bps": 0, "min_sales_fen": 0, "min_direct_promoters": 0})
    name = promoter_name()
    return TemplateResponse(
        request,
        "promoters/grades.html",
        {
            "form": form,
            "grade": grade,
            "grades": _grade_rows(),
            "page_title": _("%(name)s等级") % {"name": name},
            "promoter_name": name,
            "promoter_count": Promoter.objects.count(),
        },
        status=status,
    )


class _PermMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(PERM)


class SettingsViewSet(ViewSet):
    """分销设置 and 等级 in the distribution menu (owner only)."""

    icon = "cog"
    menu_label = gettext_lazy("分销设置")
    url_prefix = "distribution-settings"
    menu_item_class = _PermMenuItem

    def get_urlpatterns(self):
        return [
            path("", edit, name="edit"),
            path("grades/", grades, name="grades"),
            path("grades/<int:pk>/", grades, name="grade"),
        ]


class GradesViewSet(ViewSet):
    icon = "tag"
    menu_label = gettext_lazy("等级")
    url_prefix = "distribution-settings/grades"
    menu_item_class = _PermMenuItem

    @property
    def menu_url(self):
        return reverse("distribution_settings:grades")

    def get_urlpatterns(self):
        return []  # its URLs are the settings viewset's
