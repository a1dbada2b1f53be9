from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from core import console as scope
from mall.promoters.models import Promoter

scope.action_only_policy(Promoter)  # made by mall.promoters.actions.make_promoter, never by a form


class PromoterViewSet(ModelViewSet):
    model = Promoter
    icon = "group"
    menu_label = _("推广员")
    url_prefix = "promoters"
    list_display = ["customer", "invite_code", "parent", "status", "joined_at"]
    list_filter = ["status"]
    search_fields = ["invite_code", "customer__nickname"]
    create_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = True
    form_fields = ["invite_code"]  # never shown: editing is refused by the policy


class UsersGroup(ModelViewSetGroup):
    menu_label = _("用户与推广")
    menu_icon = "group"
    menu_order = 220
    items = (PromoterViewSet("promoters"),)  # shoppers: mall.customers.wagtail_hooks


users_group = UsersGroup()
for vs in users_group.registerables:
    scope.merchant_only(vs)


@hooks.register("register_admin_viewset")
def register_users():
    return users_group
