"""Promoter and distribution-rule actions (house rule 1): every change of a promoter, a rule
or the ledger from any door (API, console, task, seed) goes through one of these."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.compliance import banned_terms_in
from core.fsm import StateMachine
from core.money import format_bps
from mall.customers.models import Customer
from mall.promoters import caps, ledger
from mall.promoters.binding import active_binding
from mall.promoters.models import (
    PROMOTER_NAMES,
    DistributionLog,
    DistributionSettings,
    EntryKind,
    Grade,
    LogAction,
    Promoter,
    PromoterStatus,
    PromoterThreshold,
)
from mall.promoters.rules import LEVEL_RATE_RANGES, MAX_DISTRIBUTION_LEVELS

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

PROMOTER_FSM = StateMachine(
    PromoterStatus,
    {
        PromoterStatus.PENDING: {PromoterStatus.ACTIVE, PromoterStatus.REJECTED},
        PromoterStatus.ACTIVE: {PromoterStatus.FROZEN},
        PromoterStatus.FROZEN: {PromoterStatus.ACTIVE},
        PromoterStatus.REJECTED: {PromoterStatus.PENDING},
    },
    subject=_("推广员"),
)


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


def make_promoter(
    *, customer: Customer, invited_by: Promoter | None = None, status: str = PromoterStatus.ACTIVE
) -> Promoter:
    """Make a shopper a promoter under ``invited_by`` (its parent: the level-1 upline of its
    sales); without ``invited_by`` the promoter holding the shopper becomes the parent. The
    merchant's "make a promoter by hand" and the seed call this; shoppers apply (``apply``)."""
    with transaction.atomic():
        if Promoter.objects.filter(customer=customer).exists():
            raise ValidationError({"customer": _("该顾客已经是推广员。")})
        if invited_by is not None and invited_by.customer_id == customer.pk:
            raise ValidationError({"invited_by": _("不能邀请自己。")})
        if invited_by is None:
            binding = active_binding(customer.pk)
            invited_by = binding.promoter if binding else None
        code = _new_code()
        while Promoter.objects.filter(invite_code=code).exists():
            code = _new_code()
        return Promoter.objects.create(
            customer=customer,
            parent=invited_by,
            invite_code=code,
            status=status,
            reviewed_at=timezone.now() if status == PromoterStatus.ACTIVE else None,
        )


def uplines(promoter: Promoter) -> list[Promoter]:
    """Level 1 and level 2 beneficiaries for a sale by ``promoter``'s link: never more than two."""
    chain = [promoter]
    if promoter.parent_id:
        chain.append(promoter.parent)
    return chain[:MAX_DISTRIBUTION_LEVELS]


def eligibility(customer: Customer, ds: DistributionSettings | None = None) -> tuple[bool, str]:
    """Whether ``customer`` meets the store's threshold to apply (U5), and why not."""
    from mall.orders.models import Order, OrderLine

    ds = ds or DistributionSettings.current()
    if not ds.enabled:
        return False, _("本店未开启分销。")
    if ds.threshold == PromoterThreshold.SPENT:
        spent = Order.objects.filter(customer=customer, paid_at__isnull=False).aggregate(s=Sum("paid_fen"))["s"] or 0
        if spent < ds.threshold_spent_fen:
            from core.money import format_yuan

            return False, _("累计消费满 %(x)s 才能申请（当前 %(y)s）。") % {
                "x": format_yuan(ds.threshold_spent_fen),
                "y": format_yuan(spent),
            }
    if ds.threshold == PromoterThreshold.BOUGHT and ds.threshold_product_id:
        bought = OrderLine.objects.filter(
            order__customer=customer, order__paid_at__isnull=False, product_id=ds.threshold_product_id
        ).exists()
        if not bought:
            return False, _("购买指定商品后才能申请。")
    return True, ""


def apply(*, customer: Customer, agreement_version: int, invite_code: str = "") -> Promoter:
    """A shopper applies to become a promoter (U5): the threshold must hold and the current
    distribution agreement must be accepted (version and time recorded). Automatic review makes
    it active at once; manual review leaves it pending for the merchant."""
    from mall.promoters.binding import find_promoter

    ds = DistributionSettings.current()
    ok, why = eligibility(customer, ds)
    if not ok:
        raise ValidationError({"customer": ValidationError(why, code="threshold")})
    if agreement_version != ds.agreement_version:
        raise ValidationError(
            {"agreement_version": ValidationError(_("请先阅读并同意最新版分销协议。"), code="agreement")}
        )
    invited_by = find_promoter(invite_code=invite_code) if invite_code else None
    with transaction.atomic():
        existing = Promoter.objects.select_for_update().filter(customer=customer).first()
        if existing is not None and existing.status != PromoterStatus.REJECTED:
            raise ValidationError({"customer": _("你已经提交过申请或已经是推广员。")})
        status = PromoterStatus.ACTIVE if ds.auto_approve else PromoterStatus.PENDING
        if existing is not None:
            PROMOTER_FSM.move(existing, PromoterStatus.PENDING)
            promoter = existing
            if status == PromoterStatus.ACTIVE:
                PROMOTER_FSM.move(promoter, status)
        else:
            promoter = make_promoter(customer=customer, invited_by=invited_by, status=status)
        promoter.agreement_version = ds.agreement_version
        promoter.agreement_accepted_at = timezone.now()
        if status == PromoterStatus.ACTIVE:
            promoter.reviewed_at = timezone.now()
        promoter.save(update_fields=["status", "agreement_version", "agreement_accepted_at", "reviewed_at"])
        log(LogAction.APPLY, promoter=promoter, note=_("同意分销协议第 %(v)s 版") % {"v": ds.agreement_version})
        return promoter


def log(action: str, *, promoter: Promoter | None = None, actor=None, note: str = "") -> None:
    """The audit row of a distribution change (in the caller's transaction)."""
    DistributionLog.objects.create(
        action=action, promoter=promoter, actor=actor if getattr(actor, "pk", None) else None, note=(note or "")[:500]
    )


def _move(promoter: Promoter, to: str, *, action: str, reason: str = "", actor=None) -> Promoter:
    with transaction.atomic():
        locked = Promoter.objects.select_for_update().get(pk=promoter.pk)
        PROMOTER_FSM.move(locked, to)
        locked.status_reason = (reason or "")[:200]
        locked.reviewed_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "reviewed_at"])
        log(action, promoter=locked, actor=actor, note=reason)
        return locked


def review_promoter(*, promoter: Promoter, approve: bool, reason: str = "", actor=None) -> Promoter:
    if not approve and len((reason or "").strip()) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写拒绝原因。"), code="required")})
    return _move(
        promoter,
        PromoterStatus.ACTIVE if approve else PromoterStatus.REJECTED,
        action=LogAction.APPROVE if approve else LogAction.REJECT,
        reason=reason,
        actor=actor,
    )


def freeze_promoter(*, promoter: Promoter, reason: str, actor=None) -> Promoter:
    """Frozen: earns nothing new, settles nothing and withdraws nothing until unfrozen (M8)."""
    if len((reason or "").strip()) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写冻结原因。"), code="required")})
    return _move(promoter, PromoterStatus.FROZEN, action=LogAction.FREEZE, reason=reason, actor=actor)


def unfreeze_promoter(*, promoter: Promoter, actor=None) -> Promoter:
    return _move(promoter, PromoterStatus.ACTIVE, action=LogAction.UNFREEZE, actor=actor)


def _cap_check(ctx) -> None:
    errors = caps.store_rule_errors(ctx)
    if errors:
        raise ValidationError({"__all__": ValidationError(errors[0], code="cap")})


def set_rate_override(*, promoter: Promoter, level1_bps: int | None, level2_bps: int | None, actor=None) -> Promoter:
    """A per-promoter rate (wins over product, category and store rates), within the cap."""
    for field, value in (("level1_override_bps", level1_bps), ("level2_override_bps", level2_bps)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3000):
            raise ValidationError({field: _("比例须在 0%–30% 之间。")})
    with transaction.atomic():
        locked = Promoter.objects.select_for_update().get(pk=promoter.pk)
        locked.level1_override_bps, locked.level2_override_bps = level1_bps, level2_bps
        locked.save(update_fields=["level1_override_bps", "level2_override_bps"])
        _cap_check(caps.current_context())
        log(
            LogAction.OVERRIDE,
            promoter=locked,
            actor=actor,
            note=_("一级 %(a)s，二级 %(b)s")
            % {
                "a": format_bps(level1_bps) if level1_bps is not None else "—",
                "b": format_bps(level2_bps) if level2_bps is not None else "—",
            },
        )
        return locked


SETTINGS_FIELDS = {
    "enabled", "levels", "promoter_name", "level1_bps", "level2_bps", "self_purchase", "binding_rule",
    "binding_days", "settle_days", "clawback", "threshold", "threshold_spent_fen", "threshold_product",
    "auto_approve", "agreement_text", "withdraw_min_fen", "withdraw_daily_count", "withdraw_daily_fen",
    "withdraw_fee_free_under_fen", "withdraw_fee_bps", "withdraw_auto_review_under_fen",
    "dividend_enabled", "dividend_threshold_fen", "dividend_bps", "payout_mode",
}  # fmt: skip


def update_distribution_settings(*, actor=None, **changes) -> DistributionSettings:
    """Save the store's distribution rules. Field errors for: a level other than 1 or 2 (the
    cap is code: there is no third level), rates outside their ranges (level 1 8–15 %, level 2
    3–5 %), any rule that could pay more than 30 % of a line, banned words in the agreement.
    A changed agreement text gets a new version (promoters accept it again on their next
    application)."""
    unknown = set(changes) - SETTINGS_FIELDS
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("未知的设置项。")})
    errors: dict[str, str] = {}
    if "levels" in changes and changes["levels"] not in range(1, MAX_DISTRIBUTION_LEVELS + 1):
        errors["levels"] = _("分销最多两级。")
    for level, field in ((1, "level1_bps"), (2, "level2_bps")):
        if field in changes:
            low, high = LEVEL_RATE_RANGES[level]
            v = changes[field]
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                errors[field] = _("%(level)s级佣金比例须在 %(low)s%%–%(high)s%% 之间。") % {
                    "level": "一" if level == 1 else "二",
                    "low": low // 100,
                    "high": high // 100,
                }
    if "promoter_name" in changes and changes["promoter_name"] not in PROMOTER_NAMES:
        errors["promoter_name"] = _("推广员名称可选：%(names)s。") % {"names": "、".join(PROMOTER_NAMES)}
    if "settle_days" in changes and not 0 <= int(changes["settle_days"]) <= 90:
        errors["settle_days"] = _("结算周期须在 0–90 天之间。")
    if "binding_days" in changes and not 0 <= int(changes["binding_days"]) <= 3650:
        errors["binding_days"] = _("绑定有效期须在 0–3650 天之间。")
    if changes.get("agreement_text"):
        banned = banned_terms_in(changes["agreement_text"])
        if banned:
            errors["agreement_text"] = _("含有违规用语：%(w)s。") % {"w": "、".join(banned)}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ds = DistributionSettings.current()
        ds = DistributionSettings.objects.select_for_update().get(pk=ds.pk)
        if "agreement_text" in changes and changes["agreement_text"] != ds.agreement_text:
            ds.agreement_version += 1
        changed = sorted(k for k, v in changes.items() if getattr(ds, k) != v)
        for k, v in changes.items():
            setattr(ds, k, v)
        ds.full_clean()
        ds.save()
        _cap_check(caps.current_context())
        if changed:
            names = [str(DistributionSettings._meta.get_field(k).verbose_name) for k in changed]
            log(LogAction.SETTINGS, actor=actor, note="、".join(names))
        return ds


def save_grade(*, name: str, rank: int, bonus_bps: int = 0, min_sales_fen: int = 0, min_direct_promoters: int = 0,
               grade: Grade | None = None, actor=None) -> Grade:  # fmt: skip
    """Create or change a grade; a bonus that could break the 30 % cap is refused."""
    with transaction.atomic():
        g = grade or Grade()
        g.name, g.rank, g.bonus_bps = name, rank, bonus_bps
        g.min_sales_fen, g.min_direct_promoters = min_sales_fen, min_direct_promoters
        g.full_clean()
        g.save()
        _cap_check(caps.current_context())
        log(LogAction.GRADE, actor=actor, note=_("%(n)s（加成 %(b)s）") % {"n": g.name, "b": format_bps(g.bonus_bps)})
        return g


def check_grades(*, promoter_ids: list[int] | None = None) -> int:
    """Move promoters up to the highest grade whose conditions they meet: own sales (their
    level-1 sales) and direct invitees who became promoters (never level-2 invitees). Grades
    only go up here; returns how many promoters changed."""
    grades = list(Grade.objects.order_by("-rank"))
    if not grades:
        return 0
    qs = Promoter.objects.filter(status=PromoterStatus.ACTIVE).annotate(direct=Count("children", distinct=True))
    if promoter_ids is not None:
        qs = qs.filter(pk__in=promoter_ids)
    changed = 0
    for p in qs.select_related("grade"):
        target = next(
            (g for g in grades if p.sales_fen >= g.min_sales_fen and p.direct >= g.min_direct_promoters), None
        )
        if target and (p.grade is None or target.rank > p.grade.rank):
            with transaction.atomic():
                Promoter.objects.filter(pk=p.pk).update(grade=target)
                log(LogAction.GRADE_UP, promoter=p, note=target.name)
            changed += 1
    return changed


def adjust_commission(*, promoter: Promoter, amount_fen: int, reason: str, actor) -> None:
    """A manual ledger entry (±, on the withdrawable balance) with the reason and who made it."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写调整原因。"), code="required")})
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen == 0:
        raise ValidationError({"amount_fen": _("调整金额不能为 0。")})
    with transaction.atomic():
        Promoter.objects.select_for_update().get(pk=promoter.pk)
        ledger.append(
            promoter_id=promoter.pk,
            kind=EntryKind.MANUAL,
            amount_fen=amount_fen,
            available=amount_fen,
            actor=actor,
            note=reason[:200],
        )
