"""Merchant console: shoppers and their tags.

The shopper list and detail are read-only (shoppers sign themselves up; their data is theirs):
generic add/edit/delete are refused by the permission policy (``core.console.action_only_policy``).
Manual tags are given and taken through buttons on the detail page that call
``mall.customers.actions.tag_customer`` / ``untag_customer``; rule tags are the beat task's."""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from core import console as scope
from core.columns import MoneyColumn
from core.money import format_yuan
from mall.customers import actions, selectors
from mall.customers.models import Customer, CustomerTag, CustomerTagging, TagRule

scope.action_only_policy(Customer)  # shoppers sign themselves up (mini-program login)

TAG_PERM = "customers.tag_customer"
ORDERS_ON_DETAIL = 50


# -- shopper list ---------------------------------------------------------------------------------


class CustomerFilterSet(WagtailFilterSet):
    tag = django_filters.ModelChoiceFilter(
        label=gettext_lazy("标签"),
        queryset=CustomerTag.objects.all(),
        field_name="taggings__tag",
        empty_label=gettext_lazy("全部"),
    )
    registered_at = django_filters.DateFromToRangeFilter(label=gettext_lazy("注册时间"), widget=DateRangePickerWidget)

    class Meta:
        model = Customer
        fields = ["tag", "registered_at"]


def _tag_names(customer: Customer) -> str:
    return "、".join(t.tag.name for t in customer.taggings.all()) or "—"


class CustomerIndexView(IndexView):
    def get_base_queryset(self):
        taggings = CustomerTagging.objects.select_related("tag").order_by("tag_id")
        return selectors.with_spending(Customer.objects.all()).prefetch_related(Prefetch("taggings", taggings))

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return selectors.search(queryset, self.search_query)


class CustomerDetailView(InspectView):
    template_name = "customers/detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(selectors.with_spending(Customer.objects.all()), pk=self.pk)

    def get_page_subtitle(self):
        return str(self.object)

    @property
    def header_more_buttons(self):
        from django.urls import reverse
        from wagtail.admin.widgets.button import Button

        if not self.request.user.has_perm("promoters.view_promoter"):
            return []
        # 分销关系: who holds the shopper, its touches and binding changes, rebind
        # (mall.promoters.console_promoters.shopper).
        url = reverse("promoters:shopper", args=[self.object.pk])
        return [Button(_("分销关系"), url=url, icon_name="group", priority=10)]

    def get_context_data(self, **kwargs):
        from mall.orders.models import Order

        context = super().get_context_data(**kwargs)
        c = self.object
        taggings = list(c.taggings.select_related("tag").order_by("tag_id"))
        has = {t.tag_id for t in taggings}
        can_tag = self.request.user.has_perm(TAG_PERM)
        context.update(
            {
                "customer": c,
                "spending": {
                    "paid_orders": c.paid_orders,
                    "paid": format_yuan(c.paid_total_fen),
                    "refunded": format_yuan(c.refunded_fen),
                    "spent": format_yuan(c.spent_fen),
                },
                "orders": Order.objects.filter(customer=c).order_by("-created")[:ORDERS_ON_DETAIL],
                "order_count": Order.objects.filter(customer=c).count(),
                "addresses": list(c.addresses.all()),
                "taggings": taggings,
                "can_tag": can_tag,
                "tag_form": kwargs.get("tag_form")
                or (
                    TagForm(queryset=CustomerTag.objects.filter(rule=TagRule.MANUAL).exclude(pk__in=has))
                    if can_tag
                    else None
                ),
            }
        )
        return context


class TagForm(forms.Form):
    tag = forms.ModelChoiceField(
        label=gettext_lazy("标签"),
        queryset=CustomerTag.objects.none(),
        empty_label=None,
        error_messages={
            "required": gettext_lazy("请选择标签。"),
            "invalid_choice": gettext_lazy("请选择有效的标签。"),
        },
    )

    def __init__(self, *args, queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = queryset if queryset is not None else CustomerTag.objects.all()


def _tag_view(action):
    @require_POST
    @scope.require_perm("customers.view_customer", TAG_PERM)
    def view(request, pk: int):
        customer = get_object_or_404(Customer, pk=pk)
        form = TagForm(request.POST)
        if form.is_valid():
            try:
                action(customer=customer, tag=form.cleaned_data["tag"], actor=request.user)
            except ValidationError as exc:
                for errors in exc.message_dict.values():
                    for e in errors:
                        messages.error(request, e)
            else:
                messages.success(
                    request,
                    (_("已添加标签“%(tag)s”。") if action is actions.tag_customer else _("已移除标签“%(tag)s”。"))
                    % {"tag": form.cleaned_data["tag"].name},
                )
        else:
            for errors in form.errors.values():
                for e in errors:
                    messages.error(request, e)
        return redirect("customers:inspect", pk=customer.pk)

    return view


tag = _tag_view(actions.tag_customer)
untag = _tag_view(actions.untag_customer)


class CustomerViewSet(ModelViewSet):
    model = Customer
    icon = "user"
    menu_label = gettext_lazy("顾客列表")
    url_prefix = "customers"
    index_view_class = CustomerIndexView
    list_display = [
        "nickname",
        Column("masked_phone", label=gettext_lazy("手机号")),
        "registered_at",
        Column("paid_orders", label=gettext_lazy("付款订单数"), sort_key="paid_orders"),
        MoneyColumn("spent_fen", label=gettext_lazy("累计消费")),
        Column("tag_names", label=gettext_lazy("标签"), accessor=_tag_names),
    ]
    filterset_class = CustomerFilterSet
    search_fields = ["nickname"]  # the view searches by nickname or, for a full number, the phone's blind index
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_class = CustomerDetailView
    form_fields = ["nickname"]  # never shown: editing is refused by the policy

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("tag/<int:pk>/", tag, name="tag"),
            path("untag/<int:pk>/", untag, name="untag"),
        ]


# -- tags -----------------------------------------------------------------------------------------


class CustomerTagIndexView(IndexView):
    def get_base_queryset(self):
        return CustomerTag.objects.annotate(customer_count=Count("taggings"))


class CustomerTagViewSet(ModelViewSet):
    """Tags themselves are plain settings (a name, an optional rule): add, edit and delete them
    here. Who carries a manual tag changes on the shopper's page; a rule tag's holders are
    recomputed by the beat task."""

    model = CustomerTag
    icon = "tag"
    menu_label = gettext_lazy("顾客标签")
    url_prefix = "customer-tags"
    index_view_class = CustomerTagIndexView
    list_display = [
        "name",
        "rule",
        "rule_value",
        Column("customer_count", label=gettext_lazy("顾客数"), sort_key="customer_count"),
    ]
    form_fields = ["name", "rule", "rule_value"]
    copy_view_enabled = False


class CustomersGroup(ModelViewSetGroup):
    menu_label = gettext_lazy("顾客")
    menu_icon = "user"
    menu_order = 215
    items = (CustomerViewSet("customers"), CustomerTagViewSet("customer_tags"))


customers_group = CustomersGroup()
for vs in customers_group.registerables:
    scope.merchant_only(vs)


@hooks.register("register_admin_viewset")
def register_customers():
    return customers_group
