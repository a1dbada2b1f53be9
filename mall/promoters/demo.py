"""Demo distribution (development only; called by ``tools/demo``), made through the actions:
the store's rules and grades, promoters on two levels, shoppers bound by link, QR code and
invite code (with their evidence), commission on the demo orders, a settlement, a team of
promoters, a manual adjustment, withdrawals in every state of the real transfer API, and a
promoter who owes after a refund that came after its money was withdrawn. At the end the
ledger reconciles (``reconcile_commissions`` is clean on it)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from mall.customers.models import Customer
from mall.promoters.actions import (
    adjust_commission,
    check_grades,
    freeze_promoter,
    make_promoter,
    review_promoter,
    save_grade,
    update_distribution_settings,
)
from mall.promoters.binding import record_touch
from mall.promoters.models import Promoter, PromoterStatus
from mall.promoters.withdrawals import apply_transfer_state, request_withdrawal, review_withdrawal

AGREEMENT = (
    "分销协议（演示）\n"
    "一、本店分销最多两级：你直接推荐的顾客下单，你获得一级佣金；你邀请的推广员推荐的顾客下单，你获得二级佣金。\n"
    "二、佣金按订单行实付金额（扣除优惠与退款，不含运费）计算，一级与二级合计不超过实付金额的 30%。\n"
    "三、订单完成且物流签收（服务类订单已核销）后 T+7 天结算；结算前退款按新金额重算，结算后退款从余额扣回。\n"
    "四、提现通过微信商家转账到你的微信零钱，需在小程序内确认收款；最低 10 元，每日最多 5 次。\n"
    "五、严禁刷单、虚假推广；发现异常本店有权冻结佣金。售后与客服电话见店铺首页。"
)


def seed_distribution_rules(*, industry: str) -> None:
    update_distribution_settings(
        promoter_name="合伙人" if industry == "travel" else "推广员",
        agreement_text=AGREEMENT,
        withdraw_daily_count=5,
        withdraw_fee_free_under_fen=10000,
        withdraw_fee_bps=60,
        dividend_enabled=True,
        dividend_threshold_fen=20000,
        dividend_bps=100,
    )
    save_grade(name="普通推广员", rank=1, bonus_bps=0)
    save_grade(name="高级推广员", rank=2, bonus_bps=300, min_sales_fen=50000, min_direct_promoters=2)


def seed_promoters(*, shoppers: list[Customer]):
    """A lead, a second level under the lead, and one more lead (an application approved)."""
    lead = make_promoter(customer=shoppers[0])
    second = make_promoter(customer=shoppers[1], invited_by=lead)  # level 2 under the lead
    make_promoter(customer=shoppers[2])
    return lead, second


def seed_bindings(*, shoppers: list[Customer], lead: Promoter, second: Promoter) -> None:
    """Plain shoppers come through promoters' links and codes (the evidence of each binding)."""
    plain = shoppers[3:]
    if plain:
        record_touch(customer=plain[0], promoter=lead, source="link", scene="pages/goods/detail?id=1",
                     device="iPhone15,2-8f3a", ip="183.62.14.21")  # fmt: skip
        record_touch(customer=plain[0], promoter=second, source="qr", scene="pid=2",
                     device="iPhone15,2-8f3a", ip="183.62.14.21")  # recorded, does not rebind  # fmt: skip
    if len(plain) > 1:
        record_touch(customer=plain[1], promoter=second, source="invite_code", scene=second.invite_code,
                     device="HUAWEI-P60-77c1", ip="113.108.22.9")  # fmt: skip


def seed_ledger(*, shoppers: list[Customer], lead: Promoter, second: Promoter, industry: str) -> None:
    from mall.orders.models import Order
    from mall.payments.actions import record_refund_result, request_refund
    from mall.promoters.commission import settle_due, sync_order_commission

    # Commission on every paid demo order (the worker would run the same hook; it finds nothing left).
    for order_id in Order.objects.filter(paid_at__isnull=False).order_by("pk").values_list("pk", flat=True):
        sync_order_commission(order_id=order_id)
    # The beat a week from now: what completed with a real track (or a redemption) settles.
    settle_due(now=timezone.now() + timedelta(days=8))
    # A team under the lead (two direct invitees make it a senior promoter).
    team = [make_promoter(customer=c, invited_by=lead) for c in _new_shoppers(industry, 2)]
    pending = make_promoter(customer=_new_shoppers(industry, 1, start=2)[0], status=PromoterStatus.PENDING)
    review_promoter(promoter=pending, approve=False, reason="资料不完整，请补充后重新申请")
    freeze_promoter(promoter=team[1], reason="短时间内大量异常下单，冻结核查")
    check_grades()
    # A campaign bonus (manual, with its reason) so the promoters have money to withdraw.
    for p, amount in ((lead, 88000), (second, 36000), (team[0], 12000)):
        adjust_commission(promoter=p, amount_fen=amount, reason="国庆推广活动奖励（演示）", actor=None)
    # Withdrawals in every state of WeChat's merchant-transfer API.
    ok = request_withdrawal(promoter=lead, amount_fen=15000, idempotency_key="demo-1")  # auto-approved
    for state in ("WAIT_USER_CONFIRM", "TRANSFERING", "SUCCESS"):
        apply_transfer_state(withdrawal_id=ok.pk, state=state, transfer_bill_no="1330000000000000000001")
    waiting = request_withdrawal(promoter=lead, amount_fen=5000, idempotency_key="demo-2")
    apply_transfer_state(withdrawal_id=waiting.pk, state="WAIT_USER_CONFIRM", package_info="ABBQO+oYAAABAAAAAAB演示")
    moving = request_withdrawal(promoter=second, amount_fen=8000, idempotency_key="demo-3")
    apply_transfer_state(withdrawal_id=moving.pk, state="WAIT_USER_CONFIRM")
    apply_transfer_state(withdrawal_id=moving.pk, state="TRANSFERING")
    failed = request_withdrawal(promoter=second, amount_fen=6000, idempotency_key="demo-4")
    apply_transfer_state(withdrawal_id=failed.pk, state="WAIT_USER_CONFIRM")
    apply_transfer_state(withdrawal_id=failed.pk, state="TRANSFERING")
    apply_transfer_state(withdrawal_id=failed.pk, state="FAIL", fail_reason="PAYEE_ACCOUNT_ABNORMAL")
    expired = request_withdrawal(promoter=team[0], amount_fen=3000, idempotency_key="demo-5")
    apply_transfer_state(withdrawal_id=expired.pk, state="WAIT_USER_CONFIRM")
    apply_transfer_state(withdrawal_id=expired.pk, state="CANCELLED", fail_reason="OVERDUE_CLOSE")
    big = request_withdrawal(promoter=lead, amount_fen=30000, idempotency_key="demo-6")  # over the auto-review line
    rejected = request_withdrawal(promoter=second, amount_fen=21000, idempotency_key="demo-7")
    review_withdrawal(withdrawal=rejected, approve=False, reason="近期有退款处理中，暂缓提现")
    del big  # stays 待审核 for the merchant
    if industry == "travel":
        return
    # The lead withdraws everything it has; then a refund on an order it was paid for claws
    # back below zero: it owes, shown to it and to the merchant, netted against later earnings.
    lead = Promoter.objects.get(pk=lead.pk)
    if lead.available_fen >= 1000:
        rest = request_withdrawal(promoter=lead, amount_fen=lead.available_fen, idempotency_key="demo-8")
        review_withdrawal(withdrawal=rest, approve=True, actor=None) if rest.status == "reviewing" else None
        for state in ("WAIT_USER_CONFIRM", "TRANSFERING", "SUCCESS"):
            apply_transfer_state(withdrawal_id=rest.pk, state=state)
    settled = Order.objects.filter(commissions__settled=True, commissions__promoter=lead).distinct().first()
    if settled is not None:
        line = settled.lines.order_by("-amount_fen").first()
        refund = request_refund(order=settled, lines=[{"line_id": line.pk, "amount_fen": line.amount_fen,
                                "quantity": 0}], reason="签收后发现品质问题，全额退该商品")  # fmt: skip
        record_refund_result(out_refund_no=refund.out_refund_no, refund_id=f"5030demo{refund.pk:08d}",
                             wechat_status="SUCCESS", amount_fen=refund.amount_fen)  # fmt: skip
        sync_order_commission(order_id=settled.pk, refund_id=refund.pk)


def _new_shoppers(industry: str, n: int, start: int = 0) -> list[Customer]:
    from mall.customers.actions import login_shopper

    names = ["周婷", "许文博", "何佳怡", "马骁"]
    out = []
    for i in range(start, start + n):
        c = login_shopper(openid=f"o-demo-{industry}-team-{i}")
        c.nickname = names[i % len(names)]
        c.save(update_fields=["nickname"])
        out.append(c)
    return out
