"""Merchant console: the 分销 menu (SPEC M3, M5, M6, M8, M16; issue 11 point 8).

* 推广员 (named as the store names them): ``console_promoters`` — list, read-only detail with
  the action buttons, pending applications, a shopper's distribution and rebind;
* 佣金明细: ``console_ledger`` — the ledger, its totals and XLSX export, manual adjustment;
* 提现: ``console_withdrawals`` — review requests, one by one or in bulk;
* 分销设置 and 等级: ``console_settings`` — the store's rules and the grades (owner only).

Every model with a lifecycle, an audit trail or a ledger is behind ``action_only_policy``
(house rule 12): generic add/edit/delete URLs answer with a refusal for every role."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.base import ViewSetGroup

from core import console as scope
from mall.promoters.console_ledger import commission_viewset
from mall.promoters.console_promoters import promoter_viewset
from mall.promoters.console_settings import GradesViewSet, SettingsViewSet
from mall.promoters.console_withdrawals import withdrawal_viewset


class DistributionGroup(ViewSetGroup):
    menu_label = _("分销")
    menu_icon = "group"
    menu_order = 220
    items = (
        promoter_viewset,
        commission_viewset,
        withdrawal_viewset,
        SettingsViewSet("distribution_settings"),
        GradesViewSet("distribution_grades"),
    )


distribution_group = DistributionGroup()
for vs in distribution_group.registerables:
    scope.merchant_only(vs)


@hooks.register("register_admin_viewset")
def register_distribution():
    return distribution_group
