"""Team dividends (issue 11 point 6): a monthly bonus on the settled sales of a promoter's
two-level team once they reach the threshold; booked as ledger entries, cut first by the 30 %
cap, clawed back by a later refund; never from a third level; grades from own sales and direct
invitees only."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from mall.promoters.actions import check_grades, make_promoter, save_grade, update_distribution_settings
from mall.promoters.binding import record_touch
from mall.promoters.commission import book_team_dividends, settle_due
from mall.promoters.models import CommissionEntry, LineDividend, Promoter
from mall.promoters.reconcile import reconcile
from tests.factories import CustomerFactory
from tests.mall.distribution.helpers import buy, chain, complete, product, refund, run_commission_outbox


def month():
    now = timezone.now()
    return {"period_start": now - timedelta(days=30), "period_end": now + timedelta(days=1)}


def sold_by(child, price, **kw):
    shopper = CustomerFactory()
    record_touch(customer=shopper, promoter=child, source="link")
    order = buy(shopper, [(product(price, **kw), 1)])
    run_commission_outbox()
    complete(order)
    settle_due()
    return order


def test_dividend_on_the_two_level_team_once_the_threshold_is_reached(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(dividend_enabled=True, dividend_threshold_fen=50_000, dividend_bps=100)
        grand, parent, child = chain()
        sold_by(child, 30_000)
        assert book_team_dividends(**month()) == 0  # ¥300 < ¥500
        order = sold_by(child, 30_000)
        booked = book_team_dividends(**month())
        assert booked == 4  # two lines × two leaders (parent: level 1 team; grand: level 2 team)
        assert book_team_dividends(**month()) == 0  # idempotent
        got = set(CommissionEntry.objects.filter(kind="dividend").values_list("promoter_id", flat=True))
        assert got == {parent.pk, grand.pk}
        assert Promoter.objects.get(pk=grand.pk).available_fen == 600  # 1 % of ¥600, settled money
        assert not LineDividend.objects.filter(promoter=child).exists()  # own sales earn commission, not dividend
        # a refund after booking takes the dividend back with the commission
        refund(order, order.lines.get(), 30_000, quantity=1)
        run_commission_outbox()
        assert Promoter.objects.get(pk=grand.pk).available_fen == 300
        assert reconcile().drift == []


def test_the_cap_cuts_the_dividend_first(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        update_distribution_settings(dividend_enabled=True, dividend_threshold_fen=1, dividend_bps=200)
        grand, parent, child = chain()
        sold_by(child, 10_000, commission_l1_bps=2600)  # 26 % + 3 % leaves 1 % of ¥100
        book_team_dividends(**month())
        lds = list(LineDividend.objects.order_by("pk").values_list("promoter_id", "target_fen", "cut_fen"))
        assert lds == [(parent.pk, 100, 100), (grand.pk, 0, 200)]
        assert reconcile().drift == []


def test_grades_count_own_sales_and_direct_invitees_only(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        senior = save_grade(name="高级推广员", rank=2, bonus_bps=300, min_sales_fen=0, min_direct_promoters=2)
        lead = make_promoter(customer=CustomerFactory())
        kid = make_promoter(customer=CustomerFactory(), invited_by=lead)
        make_promoter(customer=CustomerFactory(), invited_by=kid)  # a level-2 invitee does not count
        check_grades()
        assert Promoter.objects.get(pk=lead.pk).grade is None
        make_promoter(customer=CustomerFactory(), invited_by=lead)
        assert check_grades() == 1
        lead = Promoter.objects.get(pk=lead.pk)
        assert lead.grade == senior
        # the bonus lifts the level-1 rate: 10 % + 3 %
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=lead, source="link")
        buy(shopper, [(product(10_000), 1)])
        run_commission_outbox()
        assert CommissionEntry.objects.get(promoter=lead, kind="accrued").amount_fen == 1300
