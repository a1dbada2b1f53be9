"""A demo merchant's onboarding profile (development only; called by ``tools/demo``)."""

from __future__ import annotations

from saas_platform.onboarding.models import MerchantProfile
from tenants.models import Tenant


def ensure_profile(*, tenant: Tenant, info: dict, owner_name: str, phone: str) -> MerchantProfile:
    """The profile as a merchant would have filled the checklist (the demo's starting point, so it
    is written once, not step by step)."""
    profile, _ = MerchantProfile.objects.get_or_create(
        tenant=tenant,
        defaults={
            "service_categories": info["categories"],
            "template_key": info["template"],
            "template_version": 1,
            "company_name": info["company"],
            "credit_code": info["credit_code"],
            "legal_person": owner_name,
            "address": info["address"],
            "phone": phone,
            "wechat_pay_mchid": info["mchid"],
        },
    )
    return profile
