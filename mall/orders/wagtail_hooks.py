from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet

from core import console as scope
from core.columns import MoneyColumn
from mall.orders.models import Order


class OrderViewSet(ModelViewSet):
    model = Order
    icon = "list-ul"
    menu_label = _("订单")
    menu_order = 210
    add_to_admin_menu = True
    url_prefix = "orders"
    list_display = [
        "order_no",
        "customer",
        "promoter",
        "status",
        MoneyColumn("total_fen", label=_("应付金额")),
        MoneyColumn("paid_fen", label=_("实付金额")),
        "created",
    ]
    list_filter = ["status"]
    search_fields = ["order_no"]
    create_view_enabled = False
    inspect_view_enabled = True
    form_fields = ["status"]


order_viewset = scope.merchant_only(OrderViewSet("orders"))


@hooks.register("register_admin_viewset")
def register_orders():
    return order_viewset
