"""Console roles (house rule 12): console users are never superusers; each role is a group
holding exactly the permissions its screens need.

* Staff console (public schema): ``reviewer`` (review queue, documents, approve / reject, the
  audit trail, merchants read-only) and ``operator`` (what a reviewer has, plus suspending and
  reinstating stores, and the parked-outbox screen: seeing and replaying parked messages).
* Merchant console (each tenant schema): ``owner`` (everything below, plus the team screen and
  the store's set-up: onboarding, mini-program binding),
  ``operations`` (products, categories, store pages), ``customer_service`` (orders, after-sales,
  shoppers, promoters: reviewing and freezing them; the commission ledger read-only) and
  ``finance`` (payments, refunds, the commission ledger and its export, withdrawals, manual
  commission adjustments). The distribution rules, per-promoter rates and rebinding a shopper
  are the owner's.

``ensure_staff_roles()`` / ``ensure_merchant_roles()`` are idempotent: they create the groups
and set their permissions to exactly the lists below (run at provisioning, by the seed and by
``ensure_console_user``)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

ACCESS_ADMIN = "wagtailadmin.access_admin"
MANAGE_TEAM = "accounts.manage_team"
# The store's own set-up (onboarding checklist, mini-program binding, payment merchant): the owner's.
MANAGE_STORE = "accounts.manage_store"
# Permissions of no model's Meta, kept on the user model's content type.
CUSTOM_PERMISSIONS = {MANAGE_TEAM: "Can manage the store's team", MANAGE_STORE: "Can set up the store"}

STAFF_ROLES: dict[str, tuple[str, list[str]]] = {
    "reviewer": (
        _("审核员"),
        [
            ACCESS_ADMIN,
            "review.view_qualificationdocument",
            "review.decide_qualificationdocument",
            "review.view_auditentry",
            "tenants.view_tenant",
        ],
    ),
    "operator": (
        _("运营"),
        [
            ACCESS_ADMIN,
            "review.view_qualificationdocument",
            "review.decide_qualificationdocument",
            "review.view_auditentry",
            "tenants.view_tenant",
            "tenants.suspend_tenant",
            "core.view_outboxmessage",
            "core.replay_outboxmessage",
        ],
    ),
}

_OPERATIONS = [
    "catalog.view_product",
    "catalog.add_product",
    "catalog.change_product",
    "catalog.delete_product",
    "catalog.view_category",
    "catalog.add_category",
    "catalog.change_category",
    "catalog.delete_category",
    "catalog.batch_edit_product",
    "catalog.view_shippingtemplate",
    "catalog.add_shippingtemplate",
    "catalog.change_shippingtemplate",
    "catalog.delete_shippingtemplate",
    "catalog.view_productcontract",
    "catalog.add_productcontract",
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
]
_CUSTOMER_SERVICE = [
    "orders.view_order",
    "orders.cancel_order",
    "orders.ship_order",
    "orders.adjust_order",
    "orders.redeem_order",
    "orders.export_order",
    "payments.view_refund",
    "payments.review_refund",
    "customers.view_customer",
    "customers.tag_customer",
    "customers.view_customertag",
    "customers.add_customertag",
    "customers.change_customertag",
    "customers.delete_customertag",
    "promoters.view_promoter",
    "promoters.review_promoter",
    "promoters.freeze_promoter",
    "promoters.view_commissionentry",
]
_FINANCE = [
    "orders.view_order",  # the order list, to export it (reconciliation)
    "orders.export_order",
    "payments.view_payment",
    "payments.view_refund",
    "payments.view_paymentanomaly",
    "payments.review_refund",
    # distribution money: the ledger (and its export), withdrawals, manual adjustments
    "promoters.view_commissionentry",
    "promoters.export_commissionentry",
    "promoters.view_withdrawal",
    "promoters.review_withdrawal",
    "promoters.adjust_commission",
]
# The owner's alone: the distribution rules and grades (分销设置), per-promoter rates, rebinding
# a shopper to another promoter (``binding.rebind``; the binding itself is never a generic form).
_OWNER_DISTRIBUTION = [
    "promoters.change_distributionsettings",
    "promoters.override_promoter_rate",
    "promoters.change_binding",
]

MERCHANT_ROLES: dict[str, tuple[str, list[str]]] = {
    "owner": (
        _("店主"),
        sorted(
            {
                ACCESS_ADMIN,
                MANAGE_TEAM,
                MANAGE_STORE,
                "orders.change_ordersettings",  # the store's order rules (订单设置) are the owner's
                *_OWNER_DISTRIBUTION,
                *_OPERATIONS,
                *_CUSTOMER_SERVICE,
                *_FINANCE,
            }
        ),
    ),
    "operations": (_("运营"), [ACCESS_ADMIN, *_OPERATIONS]),
    "customer_service": (_("客服"), [ACCESS_ADMIN, *_CUSTOMER_SERVICE]),
    "finance": (_("财务"), [ACCESS_ADMIN, *_FINANCE]),
}
# The roles an owner can give a team member (the owner role is the store owner's alone).
MEMBER_ROLES = ("operations", "customer_service", "finance")

# Page permissions (Wagtail's own table) for the roles that edit store pages.
PAGE_ROLES: dict[str, list[str]] = {"owner": ["add", "change", "publish"], "operations": ["add", "change", "publish"]}


def group_name(role: str) -> str:
    return f"role:{role}"


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".", 1)
    if dotted in CUSTOM_PERMISSIONS:
        from saas_platform.accounts.models import User

        ct = ContentType.objects.get_for_model(User)
        perm, _created = Permission.objects.get_or_create(
            content_type=ct, codename=codename, defaults={"name": CUSTOM_PERMISSIONS[dotted]}
        )
        return perm
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _ensure(roles: dict[str, tuple[str, list[str]]]) -> dict[str, Group]:
    groups = {}
    with transaction.atomic():
        for role, (_label, perms) in roles.items():
            group, _created = Group.objects.get_or_create(name=group_name(role))
            group.permissions.set([_permission(p) for p in perms])
            groups[role] = group
    return groups


def ensure_staff_roles() -> dict[str, Group]:
    """The staff console's groups (public schema)."""
    assert connection.schema_name == "public", "staff roles live in the public schema"
    return _ensure(STAFF_ROLES)


def ensure_merchant_roles() -> dict[str, Group]:
    """One store's console groups (run in the tenant's schema)."""
    assert connection.schema_name != "public", "merchant roles live in a tenant schema"
    groups = _ensure(MERCHANT_ROLES)
    from wagtail.models import GroupPagePermission, Page

    root = Page.get_first_root_node()
    if root is not None:
        for role, actions in PAGE_ROLES.items():
            for action in actions:
                perm = Permission.objects.get(content_type__app_label="wagtailcore", codename=f"{action}_page")
                GroupPagePermission.objects.get_or_create(group=groups[role], page=root, permission=perm)
    return groups


def set_role(*, user, role: str, roles: dict[str, tuple[str, list[str]]]) -> None:
    """Make ``user`` a member of exactly one role group of ``roles`` (other groups untouched)."""
    if role not in roles:
        raise ValueError(f"unknown role {role!r}")
    groups = ensure_merchant_roles() if roles is MERCHANT_ROLES else _ensure(roles)
    user.groups.remove(*[g for r, g in groups.items() if r != role])
    user.groups.add(groups[role])


def role_of(user, roles: dict[str, tuple[str, list[str]]]) -> str | None:
    names = set(user.groups.values_list("name", flat=True))
    for role in roles:
        if group_name(role) in names:
            return role
    return None
