"""No door around an action (issue 8 item 1): every console URL pattern, every HTTP method, as
every role. No answer is a 500, and no status, audit, payment or ledger row changes (the walk
posts plausible form data, status fields included, but no action's required reason)."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from django_tenants.utils import schema_context

from tests.console.conftest import login

METHODS = ("get", "post", "put", "delete")
# What a form of any generic view could receive: status fields, amounts, names, but no reason.
PAYLOAD = {
    "status": "completed",
    "paid_fen": "0",
    "total_fen": "1",
    "name": "改名",
    "nickname": "改名",
    "number": "X1",
    "invite_code": "HACKED",
    "transaction_id": "t-hacked",
    "promoter": "",
    "reason": "",
    "title": "新商品",
    "price_fen": "0",
}
REGEX_SAMPLES = {
    r"^(?P<pk>\d+)/revisions/compare/": "1/revisions/compare/earliest...latest/",
    r"^.*/$": "no-such-screen/",
}
SKIP = ("logout/",)  # would end the walk's session; logging out changes no state


def routes(urlconf: str, base: str) -> list[str]:
    out = []

    def walk(patterns, prefix):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + _text(p.pattern))
            else:
                out.append(prefix + _text(p.pattern))

    walk(get_resolver(urlconf).url_patterns, "")
    return sorted({r for r in out if r.startswith(base) and not r.endswith(SKIP)})


def _text(pattern) -> str:
    raw = str(pattern)
    if isinstance(pattern, RegexPattern):
        for regex, sample in REGEX_SAMPLES.items():
            if raw.startswith(regex):
                return sample
        return raw.lstrip("^").rstrip("$")
    return raw


def fill(route: str, ids: dict[str, int]) -> str:
    """Put a real object's id into each path argument (by the screen the route belongs to)."""
    by_prefix = [
        ("pages/", "page"),
        ("orders/", "order"),
        ("payments/", "payment"),
        ("payment-anomalies/", "anomaly"),
        ("refunds/", "refund"),
        ("promoters/", "promoter"),
        ("customers/", "customer"),
        ("catalog/products/", "product"),
        ("catalog/categories/", "category"),
        ("tenants/", "tenant"),
        ("review/documents/", "document"),
        ("review/audit/", "audit"),
        ("merchants/documents/", "document"),
        ("merchants/", "tenant"),
        ("onboarding/documents/file/", "document"),
    ]
    rest = route.split("/", 1)[1]
    key = next((k for prefix, k in by_prefix if rest.startswith(prefix)), None)

    def value(match):
        conv, name = match.group(1) or "str", match.group(2)
        if key and ids.get(key) and conv in ("int", "str"):
            return str(ids[key])
        if conv == "slug":
            return "business_licence"
        if conv in ("int", "str") and name.endswith(("id", "pk")):
            return "1"
        return {"int": "1", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}.get(conv, "x")

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def merchant_snapshot(schema: str) -> dict:
    from django.contrib.auth.models import Group

    from mall.catalog.models import Product
    from mall.customers.models import Customer, CustomerTagging
    from mall.orders.models import Order, OrderEvent
    from mall.payments.models import Payment, PaymentAnomaly, Refund
    from mall.promoters.models import Promoter
    from saas_platform.accounts.models import User

    with schema_context(schema):
        return {
            "orders": sorted(Order.objects.values_list("pk", "status", "paid_fen", "total_fen", "promoter_id")),
            "events": sorted(OrderEvent.objects.values_list("pk", flat=True)),
            "payments": sorted(Payment.objects.values_list("pk", "order_id", "amount_fen", "transaction_id")),
            "refunds": sorted(Refund.objects.values_list("pk", "status", "amount_fen")),
            "anomalies": sorted(PaymentAnomaly.objects.values_list("pk", "kind", "refund_id")),
            "promoters": sorted(Promoter.objects.values_list("pk", "status", "parent_id", "invite_code")),
            "customers": sorted(Customer.objects.values_list("pk", "nickname", "phone_index")),
            "taggings": sorted(CustomerTagging.objects.values_list("customer_id", "tag_id", "by_rule")),
            "sales": sorted(Product.objects.values_list("pk", "sales_count")),
            "users": sorted(User.objects.values_list("pk", "is_active", "is_superuser", "is_staff")),
            "memberships": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
            "group_perms": sorted(Group.permissions.through.objects.values_list("group_id", "permission_id")),
        }


def staff_snapshot() -> dict:
    from django.contrib.auth.models import Group

    from saas_platform.accounts.models import User
    from saas_platform.review.models import AuditEntry, QualificationDocument
    from tenants.models import TeamMember, Tenant

    with schema_context("public"):
        return {
            "tenants": sorted(Tenant.objects.values_list("pk", "status", "name", "owner_id")),
            "documents": sorted(QualificationDocument.objects.values_list("pk", "status", "number", "reviewed_by_id")),
            "audit": sorted(AuditEntry.objects.values_list("pk", "action", "reason")),
            "users": sorted(User.objects.values_list("pk", "is_active", "is_superuser", "is_staff")),
            "members": sorted(TeamMember.objects.values_list("pk", "is_active")),
            "memberships": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
            "group_perms": sorted(Group.permissions.through.objects.values_list("group_id", "permission_id")),
        }


def walk(client, host: str, paths: list[str]) -> tuple[list[str], dict[int, int]]:
    errors, counts = [], {}
    for path in paths:
        for method in METHODS:
            kwargs = {"data": PAYLOAD} if method == "post" else {}
            response = getattr(client, method)(path, HTTP_HOST=host, **kwargs)
            counts[response.status_code] = counts.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                exc = getattr(response, "exc_info", None)
                errors.append(f"{method.upper()} {path} → {response.status_code} {exc[1]!r}" if exc else "")
    return errors, counts


@pytest.mark.parametrize("role", ["owner", "operations", "customer_service", "finance"])
def test_merchant_console_walk_finds_no_500_and_no_state_change(role, tenant_a, store, merchant_users, db):
    with schema_context(tenant_a.schema_name):
        from wagtail.models import Site

        ids = {**store, "page": Site.objects.get(is_default_site=True).root_page_id}
    paths = [fill(r, ids) for r in routes("config.urls_tenant", "console/")]
    assert len(paths) > 200  # Wagtail's own screens and ours
    client = login(merchant_users[role], tenant_a.schema_name, raise_errors=False)
    before = merchant_snapshot(tenant_a.schema_name)
    public_before = staff_snapshot()
    started = time.monotonic()
    errors, counts = walk(client, tenant_a.primary_host, paths)
    elapsed = time.monotonic() - started
    assert errors == []
    assert merchant_snapshot(tenant_a.schema_name) == before
    assert staff_snapshot() == public_before
    assert counts.get(200, 0) > 0 and counts.get(403, 0) + counts.get(302, 0) > 0
    print(f"{role}: {sum(counts.values())} requests in {elapsed:.1f}s, statuses {sorted(counts.items())}")


@pytest.mark.parametrize("role", ["reviewer", "operator"])
def test_staff_console_walk_finds_no_500_and_no_state_change(role, tenant_a, staff_objects, staff_users, db):
    from wagtail.models import Site

    ids = {**staff_objects, "page": Site.objects.get(is_default_site=True).root_page_id}
    paths = [fill(r, ids) for r in routes("config.urls_public", "staff/")]
    client = login(staff_users[role], "public", raise_errors=False)
    before = staff_snapshot()
    merchant_before = merchant_snapshot(tenant_a.schema_name)
    errors, counts = walk(client, "localhost", paths)
    assert errors == []
    assert staff_snapshot() == before
    assert merchant_snapshot(tenant_a.schema_name) == merchant_before
    print(f"{role}: {sum(counts.values())} requests, statuses {sorted(counts.items())}")
