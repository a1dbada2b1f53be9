"""Demo promoters (development only; called by ``tools/demo``): a lead, a second level under
the lead, and one more lead."""

from __future__ import annotations

from mall.customers.models import Customer
from mall.promoters.actions import make_promoter


def seed_promoters(*, shoppers: list[Customer]):
    lead = make_promoter(customer=shoppers[0])
    second = make_promoter(customer=shoppers[1], invited_by=lead)  # level 2 under the lead
    make_promoter(customer=shoppers[2])
    return lead, second
