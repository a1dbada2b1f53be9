"""Console users of every role, and a store with one object of each kind, for the door tests."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MEMBER_PHONES = {"operations": "13700000011", "customer_service": "13700000012", "finance": "13700000013"}


@pytest.fixture
def store(tenant_a, db):
    """tenant_a with a category, product, shopper, promoter, an unpaid order and a paid one
    with a refund: all made through actions."""
    from mall.orders.actions import place_order, record_payment
    from mall.payments.actions import request_refund
    from mall.promoters.actions import make_promoter
    from tests.factories import CustomerFactory, ProductFactory, home

    with schema_context(tenant_a.schema_name):
        product = ProductFactory(stock=50)
        customer = CustomerFactory(phone="13512345678")
        promoter = make_promoter(customer=CustomerFactory())
        unpaid = place_order(customer=customer, address=home(customer), items=[(product.pk, 1)], promoter=promoter)
        paid = place_order(customer=customer, address=home(customer), items=[(product.pk, 2)])
        payment = record_payment(
            order_no=paid.order_no,
            transaction_id=f"t-door-{paid.pk}",
            amount_fen=paid.total_fen,
            paid_at=timezone.now(),
        )
        refund = request_refund(order=paid, amount_fen=100, reason="少发一件")
        duplicate = record_payment(  # paid twice: flagged, refunded automatically
            order_no=paid.order_no,
            transaction_id=f"t-door-dup-{paid.pk}",
            amount_fen=paid.total_fen,
            paid_at=timezone.now(),
        )
        ids = {
            "product": product.pk,
            "category": product.category_id,
            "customer": customer.pk,
            "promoter": promoter.pk,
            "order": unpaid.pk,
            "paid_order": paid.pk,
            "payment": payment.pk,
            "refund": refund.pk,
            "anomaly": duplicate.order.payment_anomalies.get().pk,
        }
    return ids


@pytest.fixture
def staff_objects(tenant_a, db):
    """A qualification document (and so an audit row) of tenant_a, through the action."""
    from saas_platform.review.actions import submit_document
    from saas_platform.review.models import AuditEntry

    with schema_context("public"):
        doc = submit_document(
            tenant=tenant_a,
            kind="business_licence",
            upload=SimpleUploadedFile("licence.pdf", PDF, content_type="application/pdf"),
        )
        return {
            "tenant": tenant_a.pk,
            "document": doc.pk,
            "audit": AuditEntry.objects.filter(tenant=tenant_a).first().pk,
        }


@pytest.fixture
def merchant_users(tenant_a, db):
    """Console users of tenant_a: the owner and one sub-account per member role (invited by the action)."""
    from saas_platform.accounts.actions import ensure_console_user
    from saas_platform.accounts.team import invite_member

    with schema_context("public"):
        owner = tenant_a.owner
    with schema_context(tenant_a.schema_name):
        users = {"owner": ensure_console_user(platform_user=owner)}
        for role, phone in MEMBER_PHONES.items():
            users[role] = invite_member(phone=phone, role=role, name=role)
    return users


@pytest.fixture
def staff_users(db):
    from saas_platform.accounts.actions import create_platform_user

    with schema_context("public"):
        return {
            role: create_platform_user(
                username=f"door-{role}", password="Door-Pass-2026", is_staff=True, staff_role=role
            )
            for role in ("reviewer", "operator")
        }


def login(user, schema: str, *, raise_errors: bool = True) -> Client:
    client = Client(raise_request_exception=raise_errors)
    with schema_context(schema):
        client.force_login(user, backend="saas_platform.accounts.backends.PhoneOrUsernameBackend")
    return client
