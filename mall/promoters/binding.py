"""Who holds a shopper (SPEC M4; issue 11 point 1).

Every share-link click, QR scan, invite-code entry and first payment is a ``Touch``: recorded
once, never changed, with the device fingerprint and IP the request came with. Whether a touch
*binds* depends on the store's rule:

* ``first_click``: the first link click, QR scan or invite code binds an unbound shopper;
* ``invite_code``: only an invite code binds;
* ``first_payment``: nothing binds before money: the promoter the shopper came through (the
  order's ``promoter``, taken at checkout from the latest touch) is bound at the first payment.

A binding lasts ``binding_days`` (0: for good); once expired, the next touch that binds under
the rule takes the shopper. A shopper never binds to itself. The merchant can rebind with a
reason; every change is a ``BindingChange`` row (the audit)."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.customers.models import Customer
from mall.promoters.models import (
    Binding,
    BindingChange,
    BindingRule,
    DistributionSettings,
    Promoter,
    PromoterStatus,
    Touch,
    TouchSource,
)

BINDING_SOURCES = {
    BindingRule.FIRST_CLICK: {TouchSource.LINK, TouchSource.QR, TouchSource.INVITE_CODE},
    BindingRule.INVITE_CODE: {TouchSource.INVITE_CODE},
    BindingRule.FIRST_PAYMENT: {TouchSource.PAYMENT},
}


def active_binding(customer_id: int, *, now=None) -> Binding | None:
    now = now or timezone.now()
    b = Binding.objects.select_related("promoter").filter(customer_id=customer_id).first()
    if b is None or (b.expires_at is not None and b.expires_at <= now):
        return None
    return b


def holder_for_checkout(customer: Customer, *, ds: DistributionSettings | None = None) -> Promoter | None:
    """The promoter a new order of ``customer`` is attributed to: the active binding's, else
    (rule ``first_payment``) the promoter of the shopper's latest touch."""
    b = active_binding(customer.pk)
    if b is not None:
        return b.promoter if b.promoter.status == PromoterStatus.ACTIVE else None
    if (ds or DistributionSettings.current()).binding_rule == BindingRule.FIRST_PAYMENT:
        touch = (
            Touch.objects.select_related("promoter")
            .filter(customer=customer, promoter__status=PromoterStatus.ACTIVE)
            .exclude(promoter__customer_id=customer.pk)
            .order_by("-created", "-pk")
            .first()
        )
        return touch.promoter if touch else None
    return None


def _bind(*, customer_id: int, promoter: Promoter, touch: Touch | None, ds, actor=None, reason: str = "") -> Binding:
    now = timezone.now()
    expires = now + timedelta(days=ds.binding_days) if ds.binding_days else None
    current = Binding.objects.select_for_update().filter(customer_id=customer_id).first()
    before = current.promoter if current else None
    if current is None:
        current = Binding(customer_id=customer_id)
    current.promoter, current.touch, current.bound_at, current.expires_at = promoter, touch, now, expires
    current.rule = ds.binding_rule if actor is None else ""
    current.save()
    BindingChange.objects.create(
        customer_id=customer_id, from_promoter=before, to_promoter=promoter, touch=touch, actor=actor, reason=reason
    )
    return current


def find_promoter(*, invite_code: str = "", promoter_id: int | None = None) -> Promoter:
    qs = Promoter.objects.filter(status=PromoterStatus.ACTIVE)
    p = (
        qs.filter(invite_code=invite_code.strip().upper()).first()
        if invite_code
        else qs.filter(pk=promoter_id).first()
        if promoter_id
        else None
    )
    if p is None:
        field = "invite_code" if invite_code else "promoter"
        raise ValidationError({field: ValidationError(_("推广员不存在或已冻结。"), code="unknown_promoter")})
    return p


def record_touch(
    *,
    customer: Customer,
    promoter: Promoter,
    source: str,
    scene: str = "",
    device: str = "",
    ip: str | None = None,
    order=None,
) -> tuple[Touch, Binding | None]:
    """Record a touch and bind under the store's rule; returns the touch and the binding that
    holds the shopper afterwards (None when unbound)."""
    if source not in TouchSource.values:
        raise ValidationError({"source": _("未知的来源。")})
    with transaction.atomic():
        touch = Touch.objects.create(
            customer=customer,
            promoter=promoter,
            source=source,
            scene=(scene or "")[:64],
            device=(device or "")[:64],
            ip=ip or None,
            order=order,
        )
        ds = DistributionSettings.current()
        binding = active_binding(customer.pk)
        if (
            binding is None
            and ds.enabled
            and promoter.customer_id != customer.pk
            and promoter.status == PromoterStatus.ACTIVE
            and source in BINDING_SOURCES[ds.binding_rule]
            and not Promoter.objects.filter(customer=customer).exists()
        ):
            binding = _bind(customer_id=customer.pk, promoter=promoter, touch=touch, ds=ds)
        return touch, binding


def bind_on_payment(*, order, ds: DistributionSettings) -> None:
    """At an order's first commission check: record the first payment as a touch and, under
    the ``first_payment`` rule, bind the unbound shopper to the order's promoter."""
    if not order.promoter_id:
        return
    customer_id = order.customer_id
    if Touch.objects.filter(customer_id=customer_id, source=TouchSource.PAYMENT).exists():
        return
    promoter = Promoter.objects.get(pk=order.promoter_id)
    if promoter.customer_id == customer_id:
        return
    touch = Touch.objects.create(
        customer_id=customer_id, promoter=promoter, source=TouchSource.PAYMENT, order=order, scene=order.order_no
    )
    if (
        ds.enabled
        and ds.binding_rule == BindingRule.FIRST_PAYMENT
        and promoter.status == PromoterStatus.ACTIVE
        and active_binding(customer_id) is None
        and not Promoter.objects.filter(customer_id=customer_id).exists()
    ):
        _bind(customer_id=customer_id, promoter=promoter, touch=touch, ds=ds)


def rebind(*, customer: Customer, promoter: Promoter, reason: str, actor) -> Binding:
    """The merchant moves a shopper to another promoter, with a reason (audited)."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写改绑原因。"), code="required")})
    if promoter.customer_id == customer.pk:
        raise ValidationError({"promoter": _("顾客不能绑定到自己。")})
    if promoter.status != PromoterStatus.ACTIVE:
        raise ValidationError({"promoter": _("推广员不存在或已冻结。")})
    with transaction.atomic():
        current = active_binding(customer.pk)
        if current is not None and current.promoter_id == promoter.pk:
            raise ValidationError({"promoter": _("顾客已经绑定在该推广员名下。")})
        return _bind(customer_id=customer.pk, promoter=promoter, touch=None, ds=DistributionSettings.current(),
                     actor=actor, reason=reason)  # fmt: skip
