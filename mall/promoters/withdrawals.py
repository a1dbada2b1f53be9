"""Withdrawals (SPEC D3, M16; issue 11 point 4): a promoter takes settled money out through
WeChat 商家转账, which the promoter confirms in the mini-program.

Money moves in the ledger at each step (``ledger.append``, in the transaction of the step):

* request: ``withdrawn`` entry, available → in flight (so two requests at once can never
  overdraw: the promoter row is locked while the balance is checked and moved);
* success: ``paid_out``, in flight → withdrawn;
* rejected by the merchant, failed, cancelled or expired: ``returned``, in flight → available.

The states follow the real API (``WITHDRAWAL_FSM``): reviewing → approved → (transfer bill made)
wait_user → transferring → success; failed / cancelled from the waiting or transferring states.
The transfer is created by an external outbox handler (no network call under a row lock), with
an ``out_bill_no`` that names the store without ``_`` (``transfer_bill_no_for``); a retried
handler sends the same number, and WeChat answers with the same bill. The notify and the query
beat both end in ``apply_transfer_state``, which ignores a state already applied."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from core.fsm import StateMachine
from core.money import bps_of, format_yuan
from mall.customers.models import Customer
from mall.promoters import ledger
from mall.promoters.models import (
    DistributionSettings,
    EntryKind,
    Promoter,
    PromoterStatus,
    Withdrawal,
    WithdrawalChannel,
    WithdrawalStatus,
)

log = logging.getLogger(__name__)
S = WithdrawalStatus
WITHDRAWAL_FSM = StateMachine(
    WithdrawalStatus,
    {
        S.REVIEWING: {S.APPROVED, S.REJECTED},
        S.APPROVED: {S.WAIT_USER, S.TRANSFERRING, S.SUCCESS, S.FAILED, S.CANCELLED},
        S.WAIT_USER: {S.TRANSFERRING, S.SUCCESS, S.FAILED, S.CANCELLED},
        S.TRANSFERRING: {S.SUCCESS, S.FAILED},
        S.SUCCESS: set(),
        S.FAILED: set(),
        S.CANCELLED: set(),
        S.REJECTED: set(),
    },
    subject=_("提现"),
)
OPEN_STATES = (S.REVIEWING, S.APPROVED, S.WAIT_USER, S.TRANSFERRING)
RETURNING_STATES = (S.FAILED, S.CANCELLED, S.REJECTED)
# WeChat's transfer states → ours.
WECHAT_STATES = {
    "ACCEPTED": S.APPROVED,
    "PROCESSING": S.APPROVED,
    "WAIT_USER_CONFIRM": S.WAIT_USER,
    "TRANSFERING": S.TRANSFERRING,
    "SUCCESS": S.SUCCESS,
    "FAIL": S.FAILED,
    "CANCELING": S.WAIT_USER,
    "CANCELLED": S.CANCELLED,
}
MIN_TRANSFER_FEN = 10  # WeChat: at least ¥0.10


def fee_for(amount_fen: int, ds: DistributionSettings | None = None) -> int:
    """The fee rule, written once: free under the store's threshold, else its percentage of the
    amount (rounded down to the fen, like every percentage)."""
    ds = ds or DistributionSettings.current()
    if amount_fen < ds.withdraw_fee_free_under_fen:
        return 0
    return bps_of(amount_fen, ds.withdraw_fee_bps)


def preview(*, promoter: Promoter, amount_fen: int) -> dict:
    """What the promoter sees before confirming: fee, net, and the limits left today."""
    ds = DistributionSettings.current()
    used = _today(promoter)
    fee = fee_for(amount_fen, ds) if amount_fen > 0 else 0
    return {
        "amount_fen": amount_fen,
        "fee_fen": fee,
        "net_fen": max(amount_fen - fee, 0),
        "available_fen": promoter.available_fen,
        "min_fen": ds.withdraw_min_fen,
        "daily_count_left": max(ds.withdraw_daily_count - used["count"], 0),
        "daily_fen_left": max(ds.withdraw_daily_fen - used["amount"], 0),
        "auto_review": amount_fen < ds.withdraw_auto_review_under_fen,
    }


def _today(promoter: Promoter) -> dict:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    agg = (
        Withdrawal.objects.filter(promoter=promoter, created__gte=start, channel=WithdrawalChannel.TRANSFER)
        .exclude(status__in=(S.REJECTED, S.CANCELLED, S.FAILED))
        .aggregate(n=Count("pk"), s=Sum("amount_fen"))
    )
    return {"count": agg["n"] or 0, "amount": agg["s"] or 0}


def request_withdrawal(*, promoter: Promoter, amount_fen: int, idempotency_key: str = "") -> Withdrawal:
    """Ask to withdraw ``amount_fen`` (before the fee). Field errors for every rule broken;
    the same ``idempotency_key`` returns the first request."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError({"amount_fen": ValidationError(_("请输入提现金额。"), code="invalid")})
    key = (idempotency_key or "").strip()[:64]
    ds = DistributionSettings.current()
    with transaction.atomic():
        locked = Promoter.objects.select_for_update().get(pk=promoter.pk)
        if key:
            existing = Withdrawal.objects.filter(promoter=locked, idempotency_key=key).first()
            if existing is not None:
                return existing
        if locked.status != PromoterStatus.ACTIVE:
            raise ValidationError({"promoter": ValidationError(_("账户状态异常，暂不能提现。"), code="frozen")})
        if not Customer.objects.filter(pk=locked.customer_id, openid__isnull=False).exists():
            raise ValidationError(
                {
                    "promoter": ValidationError(
                        _("提现到微信零钱需要微信账号：请在本店小程序内登录并绑定同一手机号后再提现。"),
                        code="no_wechat",
                    )
                }
            )
        fee = fee_for(amount_fen, ds)
        errors = {}
        used = _today(locked)
        if amount_fen < ds.withdraw_min_fen:
            errors["amount_fen"] = _("最低提现 %(m)s。") % {"m": format_yuan(ds.withdraw_min_fen)}
        elif amount_fen > locked.available_fen:
            errors["amount_fen"] = _("可提现余额不足（%(a)s）。") % {"a": format_yuan(max(locked.available_fen, 0))}
        elif amount_fen - fee < MIN_TRANSFER_FEN:
            errors["amount_fen"] = _("扣除手续费后到账金额不能低于 ¥0.10。")
        elif used["count"] >= ds.withdraw_daily_count:
            errors["amount_fen"] = _("今日提现次数已用完（每日 %(n)s 次）。") % {"n": ds.withdraw_daily_count}
        elif used["amount"] + amount_fen > ds.withdraw_daily_fen:
            errors["amount_fen"] = _("超过每日提现上限 %(m)s（今日已申请 %(u)s）。") % {
                "m": format_yuan(ds.withdraw_daily_fen),
                "u": format_yuan(used["amount"]),
            }
        if errors:
            raise ValidationError(errors)
        w = Withdrawal.objects.create(
            promoter=locked, amount_fen=amount_fen, fee_fen=fee, net_fen=amount_fen - fee, idempotency_key=key
        )
        ledger.append(
            promoter_id=locked.pk,
            kind=EntryKind.WITHDRAWN,
            amount_fen=-amount_fen,
            available=-amount_fen,
            inflight=amount_fen,
            withdrawal=w,
            note=_("申请提现"),
        )
        if amount_fen < ds.withdraw_auto_review_under_fen:
            _approve(w)
        return w


def _approve(w: Withdrawal) -> None:
    WITHDRAWAL_FSM.move(w, S.APPROVED)
    w.reviewed_at = timezone.now()
    w.out_bill_no = transfer_bill_no(w)
    w.save(update_fields=["status", "reviewed_at", "out_bill_no"])
    outbox.record("mall.promoters.withdrawals.send_transfer", withdrawal_id=w.pk)


def transfer_bill_no(w: Withdrawal) -> str:
    from integrations.wechat.pay import transfer_bill_no_for
    from tenants.models import Tenant

    tenant_id = Tenant.objects.filter(schema_name=connection.schema_name).values_list("pk", flat=True).first() or 0
    return transfer_bill_no_for(tenant_id=tenant_id, withdrawal_pk=w.pk)


def review_withdrawal(*, withdrawal: Withdrawal, approve: bool, reason: str = "", actor=None) -> Withdrawal:
    """The merchant approves (the transfer is sent) or rejects (the money returns) a request."""
    if not approve and len((reason or "").strip()) < 2:
        raise ValidationError({"reason": ValidationError(_("请填写拒绝原因。"), code="required")})
    with transaction.atomic():
        w = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
        if approve:
            _approve(w)
        else:
            _finish(w, S.REJECTED, failure=reason.strip()[:200])
        return w


def _finish(w: Withdrawal, to: str, *, failure: str = "") -> None:
    """Move a locked withdrawal to a final state and move its money accordingly."""
    WITHDRAWAL_FSM.move(w, to)
    w.finished_at = timezone.now()
    if failure:
        w.failure = failure[:200]
    w.save(update_fields=["status", "finished_at", "failure"])
    if to == S.SUCCESS:
        ledger.append(
            promoter_id=w.promoter_id,
            kind=EntryKind.PAID_OUT,
            amount_fen=w.amount_fen,
            inflight=-w.amount_fen,
            withdrawn=w.amount_fen,
            withdrawal=w,
            note=_("已到账 %(n)s（手续费 %(f)s）") % {"n": format_yuan(w.net_fen), "f": format_yuan(w.fee_fen)},
        )
    else:
        ledger.append(
            promoter_id=w.promoter_id,
            kind=EntryKind.RETURNED,
            amount_fen=w.amount_fen,
            inflight=-w.amount_fen,
            available=w.amount_fen,
            withdrawal=w,
            note=(failure or w.get_status_display())[:200],
        )


def apply_transfer_state(
    *, withdrawal_id: int, state: str, transfer_bill_no: str = "", package_info: str = "", fail_reason: str = ""
) -> Withdrawal | None:
    """Apply what WeChat says about a transfer (the create answer, a notify, a query). A state
    already applied, or one that goes back, changes nothing: replays never pay twice."""
    to = WECHAT_STATES.get(state)
    if to is None:
        log.warning("unknown transfer state %r for withdrawal %s", state, withdrawal_id)
        return None
    with transaction.atomic():
        w = Withdrawal.objects.select_for_update().filter(pk=withdrawal_id).first()
        if w is None:
            return None
        if transfer_bill_no and not w.transfer_bill_no:
            w.transfer_bill_no = transfer_bill_no
        if package_info and not w.package_info:
            w.package_info = package_info
        w.save(update_fields=["transfer_bill_no", "package_info"])
        if w.status == to or not WITHDRAWAL_FSM.can(w.status, to):
            return w
        if to in (S.SUCCESS, *RETURNING_STATES):
            _finish(w, to, failure=fail_reason)
        else:
            WITHDRAWAL_FSM.move(w, to)
            w.save(update_fields=["status"])
        return w


@outbox.handler(external=True)
def send_transfer(*, withdrawal_id: int) -> None:
    """Create the transfer bill at WeChat (no transaction open: house rule 10). A 4xx refusal
    fails the withdrawal and returns the money; a timeout or 5xx raises, and the outbox retries
    with the same ``out_bill_no`` (WeChat answers a repeated number with the same bill)."""
    from integrations.wechat.errors import WeChatPayError, WeChatUnavailable
    from integrations.wechat.pay import PayClient
    from tenants.models import Tenant

    w = Withdrawal.objects.select_related("promoter__customer").filter(pk=withdrawal_id).first()
    if w is None or w.status != S.APPROVED:
        return
    appid = Tenant.objects.filter(schema_name=connection.schema_name).values_list("wechat_appid", flat=True).first()
    try:
        bill = PayClient(appid=appid or None).transfer(
            out_bill_no=w.out_bill_no,
            openid=w.promoter.customer.openid,
            amount_fen=w.net_fen,
            remark=_("佣金提现"),
            appid=appid or None,
        )
    except WeChatUnavailable:
        raise
    except WeChatPayError as exc:
        apply_transfer_state(withdrawal_id=w.pk, state="FAIL", fail_reason=f"{exc.code}: {exc.message}"[:200])
        return
    apply_transfer_state(
        withdrawal_id=w.pk,
        state=bill.get("state", ""),
        transfer_bill_no=bill.get("transfer_bill_no", ""),
        package_info=bill.get("package_info", ""),
        fail_reason=bill.get("fail_reason", ""),
    )


def query_open_transfers(*, older_than_minutes: int = 10) -> int:
    """Ask WeChat about transfers waiting longer than ``older_than_minutes`` (a lost notify, a
    bill the user never confirmed: WeChat closes it after 24 hours). Returns how many changed."""
    from integrations.wechat.errors import WeChatError
    from integrations.wechat.pay import PayClient

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    changed = 0
    for w in Withdrawal.objects.filter(
        channel=WithdrawalChannel.TRANSFER, status__in=(S.WAIT_USER, S.TRANSFERRING), reviewed_at__lte=cutoff
    ):
        try:
            bill = PayClient().transfer_query(out_bill_no=w.out_bill_no)
        except WeChatError as exc:
            log.warning("transfer query %s: %s", w.out_bill_no, exc)
            continue
        before = w.status
        after = apply_transfer_state(
            withdrawal_id=w.pk, state=bill.get("state", ""), fail_reason=bill.get("fail_reason", "")
        )
        changed += bool(after and after.status != before)
    return changed
