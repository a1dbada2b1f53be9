"""Withdrawals (issue 11 point 4): limits, the fee, review, the transfer's real states, replays
and concurrent requests that must never overdraw."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django_tenants.utils import schema_context

from mall.promoters.actions import adjust_commission, make_promoter, update_distribution_settings
from mall.promoters.models import CommissionEntry, Promoter, Withdrawal
from mall.promoters.withdrawals import apply_transfer_state, preview, request_withdrawal, review_withdrawal
from tests.factories import CustomerFactory


def rich_promoter(available_fen=100_000):
    p = make_promoter(customer=CustomerFactory())
    adjust_commission(promoter=p, amount_fen=available_fen, reason="测试：已结算佣金", actor=None)
    return Promoter.objects.get(pk=p.pk)


def buckets(p):
    p = Promoter.objects.get(pk=p.pk)
    return p.available_fen, p.inflight_fen, p.withdrawn_fen


def test_fee_is_shown_before_confirming_and_free_under_the_threshold(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(withdraw_fee_free_under_fen=10000, withdraw_fee_bps=100)
        p = rich_promoter()
        assert preview(promoter=p, amount_fen=9999)["fee_fen"] == 0
        shown = preview(promoter=p, amount_fen=12345)
        assert (shown["fee_fen"], shown["net_fen"]) == (123, 12222)
        w = request_withdrawal(promoter=p, amount_fen=12345)
        assert (w.fee_fen, w.net_fen) == (123, 12222)


def test_limits_are_field_errors(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(withdraw_min_fen=1000, withdraw_daily_count=2, withdraw_daily_fen=5000)
        p = rich_promoter(20_000)
        for amount, text in ((999, "最低提现"), (30_000, "余额不足")):
            with pytest.raises(ValidationError) as e:
                request_withdrawal(promoter=p, amount_fen=amount)
            assert text in e.value.message_dict["amount_fen"][0]
        request_withdrawal(promoter=p, amount_fen=3000)
        with pytest.raises(ValidationError) as e:
            request_withdrawal(promoter=p, amount_fen=2500)
        assert "每日提现上限" in e.value.message_dict["amount_fen"][0]
        request_withdrawal(promoter=p, amount_fen=2000)
        with pytest.raises(ValidationError) as e:
            request_withdrawal(promoter=p, amount_fen=1000)
        assert "次数" in e.value.message_dict["amount_fen"][0]
        assert buckets(p) == (15_000, 5_000, 0)


def test_same_idempotency_key_returns_the_first_request(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        p = rich_promoter()
        a = request_withdrawal(promoter=p, amount_fen=5000, idempotency_key="k-1")
        b = request_withdrawal(promoter=p, amount_fen=5000, idempotency_key="k-1")
        assert a.pk == b.pk and Withdrawal.objects.filter(promoter=p).count() == 1
        assert buckets(p) == (95_000, 5_000, 0)


def test_large_amounts_wait_for_review_and_a_rejection_returns_the_money(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(withdraw_auto_review_under_fen=20000, withdraw_daily_fen=10_000_000)
        p = rich_promoter()
        small = request_withdrawal(promoter=p, amount_fen=5000)
        assert small.status == "approved" and small.out_bill_no.isalnum() and "_" not in small.out_bill_no
        big = request_withdrawal(promoter=p, amount_fen=50_000)
        assert big.status == "reviewing"
        with pytest.raises(ValidationError):
            review_withdrawal(withdrawal=big, approve=False, reason="")
        review_withdrawal(withdrawal=big, approve=False, reason="账户信息待核实")
        assert buckets(p) == (95_000, 5_000, 0)
        assert CommissionEntry.objects.filter(withdrawal=big).count() == 2  # withdrawn, returned


@pytest.mark.parametrize(
    ("states", "final", "expect"),
    [
        (["WAIT_USER_CONFIRM", "TRANSFERING", "SUCCESS"], "success", (95_000, 0, 5_000)),
        (["WAIT_USER_CONFIRM", "TRANSFERING", "FAIL"], "failed", (100_000, 0, 0)),
        (["WAIT_USER_CONFIRM", "CANCELING", "CANCELLED"], "cancelled", (100_000, 0, 0)),
        (["WAIT_USER_CONFIRM", "CANCELLED"], "cancelled", (100_000, 0, 0)),  # expired unconfirmed
    ],
)
def test_transfer_states_of_the_real_api_and_their_replays(tenant_a, db, states, final, expect):
    with schema_context(tenant_a.schema_name):
        p = rich_promoter()
        w = request_withdrawal(promoter=p, amount_fen=5000)
        for s in states:
            apply_transfer_state(withdrawal_id=w.pk, state=s, transfer_bill_no="1330000111", package_info="pkg")
        for s in states:  # every notify replayed, in any order: nothing moves twice
            apply_transfer_state(withdrawal_id=w.pk, state=s)
        w.refresh_from_db()
        assert w.status == final
        assert buckets(p) == expect


def test_concurrent_withdrawals_never_overdraw(tenant_a, committed):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(withdraw_daily_count=100, withdraw_daily_fen=10_000_000)
        p = rich_promoter(10_000)
    results = []

    def worker():
        try:
            with schema_context(tenant_a.schema_name):
                results.append(request_withdrawal(promoter=p, amount_fen=3000).pk)
        except ValidationError:
            results.append(None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        with schema_context(tenant_a.schema_name):
            assert len([r for r in results if r]) == 3  # 3 × ¥30 of ¥100
            assert buckets(p) == (1_000, 9_000, 0)
    finally:
        with schema_context(tenant_a.schema_name):
            CommissionEntry.objects.filter(promoter=p).delete()
            Withdrawal.objects.filter(promoter=p).delete()
            from core.models import OutboxMessage

            OutboxMessage.objects.filter(handler="mall.promoters.withdrawals.send_transfer").delete()
            Promoter.objects.filter(pk=p.pk).delete()
            update_distribution_settings(withdraw_daily_count=3, withdraw_daily_fen=500000)
