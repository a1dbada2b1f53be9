"""Commission at payment, refunds in any order of events, settlement and claw-back (issue 11
points 2, 3, 4-settlement, 5-ledger)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from mall.promoters.actions import make_promoter, set_rate_override, update_distribution_settings
from mall.promoters.binding import record_touch
from mall.promoters.commission import settle_due, sync_order_commission
from mall.promoters.ledger import balances_from_entries
from mall.promoters.models import CommissionEntry, LineCommission, Promoter
from tests.factories import CustomerFactory
from tests.mall.distribution.helpers import buy, chain, complete, product, refund, run_commission_outbox


def entries(promoter, **kw):
    return list(
        CommissionEntry.objects.filter(promoter=promoter, **kw)
        .order_by("pk")
        .values_list("kind", "level", "amount_fen")
    )


def fresh(p):
    return Promoter.objects.get(pk=p.pk)


def test_bound_shopper_pays_two_levels_on_net_paid_amount_pending(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        grand, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link", device="dev-1", ip="10.0.0.8")
        order = buy(shopper, [(product(12345), 2)])
        assert order.promoter_id == child.pk  # the sale's source, from the binding
        run_commission_outbox()
        # 2 × 123.45 = 246.90; level 1 10 % = 24.69; level 2 3 % = 7.40 (7.407 rounded down)
        assert entries(child) == [("accrued", 1, 2469)]
        assert entries(parent) == [("accrued", 2, 740)]
        assert entries(grand) == []  # a third level never earns
        assert fresh(child).pending_fen == 2469 and fresh(child).available_fen == 0
        assert fresh(child).sales_fen == 24690


def test_a_second_run_of_the_hook_writes_nothing(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        _, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="qr")
        order = buy(shopper, [(product(5000), 1)])
        assert sync_order_commission(order_id=order.pk) == 2
        assert sync_order_commission(order_id=order.pk) == 0
        assert run_commission_outbox() == 1  # the hook's own message: nothing left to write
        assert CommissionEntry.objects.filter(order=order).count() == 2


def test_refund_before_settlement_recomputes_the_line_and_records_the_difference(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        _, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        order = buy(shopper, [(product(9999), 3)])
        run_commission_outbox()
        line = order.lines.get()
        refund(order, line, 3333, quantity=1)
        run_commission_outbox()
        # net 299.97 → 266.64: level 1 29.99 → 26.66 (−3.33); level 2 8.99 → 7.99 (−1.00)
        assert entries(child) == [("accrued", 1, 2999), ("adjusted", 1, -333)]
        assert entries(parent) == [("accrued", 2, 899), ("adjusted", 2, -100)]
        assert fresh(child).pending_fen == 2666


def test_refund_arriving_before_the_payment_hook_gives_the_same_ledger(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        _, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        order = buy(shopper, [(product(9999), 3)])
        refund(order, order.lines.get(), 3333, quantity=1)
        # deliver the refund's message first, then the payment's
        from core import outbox
        from core.models import OutboxMessage

        msgs = OutboxMessage.objects.filter(handler__startswith="mall.promoters.commission").order_by("-pk")
        for m in msgs:
            outbox.deliver(m.pk)
        assert fresh(child).pending_fen == 2666 and fresh(parent).pending_fen == 799


def test_settlement_waits_for_completion_plus_n_days_and_a_real_track(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        _, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        order = buy(shopper, [(product(10000), 1)])
        run_commission_outbox()
        assert settle_due() == 0  # not completed
        complete(order, days_ago=6)
        assert settle_due() == 0  # T+7 not reached
        complete(order, days_ago=8, real_track=False)
        assert settle_due() == 0  # no real logistics track: never settles (M8)
        complete(order, days_ago=8)
        assert settle_due() == 2
        assert settle_due() == 0
        c = fresh(child)
        assert (c.pending_fen, c.available_fen) == (0, 1000)
        assert entries(child)[-1] == ("settled", 1, 1000)


def test_refund_after_settlement_claws_back_below_zero_and_is_netted_later(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        _, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        order = buy(shopper, [(product(10000), 1)])
        run_commission_outbox()
        complete(order)
        settle_due()
        # the promoter's balance is spent elsewhere (a manual debit stands in for a withdrawal)
        from mall.promoters.actions import adjust_commission

        adjust_commission(promoter=child, amount_fen=-1000, reason="测试：余额已提走", actor=None)
        refund(order, order.lines.get(), 10000, quantity=1)
        run_commission_outbox()
        c = fresh(child)
        assert c.available_fen == -1000 and c.owed_fen == 1000  # owes: shown, not lost
        assert entries(child)[-1] == ("clawback", 1, -1000)
        # the next settled earnings pay the debt first
        order2 = buy(shopper, [(product(30000), 1)])
        run_commission_outbox()
        complete(order2)
        settle_due()
        assert fresh(child).available_fen == 2000


def test_merchant_absorbs_policy_records_the_loss_without_debiting(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(clawback="merchant_absorbs")
        _, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        order = buy(shopper, [(product(10000), 1)])
        run_commission_outbox()
        complete(order)
        settle_due()
        refund(order, order.lines.get(), 5000)
        run_commission_outbox()
        assert fresh(child).available_fen == 1000
        assert entries(child)[-1] == ("absorbed", 1, -500)
        assert LineCommission.objects.get(promoter=child).target_fen == 500


def test_cap_cuts_level_two_first_and_records_the_cut(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        _, parent, child = chain()
        # a price change after the rules were saved makes the line worth less than any price
        p = product(1000, commission_l1_fen=250, commission_l2_fen=100)  # fixed per unit
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        buy(shopper, [(p, 1)])
        run_commission_outbox()
        lc1 = LineCommission.objects.get(level=1, promoter=child)
        lc2 = LineCommission.objects.get(level=2, promoter=parent)
        # cap: 30 % of ¥10.00 = ¥3.00 → level 1 ¥2.50 kept, level 2 cut from ¥1.00 to ¥0.50
        assert (lc1.target_fen, lc1.cut_fen, lc2.target_fen, lc2.cut_fen) == (250, 0, 50, 50)
        assert CommissionEntry.objects.get(promoter=parent).cut_fen == 50


def test_rules_that_could_exceed_the_cap_are_refused_at_save(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        grand, parent, child = chain()
        with pytest.raises(ValidationError) as e:
            update_distribution_settings(level1_bps=1600)
        assert "level1_bps" in e.value.message_dict
        with pytest.raises(ValidationError) as e:
            update_distribution_settings(levels=3)
        assert "分销最多两级" in e.value.message_dict["levels"][0]
        with pytest.raises(ValidationError) as e:
            set_rate_override(promoter=child, level1_bps=2800, level2_bps=None)
        assert "30%" in e.value.messages[0]
        assert fresh(child).level1_override_bps is None  # nothing half-saved
        set_rate_override(promoter=child, level1_bps=2500, level2_bps=None)  # 25 + 5 (max level 2) ≤ 30


def test_promoter_override_wins_over_product_and_category(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        _, parent, child = chain()
        p = product(10000, commission_l1_bps=1200)
        p.category.commission_l1_bps = 1400
        p.category.save()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        buy(shopper, [(p, 1)])
        run_commission_outbox()
        assert LineCommission.objects.get(level=1).rate_source == "product"
        set_rate_override(promoter=child, level1_bps=1500, level2_bps=None)
        buy(shopper, [(p, 1)])
        run_commission_outbox()
        lc = LineCommission.objects.filter(level=1).order_by("-pk").first()
        assert (lc.rate_source, lc.target_fen) == ("promoter", 1500)


def test_the_ledger_agrees_with_the_cached_balances(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        _, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        o = buy(shopper, [(product(7777), 3)])
        run_commission_outbox()
        refund(o, o.lines.get(), 1111, 0)
        run_commission_outbox()
        for p in (parent, child):
            got = balances_from_entries(p.pk)[p.pk]
            f = fresh(p)
            assert got == {
                "pending": f.pending_fen,
                "available": f.available_fen,
                "inflight": f.inflight_fen,
                "withdrawn": f.withdrawn_fen,
            }


def test_no_binding_no_commission(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        make_promoter(customer=CustomerFactory())
        order = buy(CustomerFactory(), [(product(10000), 1)])
        run_commission_outbox()
        assert not CommissionEntry.objects.filter(order=order).exists()
        assert order.promoter_id is None
