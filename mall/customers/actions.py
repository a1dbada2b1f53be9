from __future__ import annotations

from django.db import IntegrityError, transaction

from mall.customers.models import Customer


def login_shopper(*, openid: str) -> Customer:
    """The shopper of this store with ``openid`` (created on first login)."""
    customer = Customer.objects.filter(openid=openid).first()
    if customer is not None:
        return customer
    try:
        with transaction.atomic():
            return Customer.objects.create(openid=openid)
    except IntegrityError:  # two first logins at once
        return Customer.objects.get(openid=openid)


def register_shopper(*, openid: str, nickname: str = "", phone: str = "") -> Customer:
    """A shopper known by name and phone (the demo seed's shoppers; a login fills them later)."""
    with transaction.atomic():
        customer = login_shopper(openid=openid)
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        customer.nickname = nickname or customer.nickname
        if phone:
            customer.phone = phone
        customer.save()
    return customer
