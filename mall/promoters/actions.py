from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from mall.customers.models import Customer
from mall.promoters.models import Promoter

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


def make_promoter(*, customer: Customer, invited_by: Promoter | None = None) -> Promoter:
    """Make a shopper a promoter, bound under ``invited_by`` (who becomes its level-1 upline)."""
    with transaction.atomic():
        if Promoter.objects.filter(customer=customer).exists():
            raise ValidationError({"customer": _("该顾客已经是推广员。")})
        if invited_by is not None and invited_by.customer_id == customer.pk:
            raise ValidationError({"invited_by": _("不能邀请自己。")})
        code = _new_code()
        while Promoter.objects.filter(invite_code=code).exists():
            code = _new_code()
        return Promoter.objects.create(customer=customer, parent=invited_by, invite_code=code)


def uplines(promoter: Promoter) -> list[Promoter]:
    """Level 1 and level 2 beneficiaries for a sale by ``promoter``'s link: never more than two."""
    chain = [promoter]
    if promoter.parent_id:
        chain.append(promoter.parent)
    return chain
