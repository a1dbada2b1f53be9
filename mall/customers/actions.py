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
