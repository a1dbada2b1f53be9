"""The profit-sharing payout mode (issue 11, "automatic profit sharing at settlement"): orders
that may earn commission are paid with ``settle_info.profit_sharing``; at settlement each
promoter's part becomes a split at WeChat Pay (the emulator: PROCESSING, receivers PENDING,
then SUCCESS or CLOSED); SUCCESS pays it out, CLOSED returns it to the balance."""

from __future__ import annotations

from django_tenants.utils import schema_context

from core import outbox
from core.models import OutboxMessage, OutboxStatus
from mall.orders.models import Order
from mall.payments.actions import out_trade_no, start_miniprogram_payment
from mall.promoters.actions import make_promoter, update_distribution_settings
from mall.promoters.binding import record_touch
from mall.promoters.commission import settle_due, sync_order_commission
from mall.promoters.models import Promoter, Withdrawal
from mall.promoters.profit_sharing import query_open_splits, split_no_for
from tests.factories import CustomerFactory, ProductFactory, home
from tests.integrations.wechat.conftest import wait_until
from tests.integrations.wechat.helpers import reload


def _paid_split_order(emulator, tenant, child):
    from mall.orders.actions import place_order

    with schema_context(tenant.schema_name):
        shopper = CustomerFactory()
        record_touch(customer=shopper, promoter=child, source="link")
        order = place_order(customer=shopper, address=home(shopper), items=[(ProductFactory(price_fen=20000).pk, 1)])
        assert order.profit_sharing  # someone may earn on it: paid split-enabled
        start_miniprogram_payment(order=order, openid=shopper.openid, appid=tenant.wechat_appid)
        no = out_trade_no(order)
    emulator.api("pay", out_trade_no=no)
    assert wait_until(lambda: reload(tenant, Order, pk=order.pk).status == "paid"), "order not paid"
    with schema_context(tenant.schema_name):
        sync_order_commission(order_id=order.pk)  # the worker's order_paid hook
        Order.objects.filter(pk=order.pk).update(  # test set-up: completed a week ago, tracked
            status="completed", completed_at=order.created.replace(year=order.created.year - 1), has_real_track=True
        )
        settle_due()
    return order


def _send(order_id: int) -> None:
    msg = OutboxMessage.objects.get(
        handler="mall.promoters.profit_sharing.send_split", payload__order_id=order_id, status=OutboxStatus.PENDING
    )
    assert outbox.deliver(msg.pk)  # what the worker does: WeChat gets the split


def test_settlement_splits_the_order_and_receivers_finish_later(emulator, wechat_web, wx_tenant, committed):
    with schema_context(wx_tenant.schema_name):
        update_distribution_settings(payout_mode="profit_sharing")
        parent = make_promoter(customer=CustomerFactory())
        child = make_promoter(customer=CustomerFactory(), invited_by=parent)
    try:
        emulator.api("config", profit_sharing_outcome="manual")
        order = _paid_split_order(emulator, wx_tenant, child)
        with schema_context(wx_tenant.schema_name):
            ws = {w.promoter_id: w for w in Withdrawal.objects.filter(order=order)}
            assert {k: (w.channel, w.amount_fen, w.status) for k, w in ws.items()} == {
                child.pk: ("profit_sharing", 2000, "approved"),
                parent.pk: ("profit_sharing", 600, "approved"),
            }
            assert Promoter.objects.get(pk=child.pk).inflight_fen == 2000
            _send(order.pk)
            assert set(Withdrawal.objects.filter(order=order).values_list("status", flat=True)) == {"transferring"}
            child_openid = child.customer.openid
            no = split_no_for(order)
        # WeChat finishes one receiver SUCCESS and closes the other
        emulator.api("profitsharing", out_order_no=no, outcome="success", account=child_openid)
        emulator.api("profitsharing", out_order_no=no, outcome="closed")
        with schema_context(wx_tenant.schema_name):
            assert query_open_splits() == 2
            assert query_open_splits() == 0  # a repeated query changes nothing
            c, p = Promoter.objects.get(pk=child.pk), Promoter.objects.get(pk=parent.pk)
            assert (c.available_fen, c.inflight_fen, c.withdrawn_fen) == (0, 0, 2000)
            assert (p.available_fen, p.inflight_fen, p.withdrawn_fen) == (600, 0, 0)  # back to the balance
            assert Withdrawal.objects.get(order=order, promoter=parent).failure
    finally:
        emulator.api("config", profit_sharing_outcome="SUCCESS")
        with schema_context(wx_tenant.schema_name):
            update_distribution_settings(payout_mode="transfer")


def test_a_split_wechat_refuses_returns_the_money(emulator, wechat_web, wx_tenant, committed):
    with schema_context(wx_tenant.schema_name):
        update_distribution_settings(payout_mode="profit_sharing")
        parent = make_promoter(customer=CustomerFactory())
        child = make_promoter(customer=CustomerFactory(), invited_by=parent)
    try:
        order = _paid_split_order(emulator, wx_tenant, child)
        emulator.api("config", profit_sharing_max_bps=100)  # the merchant authorised 1 % only
        with schema_context(wx_tenant.schema_name):
            _send(order.pk)
            assert set(Withdrawal.objects.filter(order=order).values_list("status", flat=True)) == {"failed"}
            assert Promoter.objects.get(pk=child.pk).available_fen == 2000
    finally:
        emulator.api("config", profit_sharing_max_bps=3000)
        with schema_context(wx_tenant.schema_name):
            update_distribution_settings(payout_mode="transfer")
