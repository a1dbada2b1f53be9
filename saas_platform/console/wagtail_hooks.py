import re

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.viewsets.model import ModelViewSet

from core import console as scope
from saas_platform.console.selectors import merchant_dashboard, staff_dashboard
from tenants.models import Tenant, TenantStatus

scope.action_only_policy(Tenant)  # a lifecycle: suspend / reinstate are actions (review_staff:merchant)


class TenantViewSet(ModelViewSet):
    model = Tenant
    icon = "site"
    menu_label = _("商户")
    menu_order = 100
    add_to_admin_menu = True
    url_prefix = "tenants"
    list_display = ["name", "slug", "industry", "status", "trial_ends_at", "created"]
    list_filter = ["status", "industry"]
    search_fields = ["name", "slug"]
    form_fields = ["name"]  # never shown: editing is refused by the policy
    inspect_view_enabled = True
    inspect_view_fields = ["name", "slug", "industry", "status", "owner", "trial_ends_at", "created"]
    create_view_enabled = False  # merchants sign up themselves (tenants.actions.provision_tenant)
    copy_view_enabled = False


tenant_viewset = scope.staff_only(TenantViewSet("tenants"))


@hooks.register("register_admin_viewset")
def register_tenant_viewset():
    return tenant_viewset


class DashboardPanel(Component):
    order = 10

    def render_html(self, parent_context=None):
        if scope.on_staff_side():
            return render_to_string("console/staff_panel.html", staff_dashboard())
        return render_to_string("console/merchant_panel.html", merchant_dashboard())


@hooks.register("construct_homepage_panels")
def add_dashboard_panel(request, panels):
    panels.insert(0, DashboardPanel())


@hooks.register("construct_main_menu")
def scope_main_menu(request, menu_items):
    hidden = scope.hidden_prefixes()

    def is_hidden(item) -> bool:
        submenu = getattr(item, "menu", None)
        if submenu is not None:  # a group (商品管理, 用户与推广): hidden when all its items are
            children = submenu.menu_items_for_request(request)
            return bool(children) and all(is_hidden(child) for child in children)
        return any(f"/{p}/" in (item.url or "") for p in hidden)

    menu_items[:] = [item for item in menu_items if not is_hidden(item)]


# Wagtail screens no console user needs: a deliberate 500 page (for testing error pages) and a 404 demo.
CLOSED_ADMIN_PATHS = ("failwhale/", "test404/")
# Wagtail views that fail (500) on a POST (or PUT, DELETE) without their form's field: answer 400 instead
# (found by tests/console/test_url_walk.py; Wagtail 8.0).
REQUIRED_POST_FIELDS = [
    (re.compile(r"^choose-external-link/$"), "external-link-chooser-url"),
    (re.compile(r"^pages/\d+/copy/$"), "new_parent_page"),
]


class ConsoleScopeMiddleware:
    """404 for the other console's screens (e.g. /staff/catalog/ on the platform host) and for
    Wagtail's test pages; a suspended or read-only store's console refuses every change (it
    stays readable)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        for base in ("/staff/", "/console/"):
            if path.startswith(base):
                rest = path[len(base) :]
                if any(rest.startswith(p + "/") or rest == p for p in scope.hidden_prefixes()):
                    raise Http404
                if rest.startswith(CLOSED_ADMIN_PATHS):
                    raise Http404
                if request.method not in ("GET", "HEAD", "OPTIONS") and any(
                    pattern.match(rest) and field not in request.POST for pattern, field in REQUIRED_POST_FIELDS
                ):
                    return HttpResponseBadRequest()
        if path.startswith("/console/") and request.method not in ("GET", "HEAD", "OPTIONS"):
            tenant = getattr(request, "tenant", None)
            if tenant is not None and tenant.status in (TenantStatus.SUSPENDED, TenantStatus.READ_ONLY):
                if not path.startswith(("/console/login/", "/console/logout/")):
                    return render(request, "errors/read_only.html", {"tenant": tenant}, status=403)
        return self.get_response(request)
