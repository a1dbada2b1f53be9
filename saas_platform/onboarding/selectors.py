"""The onboarding checklist: each step's state, derived from what is stored (never kept twice)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from saas_platform.miniprogram.selectors import appid_authorized
from saas_platform.onboarding.models import MerchantProfile
from saas_platform.review.models import DocumentStatus
from saas_platform.review.selectors import documents_by_kind, required_kinds
from tenants.models import Tenant

DONE, TODO, REVIEWING, REJECTED, PENDING = "done", "todo", "reviewing", "rejected", "pending"


@dataclass
class Step:
    key: str
    title: str
    state: str
    detail: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return {
            DONE: _("已完成"),
            TODO: _("待完成"),
            REVIEWING: _("审核中"),
            REJECTED: _("被驳回"),
            PENDING: _("待授权"),
        }[self.state]


def profile_for(tenant: Tenant) -> MerchantProfile:
    profile, _created = MerchantProfile.objects.get_or_create(tenant=tenant)
    return profile


def template_name(profile: MerchantProfile) -> str:
    """The chosen template's name (never its key); empty when none is chosen."""
    from storefront_templates.loader import get_template

    if not profile.template_key:
        return ""
    template = get_template(profile.template_key)
    return template.display_name if template else profile.template_key


def checklist(tenant: Tenant) -> list[Step]:
    profile = profile_for(tenant)
    steps = [Step("store", _("创建店铺"), DONE, tenant.primary_host)]
    steps.append(Step("template", _("选择模板"), DONE if profile.template_key else TODO, template_name(profile)))
    steps.append(
        Step(
            "business",
            _("填写主体信息"),
            DONE if profile.company_name and profile.credit_code and profile.legal_person else TODO,
            profile.company_name,
        )
    )
    docs = documents_by_kind(tenant)
    needed = required_kinds(tenant)
    states = [docs[k].status if k in docs else None for k in needed]
    reasons = [
        f"{docs[k].get_kind_display()}：{docs[k].reject_reason or _('已过期，请重新上传')}"
        for k in needed
        if k in docs and docs[k].status in (DocumentStatus.REJECTED, DocumentStatus.EXPIRED)
    ]
    if reasons:
        q_state = REJECTED
    elif all(s == DocumentStatus.APPROVED for s in states):
        q_state = DONE
    elif all(s is not None for s in states):
        q_state = REVIEWING
    else:
        q_state = TODO
    submitted = sum(1 for s in states if s is not None)
    steps.append(Step("qualifications", _("上传资质"), q_state, f"{submitted}/{len(needed)}", reasons))
    # A typed AppID proves nothing: done only once WeChat's authorization confirmed it.
    wechat_state = (DONE if appid_authorized(tenant) else PENDING) if tenant.wechat_appid else TODO
    steps.append(Step("wechat", _("绑定小程序"), wechat_state, tenant.wechat_appid or ""))
    steps.append(Step("pay", _("微信支付商户号"), DONE if profile.wechat_pay_mchid else TODO, profile.wechat_pay_mchid))
    steps.append(Step("preview", _("预览店铺"), DONE if profile.previewed_at else TODO))
    return steps
