import re

from django.forms import Media
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.sidebar import SubMenuItem as SubMenuItemComponent
from wagtail.admin.views.generic.models import IndexView
from wagtail.admin.viewsets.model import ModelViewSet

from core import console as scope
from core.money import to_yuan
from saas_platform.console.selectors import merchant_dashboard, staff_dashboard
from saas_platform.review.models import DocumentKind
from tenants.models import Industry, Tenant, TenantStatus


class TenantIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().exclude(schema_name="public")  # the platform is not a merchant


scope.action_only_policy(Tenant)  # a lifecycle: suspend / reinstate are actions (review_staff:merchant)


class TenantViewSet(ModelViewSet):
    model = Tenant
    icon = "site"
    menu_label = _("商户")
    menu_order = 100
    add_to_admin_menu = True
    url_prefix = "tenants"
    index_view_class = TenantIndexView
    list_display = ["name", "slug", "industry", "status", "trial_ends_at", "created"]
    list_filter = ["status", "industry"]
    search_fields = ["name", "slug"]
    form_fields = ["name"]  # never shown: editing is refused by the policy
    inspect_view_enabled = True
    inspect_view_fields = ["name", "slug", "industry", "status", "owner", "wechat_appid", "trial_ends_at", "created"]
    create_view_enabled = False  # merchants sign up themselves (tenants.actions.provision_tenant)
    copy_view_enabled = False


tenant_viewset = scope.staff_only(TenantViewSet("tenants"))


@hooks.register("register_admin_viewset")
def register_tenant_viewset():
    return tenant_viewset


# Wagtail's CMS screens: neither console uses pages, reports, workflows, sites, collections,
# images or documents. Their menu items are removed and their URLs answer 404 on both consoles.
CMS_MENU_ITEMS = frozenset({"explorer", "reports", "help", "images", "documents", "snippets"})
# Groups too: a console role is a group defined in code, with exactly its screens (house rule 12).
CMS_SETTINGS_ITEMS = frozenset(
    {"sites", "collections", "workflows", "workflow-tasks", "locales", "redirects", "groups"}
)
CMS_URL_PREFIXES = (
    "pages",
    "reports",
    "workflows",
    "sites",
    "collections",
    "images",
    "documents",
    "snippets",
    "groups",
    "choose-page",
    "choose-anchor-link",
    "choose-email-link",
    "choose-external-link",
    "choose-phone-link",
    "api",
)
CONSOLE_BASES = ("/staff/", "/console/")

MERCHANT_TODO_LABELS = {
    "to_ship": _("待发货订单"),
    "refunds": _("待处理退款"),
    "promoters": _("待审核推广员"),
    "low_stock": _("库存不足商品"),
    "qualifications": _("被驳回或即将过期的资质"),
}


# The permission each to-do's screen needs: a role without it sees the count, not a link.
MERCHANT_TODO_PERMISSIONS = {
    "to_ship": "orders.view_order",
    "refunds": "payments.view_refund",
    "promoters": "promoters.view_promoter",
    "low_stock": "catalog.view_product",
    "qualifications": "accounts.manage_store",
}


def _merchant_todo_urls() -> dict[str, str]:
    """Each to-do opens its list filtered to exactly the rows it counts."""
    home = reverse("wagtailadmin_home")
    return {
        "to_ship": f"{home}orders/?status=paid",
        "refunds": f"{home}refunds/?open=true",
        "promoters": f"{home}promoters/",
        "low_stock": f"{home}catalog/products/?low_stock=true",
        "qualifications": reverse("onboarding_console:documents"),
    }


class DashboardPanel(Component):
    order = 10

    def render_html(self, parent_context=None):
        if scope.on_staff_side():
            return render_to_string("console/staff_panel.html", staff_context())
        request = (parent_context or {}).get("request")
        return render_to_string("console/merchant_panel.html", merchant_context(getattr(request, "user", None)))

    @property
    def media(self):
        return Media(js=["console/vendor/echarts/echarts.min.js", "console/dashboard.js"])


def merchant_context(user=None) -> dict:
    """The merchant dashboard; a to-do links to its list only if ``user`` may open that list."""
    data = merchant_dashboard()
    urls = _merchant_todo_urls()
    todos = [
        {
            "key": key,
            "label": MERCHANT_TODO_LABELS[key],
            "count": n,
            "url": urls[key] if user is not None and user.has_perm(MERCHANT_TODO_PERMISSIONS[key]) else "",
        }
        for key, n in data["todos"].items()
    ]
    return {
        **data,
        "store_status_label": TenantStatus(data["store"]["status"]).label,
        "todos": todos,
        "onboarding_url": reverse("onboarding_console:overview")
        if user is not None and user.has_perm("accounts.manage_store")
        else "",
        "chart_id": "merchant-sales-chart",
        "chart_data_id": "merchant-sales-chart-data",
        "chart_data": {
            "kind": "sales",
            "days": data["chart"]["days"],
            # Yuan as exact decimal strings for the chart's axis: no float arithmetic on fen.
            "amounts": [str(to_yuan(v)) for v in data["chart"]["paid_fen"]],
            "orders": data["chart"]["orders"],
            "labels": {"amount": str(_("实付金额（元）")), "orders": str(_("订单数"))},
        },
    }


def staff_context() -> dict:
    data = staff_dashboard()
    return {
        **data,
        "by_status": [(TenantStatus(v).label, n) for v, n in data["by_status"].items()],
        "latest": [
            {**t, "industry": Industry(t["industry"]).label, "status": TenantStatus(t["status"]).label}
            for t in data["latest"]
        ],
        "pending_documents": [{**d, "kind": DocumentKind(d["kind"]).label} for d in data["pending_documents"]],
        "queue_url": reverse("wagtailadmin_home") + "review/documents/?status=pending",
        "expiring_url": reverse("wagtailadmin_home") + "review/documents/?status=approved&ordering=expires_on",
        "tenants_url": reverse("wagtailadmin_home") + "tenants/?ordering=-created",
        "chart_id": "staff-signups-chart",
        "chart_data_id": "staff-signups-chart-data",
        "chart_data": {
            "kind": "signups",
            "days": data["chart"]["days"],
            "signups": data["chart"]["signups"],
            "labels": {"signups": str(_("新入驻商户"))},
        },
    }


@hooks.register("construct_homepage_panels")
def dashboard_only(request, panels):
    """The home page is the dashboard: none of Wagtail's page panels (moderation, recent edits,
    locked pages, upgrade notice)."""
    panels[:] = [DashboardPanel()]


def _rebase(url: str) -> str:
    """Put a menu URL under the console serving this request (``/staff/`` or ``/console/``)."""
    home = reverse("wagtailadmin_home")
    for base in CONSOLE_BASES:
        if url.startswith(base):
            return home + url[len(base) :]
    return url


_rebased = lazy(_rebase, str)


def _rebase_menu(items) -> None:
    """Wagtail builds its menu items once per process (``Menu.registered_menu_items``), with URLs
    reversed under whichever console served the first request; the other console then links to
    the wrong prefix. Each item's URL becomes lazy: re-resolved under the current console each
    time the menu is rendered."""
    for item in items:
        if not getattr(item, "_console_rebased", False):
            if isinstance(item.url, str) and item.url.startswith(CONSOLE_BASES):
                item.url = _rebased(item.url)
            item._console_rebased = True
        submenu = getattr(item, "menu", None)
        if submenu is not None:
            _rebase_menu(submenu.registered_menu_items)


def _no_version_footer(item) -> None:
    """Wagtail's settings submenu ends with "Wagtail v8…": not something a shopkeeper reads."""

    def render_component(request):
        return SubMenuItemComponent(
            item.name,
            item.label,
            item.menu.render_component(request),
            icon_name=item.icon_name,
            classname=item.classname,
            footer_text="",
        )

    item.render_component = render_component


@hooks.register("construct_main_menu")
def scope_main_menu(request, menu_items):
    hidden = scope.hidden_prefixes()
    _rebase_menu(menu_items)
    for item in menu_items:
        if item.name == "settings" and "render_component" not in vars(item):
            _no_version_footer(item)

    def is_hidden(item) -> bool:
        if item.name in CMS_MENU_ITEMS:
            return True
        submenu = getattr(item, "menu", None)
        if submenu is not None:  # a group (商品管理, 用户与推广): hidden when all its items are
            children = submenu.menu_items_for_request(request)
            return bool(children) and all(is_hidden(child) for child in children)
        url = str(item.url or "")
        return any(f"/{p}/" in url for p in hidden)

    menu_items[:] = [item for item in menu_items if not is_hidden(item)]


@hooks.register("construct_settings_menu")
def hide_cms_settings(request, menu_items):
    menu_items[:] = [item for item in menu_items if item.name not in CMS_SETTINGS_ITEMS]


@hooks.register("construct_search")
def no_page_search(request, search_areas):
    """The sidebar's search box searches Wagtail pages ("Search all pages…"): no console has any."""
    search_areas[:] = []


def is_cms_path(rest: str) -> bool:
    return any(rest == p or rest.startswith(p + "/") for p in CMS_URL_PREFIXES)


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
                if is_cms_path(rest) or any(rest.startswith(p + "/") or rest == p for p in scope.hidden_prefixes()):
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
