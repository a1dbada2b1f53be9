"""Table tests: every self-purchase mode × who buys, and every binding rule × touch source
(issue 11 point 9, SPEC U6 and M4)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from mall.promoters.actions import update_distribution_settings
from mall.promoters.binding import active_binding, record_touch
from mall.promoters.models import BindingChange, LineCommission, Touch
from tests.factories import CustomerFactory
from tests.mall.distribution.helpers import buy, chain, product, run_commission_outbox


def earned(order):
    return {
        lc.level: (lc.promoter.customer.nickname, lc.target_fen)
        for lc in LineCommission.objects.filter(order=order).select_related("promoter__customer")
    }


# price ¥100.00; level 1 10 %, level 2 3 %
@pytest.mark.parametrize(
    ("mode", "buyer", "total", "expect"),
    [
        ("rebate_on", "promoter", 10000, {1: ("子", 1000), 2: ("父", 300)}),
        ("rebate_off", "promoter", 10000, {1: ("父", 1000), 2: ("祖", 300)}),
        # ¥10.00 (level 1) off the price; the parent's level 2 on the ¥90.00 paid
        ("discount", "promoter", 9000, {2: ("父", 270)}),
        ("rebate_on", "bound shopper", 10000, {1: ("子", 1000), 2: ("父", 300)}),
        ("rebate_off", "bound shopper", 10000, {1: ("子", 1000), 2: ("父", 300)}),
        ("discount", "bound shopper", 10000, {1: ("子", 1000), 2: ("父", 300)}),
        ("rebate_on", "unbound shopper", 10000, {}),
    ],
)
def test_self_purchase_modes(tenant_a, db, mode, buyer, total, expect):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(self_purchase=mode, level1_bps=1000, level2_bps=300)
        grand, parent, child = chain()
        if buyer == "promoter":
            customer = child.customer
        else:
            customer = CustomerFactory()
            if buyer == "bound shopper":
                record_touch(customer=customer, promoter=child, source="link")
        order = buy(customer, [(product(10000), 1)])
        assert order.total_fen == total
        run_commission_outbox()
        assert earned(order) == expect


@pytest.mark.parametrize(
    ("rule", "source", "bound_at_touch", "earns"),
    [
        ("first_click", "link", True, True),
        ("first_click", "qr", True, True),
        ("first_click", "invite_code", True, True),
        ("invite_code", "link", False, False),
        ("invite_code", "invite_code", True, True),
        ("first_payment", "link", False, True),  # bound when the first order is paid
        ("first_payment", "qr", False, True),
    ],
)
def test_binding_rules(tenant_a, db, rule, source, bound_at_touch, earns):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(binding_rule=rule)
        _, parent, child = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source=source, device="fp-123", ip="10.1.2.3")
        assert (active_binding(shopper.pk) is not None) is bound_at_touch
        order = buy(shopper, [(product(10000), 1)])
        run_commission_outbox()
        assert bool(earned(order)) is earns
        if earns:
            b = active_binding(shopper.pk)
            assert b is not None and b.promoter_id == child.pk
            assert b.touch.device == "fp-123" or b.touch.source == "payment"
            assert BindingChange.objects.filter(customer=shopper, to_promoter=child).count() == 1
        if order.promoter_id:
            assert Touch.objects.filter(customer=shopper, source="payment", order=order).exists()


def test_first_touch_wins_until_the_binding_expires(tenant_a, db):
    from datetime import timedelta

    from django.utils import timezone

    from mall.promoters.models import Binding

    with schema_context(tenant_a.schema_name):
        update_distribution_settings(binding_rule="first_click", binding_days=30)
        _, a, b = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=a, source="link")
        record_touch(customer=shopper, promoter=b, source="qr")  # recorded, does not rebind
        assert active_binding(shopper.pk).promoter_id == a.pk
        assert Touch.objects.filter(customer=shopper).count() == 2
        Binding.objects.filter(customer=shopper).update(expires_at=timezone.now() - timedelta(seconds=1))
        record_touch(customer=shopper, promoter=b, source="qr")
        binding = active_binding(shopper.pk)
        assert binding.promoter_id == b.pk and binding.expires_at > timezone.now() + timedelta(days=29)


def test_merchant_rebind_needs_a_reason_and_is_audited(tenant_a, db):
    from django.core.exceptions import ValidationError

    from mall.promoters.binding import rebind

    with schema_context(tenant_a.schema_name):
        _, a, b = chain()
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=a, source="link")
        with pytest.raises(ValidationError) as e:
            rebind(customer=shopper, promoter=b, reason="", actor=None)
        assert "reason" in e.value.message_dict
        rebind(customer=shopper, promoter=b, reason="顾客申诉，核实为 B 推荐", actor=None)
        change = BindingChange.objects.filter(customer=shopper).order_by("-pk").first()
        assert (change.from_promoter_id, change.to_promoter_id, change.reason) == (
            a.pk,
            b.pk,
            "顾客申诉，核实为 B 推荐",
        )


def test_rule_and_standing_changes_are_logged_with_their_actor(tenant_a, db):
    from mall.promoters.actions import freeze_promoter, set_rate_override, unfreeze_promoter
    from mall.promoters.models import DistributionLog
    from saas_platform.accounts.models import User

    with schema_context(tenant_a.schema_name):
        boss = User.objects.create(username=f"boss-{CustomerFactory().pk}")
        _, parent, child = chain()
        update_distribution_settings(level1_bps=1200, settle_days=10, actor=boss)
        freeze_promoter(promoter=child, reason="异常订单核查", actor=boss)
        unfreeze_promoter(promoter=child, actor=boss)
        set_rate_override(promoter=child, level1_bps=1300, level2_bps=None, actor=boss)
        rows = list(DistributionLog.objects.order_by("pk").values_list("action", "promoter_id", "actor_id", "note"))
        assert rows[0][0] == "settings" and "一级佣金比例" in rows[0][3] and "结算周期" in rows[0][3]
        assert [r[:3] for r in rows[1:]] == [
            ("freeze", child.pk, boss.pk),
            ("unfreeze", child.pk, boss.pk),
            ("override", child.pk, boss.pk),
        ]
        assert rows[1][3] == "异常订单核查" and "13%" in rows[3][3]
