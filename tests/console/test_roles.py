"""Each role is a group with exactly its screens (issue 8 item 1, issue 9 item 5): console users
are never superusers; each merchant role reaches only its own screens and actions; the owner
invites, re-roles and disables team members; staff reviewers review, operators also suspend."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.console.conftest import login

SCREENS = {
    "orders": "/console/orders/",
    "refunds": "/console/refunds/",
    "customers": "/console/customers/",
    "customer_tags": "/console/customer-tags/",
    "promoters": "/console/promoters/",
    "products": "/console/catalog/products/",
    "categories": "/console/catalog/categories/",
    "pages": "/console/pages/",  # Wagtail's page explorer: hidden from every role (issue 9 item 1)
    "payments": "/console/payments/",
    "team": "/console/team/",
    "onboarding": "/console/onboarding/",
    "wechat": "/console/wechat/",
}
REACHES = {
    "owner": set(SCREENS) - {"pages"},
    "operations": {"products", "categories"},  # store pages come with the store builder (issue 13)
    "customer_service": {"orders", "refunds", "customers", "customer_tags", "promoters"},
    "finance": {"payments", "refunds", "orders"},  # orders read-only, to export them
}


def _reached(response) -> bool:
    return response.status_code == 200


def _refused(response) -> bool:
    """Wagtail answers a refused admin view with a redirect to the dashboard (and a message);
    our action views raise PermissionDenied, which Wagtail's admin turns into the same."""
    return response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/console/")


@pytest.mark.parametrize("role", list(REACHES))
def test_each_merchant_role_reaches_only_its_own_screens(role, tenant_a, store, merchant_users, db):
    user = merchant_users[role]
    assert not user.is_superuser
    client = login(user, tenant_a.schema_name)
    reached = {name for name, url in SCREENS.items() if _reached(client.get(url, HTTP_HOST=tenant_a.primary_host))}
    assert reached == REACHES[role]
    # the order detail page is customer service's (and the owner's; finance reads it)
    detail = client.get(f"/console/orders/inspect/{store['order']}/", HTTP_HOST=tenant_a.primary_host)
    assert _reached(detail) == (role in ("owner", "customer_service", "finance"))


@pytest.mark.parametrize("role", list(REACHES))
def test_only_customer_service_and_the_owner_can_cancel_an_order(role, tenant_a, store, merchant_users, db):
    from mall.orders.models import Order

    client = login(merchant_users[role], tenant_a.schema_name)
    response = client.post(
        f"/console/orders/cancel/{store['order']}/", {"reason": "顾客来电取消"}, HTTP_HOST=tenant_a.primary_host
    )
    with schema_context(tenant_a.schema_name):
        status = Order.objects.get(pk=store["order"]).status
    if role in ("owner", "customer_service"):
        assert response.status_code == 302 and response["Location"].startswith("/console/orders/inspect/")
        assert status == "cancelled"
    else:
        assert _refused(response)
        assert status == "pending_payment"


def test_cancel_needs_a_reason_shown_on_the_field(tenant_a, store, merchant_users, db):
    from mall.orders.models import Order

    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    response = client.post(f"/console/orders/cancel/{store['order']}/", {"reason": ""}, HTTP_HOST=tenant_a.primary_host)
    assert response.status_code == 400
    assert "请填写取消原因。" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=store["order"]).status == "pending_payment"
    paid = client.post(
        f"/console/orders/cancel/{store['paid_order']}/", {"reason": "想取消已付款的"}, HTTP_HOST=tenant_a.primary_host
    )
    assert paid.status_code == 400  # a paid order cannot be cancelled: the machine refuses
    assert "只有待付款的订单可以取消；已付款的订单请走退款。" in paid.content.decode()


def test_owner_invites_changes_role_and_disables_a_team_member(tenant_a, merchant_users, db):
    from saas_platform.accounts.models import User
    from saas_platform.accounts.roles import group_name
    from tenants.models import TeamMember

    owner = login(merchant_users["owner"], tenant_a.schema_name)
    host = tenant_a.primary_host
    bad = owner.post(
        "/console/team/", {"do": "invite", "invite-phone": "123", "invite-role": "finance"}, HTTP_HOST=host
    )
    assert bad.status_code == 400 and "请输入正确的手机号。" in bad.content.decode()
    made = owner.post(
        "/console/team/",
        {"do": "invite", "invite-phone": "13700000099", "invite-name": "小王", "invite-role": "finance"},
        HTTP_HOST=host,
    )
    assert made.status_code == 302
    with schema_context(tenant_a.schema_name):
        member = User.objects.get(phone_index=_index("13700000099"))
        assert set(member.groups.values_list("name", flat=True)) == {group_name("finance")}
        assert not member.is_superuser
    with schema_context("public"):
        platform = User.objects.get(pk=member.platform_user_id)
        assert not platform.has_usable_password()  # they set it with the platform's SMS reset
        assert TeamMember.objects.get(tenant=tenant_a, user=platform).is_active
    assert (
        owner.post(
            "/console/team/", {"do": "role", "member": member.pk, "role": "operations"}, HTTP_HOST=host
        ).status_code
        == 302
    )
    with schema_context(tenant_a.schema_name):
        assert set(member.groups.values_list("name", flat=True)) == {group_name("operations")}
    member_client = login(member, tenant_a.schema_name)
    assert member_client.get("/console/catalog/products/", HTTP_HOST=host).status_code == 200
    assert owner.post("/console/team/", {"do": "disable", "member": member.pk}, HTTP_HOST=host).status_code == 302
    with schema_context(tenant_a.schema_name):
        member.refresh_from_db()
        assert not member.is_active
    with schema_context("public"):
        assert not TeamMember.objects.get(tenant=tenant_a, user=platform).is_active
    # the disabled account's session no longer opens the console
    assert member_client.get("/console/catalog/products/", HTTP_HOST=host).status_code == 302
    # the owner account itself cannot be changed from the team screen
    refused = owner.post("/console/team/", {"do": "disable", "member": merchant_users["owner"].pk}, HTTP_HOST=host)
    assert refused.status_code == 400 and "不能修改店主账号。" in refused.content.decode()


def _index(phone: str) -> str:
    from core import crypto

    return crypto.blind_index(crypto.normalize_phone(phone))


@pytest.mark.parametrize("role", ["operations", "customer_service", "finance"])
def test_a_team_member_is_not_offered_the_team_screen_and_cannot_invite(role, tenant_a, merchant_users, db):
    client = login(merchant_users[role], tenant_a.schema_name)
    host = tenant_a.primary_host
    assert _refused(client.get("/console/team/", HTTP_HOST=host))
    response = client.post(
        "/console/team/", {"do": "invite", "invite-phone": "13700000098", "invite-role": "finance"}, HTTP_HOST=host
    )
    assert _refused(response)
    from tenants.models import TeamMember

    with schema_context("public"):
        assert not TeamMember.objects.filter(user__username="u13700000098").exists()
    assert "/console/team/" not in client.get("/console/", HTTP_HOST=host).content.decode()


def test_a_team_member_opens_the_console_from_the_platform(tenant_a, merchant_users, db):
    """The member logs in on the platform and presses 进入商家后台, like an owner."""
    from saas_platform.accounts.models import User

    with schema_context("public"):
        platform = User.objects.get(pk=merchant_users["finance"].platform_user_id)
        platform.set_password("Member-Pass-2026")
        platform.save()
    client = login(platform, "public")
    home = client.get("/accounts/home/", HTTP_HOST="localhost")
    assert tenant_a.name in home.content.decode()
    go = client.post(f"/accounts/stores/{tenant_a.slug}/console/", HTTP_HOST="localhost")
    assert go.status_code == 302
    link = "/" + go["Location"].split("/", 3)[3]
    landed = client.get(link, HTTP_HOST=tenant_a.primary_host)
    assert landed.status_code == 302
    assert client.get("/console/payments/", HTTP_HOST=tenant_a.primary_host).status_code == 200
    assert client.get("/console/customers/", HTTP_HOST=tenant_a.primary_host).status_code == 302  # not finance's


@pytest.mark.parametrize(("role", "may_decide", "may_suspend"), [("reviewer", True, False), ("operator", True, True)])
def test_staff_roles(role, may_decide, may_suspend, tenant_a, staff_objects, staff_users, db):
    from saas_platform.review.models import QualificationDocument
    from tenants.models import Tenant

    user = staff_users[role]
    assert not user.is_superuser
    client = login(user, "public")
    assert client.get("/staff/review/documents/", HTTP_HOST="localhost").status_code == 200
    assert client.get("/staff/review/audit/", HTTP_HOST="localhost").status_code == 200
    assert client.get("/staff/tenants/", HTTP_HOST="localhost").status_code == 200
    assert client.get("/staff/users/", HTTP_HOST="localhost").status_code == 302  # Wagtail's user admin: no
    page = client.get(f"/staff/merchants/{tenant_a.pk}/", HTTP_HOST="localhost").content.decode()
    assert ("停用店铺" in page) == may_suspend
    suspend = client.post(
        f"/staff/merchants/{tenant_a.pk}/", {"action": "suspend", "reason": "测试停用原因"}, HTTP_HOST="localhost"
    )
    assert suspend.status_code == 302
    assert suspend["Location"] == (f"/staff/merchants/{tenant_a.pk}/" if may_suspend else "/staff/")
    if may_suspend:
        assert Tenant.objects.get(pk=tenant_a.pk).status == "suspended"
        client.post(
            f"/staff/merchants/{tenant_a.pk}/", {"action": "reinstate", "reason": "测试恢复原因"}, HTTP_HOST="localhost"
        )
    assert Tenant.objects.get(pk=tenant_a.pk).status in ("trial", "active")
    decide = client.post(
        f"/staff/merchants/documents/{staff_objects['document']}/decide/",
        {"decision": "approve"},
        HTTP_HOST="localhost",
    )
    assert decide.status_code == 302 and decide["Location"] == f"/staff/merchants/{tenant_a.pk}/"
    assert QualificationDocument.objects.get(pk=staff_objects["document"]).status == "approved"


def test_generic_tenant_edit_is_refused_even_to_an_operator(tenant_a, staff_users, db):
    from tenants.models import Tenant

    client = login(staff_users["operator"], "public")
    for method, url in [
        ("get", f"/staff/tenants/edit/{tenant_a.pk}/"),
        ("post", f"/staff/tenants/edit/{tenant_a.pk}/"),
        ("post", f"/staff/tenants/delete/{tenant_a.pk}/"),
        ("post", "/staff/tenants/new/"),
    ]:
        response = getattr(client, method)(url, {"name": "改名", "status": "suspended"}, HTTP_HOST="localhost")
        assert response.status_code in (302, 403, 404, 405), (method, url, response.status_code)
    tenant = Tenant.objects.get(pk=tenant_a.pk)
    assert tenant.name == tenant_a.name and tenant.status == tenant_a.status


@pytest.mark.parametrize(("role", "may_replay"), [("reviewer", False), ("operator", True)])
def test_only_the_operator_sees_and_replays_the_parked_outbox(role, may_replay, staff_users, db):
    from django.utils import timezone

    from core.models import OutboxMessage, OutboxStatus

    with schema_context("public"):
        # Written directly (not through ``record``) so nothing is published to the broker.
        msg = OutboxMessage.objects.create(
            schema_name="public",
            handler="integrations.sms.send",
            payload={},
            status=OutboxStatus.PARKED,
            attempts=5,
            parked_at=timezone.now(),
            last_error="RuntimeError: 短信网关 503",
        )
    user = staff_users[role]
    assert user.has_perm("core.view_outboxmessage") == may_replay
    assert user.has_perm("core.replay_outboxmessage") == may_replay
    client = login(user, "public")
    listing = client.get("/staff/outbox/?status=parked", HTTP_HOST="localhost")
    home = client.get("/staff/", HTTP_HOST="localhost").content.decode()
    done = client.post(f"/staff/outbox/replay/{msg.pk}/", HTTP_HOST="localhost")
    msg.refresh_from_db()
    if may_replay:
        assert listing.status_code == 200
        assert f"/staff/outbox/replay/{msg.pk}/" in listing.content.decode()
        assert "/staff/outbox/" in home  # on the operator's menu
        assert done.status_code == 302 and msg.status == OutboxStatus.PENDING
    else:
        assert listing.status_code in (302, 403)
        assert "/staff/outbox/" not in home
        assert msg.status == OutboxStatus.PARKED
