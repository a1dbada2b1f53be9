"""A shopper's partial refund, end to end through WeChat Pay (the emulator): the merchant
approves, the outbox submits it, WeChat's refund notify (to our gunicorn) completes it, and
``order_line_refunded`` is published once per refund line — still once when WeChat repeats
the notify."""

from __future__ import annotations

from django_tenants.utils import schema_context

from core import outbox
from core.models import OutboxMessage, OutboxStatus
from mall.orders.actions import place_order
from mall.orders.models import Order
from mall.payments.actions import approve_refund, out_trade_no, request_after_sales, start_miniprogram_payment
from mall.payments.models import Refund
from tests.factories import ProductFactory, buyer
from tests.integrations.wechat.conftest import wait_until
from tests.integrations.wechat.helpers import reload
from tests.mall.aftersales_probe import CALLS, PROBE


def test_approved_refund_completes_on_the_notify_and_publishes_each_line_once(
    emulator, wechat_web, wx_tenant, committed
):
    with schema_context(wx_tenant.schema_name):
        products = [ProductFactory(price_fen=p, stock=100) for p in (2990, 1500)]
        order = place_order(**buyer(), items=[(p.pk, 1) for p in products])
        start_miniprogram_payment(order=order, openid="o-shopper-as", appid=wx_tenant.wechat_appid)
        no = out_trade_no(order)
    emulator.api("pay", out_trade_no=no)
    assert wait_until(lambda: reload(wx_tenant, Order, pk=order.pk).status == "paid"), "order not paid"
    with schema_context(wx_tenant.schema_name):
        a, b = order.lines.order_by("pk")
        refund = request_after_sales(
            order=order,
            customer=order.customer,
            lines=[{"line_id": a.pk, "amount_fen": 1000}, {"line_id": b.pk, "amount_fen": 1500, "quantity": 1}],
            reason="部分退款",
            kind="refund_only",
        )
        approve_refund(refund=refund, actor=None)
    submit = OutboxMessage.objects.get(handler="mall.payments.effects.submit_refund", payload__refund_id=refund.pk)
    outbox.deliver(submit.pk)  # what the worker does: WeChat gets the refund
    assert wait_until(lambda: reload(wx_tenant, Refund, pk=refund.pk).status == "success"), "no refund notify"

    def published():
        return list(OutboxMessage.objects.filter(handler=PROBE, payload__refund_id=refund.pk).order_by("pk"))

    assert wait_until(lambda: len(published()) == 2)
    notify = next(
        n
        for n in emulator.api("notifies")["notifies"]
        if n["resource"].get("out_refund_no") == refund.out_refund_no and n["event_type"] == "REFUND.SUCCESS"
    )
    assert emulator.api("redeliver", id=notify["id"], times=3)["statuses"] == [200] * 3
    messages = published()
    assert sorted((m.payload["line_id"], m.payload["amount_fen"], m.payload["quantity"]) for m in messages) == sorted(
        [(a.pk, 1000, 0), (b.pk, 1500, 1)]
    )
    assert all(m.schema_name == wx_tenant.schema_name for m in messages)
    for m in messages:  # the subscriber runs each once (a worker of a live stack may have run it already)
        outbox.deliver(m.pk)
        outbox.deliver(m.pk)
        m.refresh_from_db()
        assert m.status == OutboxStatus.DONE and m.attempts == 1
    assert len([c for c in CALLS if c["refund_id"] == refund.pk]) <= 2
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).delete()  # test-only rows: not for the staff screens
