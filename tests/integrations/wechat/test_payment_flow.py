"""Paying an order through ``POST /api/v1/orders/<no>/pay`` against the WeChat Pay emulator, and
what the notify and the beat do with the money (issue 10 point 5 and the auto-cancel of point 4):
signed ``wx.requestPayment`` parameters, the H5 cashier, a wrong amount flagged, a second
payment refunded once, a missed notify settled by a query, expiry (and a last-second payment)."""

from __future__ import annotations

import base64
import threading
from datetime import timedelta

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from core import outbox
from core.models import InboundLog, OutboxMessage
from integrations.wechat.pay import PayClient
from mall.api.auth import issue_token
from mall.catalog.models import ProductSku
from mall.orders.models import Order, OrderEvent
from mall.payments import unpaid
from mall.payments.actions import out_trade_no, start_native_payment
from mall.payments.models import Payment, PaymentAnomaly, Refund
from mall.payments.tasks import settle_unpaid_orders_of_store
from tests.integrations.wechat.conftest import wait_until
from tests.integrations.wechat.helpers import count, make_order, reload

pytestmark = pytest.mark.slow


def pay_api(tenant, order, channel: str, **extra):
    with schema_context(tenant.schema_name):
        token = issue_token(order.customer)
    connection.set_schema_to_public()
    return Client().post(
        f"/api/v1/orders/{order.order_no}/pay",
        data={"channel": channel},
        content_type="application/json",
        HTTP_HOST=tenant.primary_host,
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )


def trade_no(tenant, order) -> str:
    with schema_context(tenant.schema_name):
        no = out_trade_no(order)
    connection.set_schema_to_public()
    return no


def status(tenant, order) -> str:
    return reload(tenant, Order, pk=order.pk).status


def paid_through_miniprogram(emulator, tenant, *, price_fen=2990):
    order = make_order(tenant, price_fen=price_fen)
    answer = pay_api(tenant, order, "miniprogram")
    assert answer.status_code == 200, answer.content
    no = trade_no(tenant, order)
    emulator.api("pay", out_trade_no=no)  # the shopper confirms in WeChat
    assert wait_until(lambda: status(tenant, order) == "paid")
    return order, no, answer.json()


def test_miniprogram_pay_answers_request_payment_params_signed_with_the_merchant_key(
    emulator, wechat_web, wx_tenant, committed
):
    order, no, body = paid_through_miniprogram(emulator, wx_tenant, price_fen=3650)
    params = body["pay_params"]
    assert body["channel"] == "miniprogram" and body["total_fen"] == 3650
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["appId"] == wx_tenant.wechat_appid and params["signType"] == "RSA"
    assert params["package"] == f"prepay_id={body['prepay_id']}"
    assert abs(int(params["timeStamp"]) - timezone.now().timestamp()) < 300
    # What WeChat checks in wx.requestPayment: RSA-SHA256 over the four lines, merchant key.
    public = serialization.load_pem_public_key((emulator.data_dir / "merchant_public.pem").read_bytes())
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    public.verify(base64.b64decode(params["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(Exception):  # noqa: B017 (cryptography's InvalidSignature)
        public.verify(base64.b64decode(params["paySign"]), message + b"x", padding.PKCS1v15(), hashes.SHA256())
    # The prepay carried the shopper's openid and the store's AppID.
    wx_order = emulator.state()["orders"][no]
    assert wx_order["trade_type"] == "JSAPI" and wx_order["amount"] == 3650
    assert wx_order["payer_openid"] == order.customer.openid and wx_order["appid"] == wx_tenant.wechat_appid
    # Paid now: asking again is a 400 on status.
    again = pay_api(wx_tenant, order, "miniprogram")
    assert again.status_code == 400 and "status" in again.json()["error"]["fields"]


def test_h5_pays_through_the_emulator_cashier(emulator, wechat_web, wx_tenant, committed):
    order = make_order(wx_tenant, price_fen=1234)
    answer = pay_api(wx_tenant, order, "h5")
    assert answer.status_code == 200, answer.content
    url = answer.json()["h5_url"]
    assert url.startswith(f"{emulator.url}/pay/cashier/")
    assert emulator.state()["orders"][trade_no(wx_tenant, order)]["trade_type"] == "H5"
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "¥12.34" in page.text
    assert "支付成功" in requests.post(url, data={"action": "pay"}, timeout=10).text
    assert wait_until(lambda: status(wx_tenant, order) == "paid")
    assert reload(wx_tenant, Order, pk=order.pk).paid_fen == 1234


def test_wechat_pay_down_is_a_503(emulator, wechat_web, wx_tenant, committed):
    order = make_order(wx_tenant)
    emulator.api("faults", prefix="/v3/pay/transactions", status=502, count=100)
    try:
        answer = pay_api(wx_tenant, order, "miniprogram")
    finally:
        emulator.api("faults", clear=True)
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "wechat_unavailable"


def test_an_amount_that_differs_is_flagged_not_paid_and_acknowledged(emulator, wechat_web, wx_tenant, committed):
    order = make_order(wx_tenant, price_fen=500)
    no = trade_no(wx_tenant, order)
    PayClient().prepay_native(out_trade_no=no, description="金额不符", amount_fen=501)
    emulator.api("pay", out_trade_no=no)
    assert wait_until(lambda: count(wx_tenant, PaymentAnomaly, order_id=order.pk, kind="amount_mismatch") == 1)
    notify = next(n for n in emulator.api("notifies")["notifies"] if n["resource"].get("out_trade_no") == no)
    assert emulator.api("redeliver", id=notify["id"], times=3)["statuses"] == [200] * 3  # acknowledged
    assert count(wx_tenant, PaymentAnomaly, order_id=order.pk) == 1
    assert count(wx_tenant, OrderEvent, order_id=order.pk, kind="payment_anomaly") == 1
    assert status(wx_tenant, order) == "pending_payment" and count(wx_tenant, Payment, order_id=order.pk) == 0
    # Neither re-queried nor cancelled by the beat: the merchant decides.
    with schema_context(wx_tenant.schema_name):
        Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        unpaid.expire_unpaid_orders()
    assert status(wx_tenant, order) == "pending_payment"


def test_a_second_payment_is_refunded_automatically_exactly_once(emulator, wechat_web, wx_tenant, committed):
    order, no, _ = paid_through_miniprogram(emulator, wx_tenant, price_fen=4200)
    first = reload(wx_tenant, Payment, order_id=order.pk)
    duplicate_tid = emulator.api("pay-duplicate", out_trade_no=no)["transaction_id"]
    assert wait_until(lambda: count(wx_tenant, Payment, transaction_id=duplicate_tid, is_duplicate=True) == 1)
    notify = next(
        n for n in emulator.api("notifies")["notifies"] if n["resource"].get("transaction_id") == duplicate_tid
    )
    assert emulator.api("redeliver", id=notify["id"], times=5)["statuses"] == [200] * 5
    assert InboundLog.objects.filter(key=notify["id"], outcome="ok:duplicate_refunded").count() == 6
    refund = reload(wx_tenant, Refund, order_id=order.pk)
    assert count(wx_tenant, Refund, order_id=order.pk) == 1
    assert (refund.source, refund.amount_fen) == ("system", 4200)
    assert reload(wx_tenant, PaymentAnomaly, order_id=order.pk).refund_id == refund.pk
    done = reload(wx_tenant, Order, pk=order.pk)
    assert (done.status, done.paid_fen) == ("paid", 4200)
    # The outbox sends it to WeChat: a refund of THAT transaction, not the order's first.
    messages = OutboxMessage.objects.filter(handler="mall.payments.effects.submit_refund", payload__refund_id=refund.pk)
    assert messages.count() == 1
    outbox.deliver(messages.get().pk)
    assert wait_until(lambda: reload(wx_tenant, Refund, pk=refund.pk).status == "success")
    wx = PayClient().query_refund(out_refund_no=refund.out_refund_no)
    assert wx["transaction_id"] == duplicate_tid != first.transaction_id
    state = emulator.state()["orders"]
    assert state[no]["trade_state"] == "SUCCESS" and state[no]["refunded"] == 0  # the first payment untouched


def test_the_beat_query_settles_an_order_whose_notify_never_came(emulator, wechat_web, wx_tenant, committed, settings):
    order = make_order(wx_tenant, price_fen=880)
    settings.WECHAT_NOTIFY_BASE_URL = "http://127.0.0.1:9"  # the notify gets lost
    with schema_context(wx_tenant.schema_name):
        start_native_payment(order=order)
    connection.set_schema_to_public()
    emulator.api("pay", out_trade_no=trade_no(wx_tenant, order))
    with schema_context(wx_tenant.schema_name):
        assert unpaid.query_unpaid_orders()["paid"] == 0  # too early: notifies get their minutes
        later = timezone.now() + timedelta(minutes=6)
        first = unpaid.query_unpaid_orders(now=later)
        again = unpaid.query_unpaid_orders(now=later)
    connection.set_schema_to_public()
    assert first["paid"] == 1 and again["paid"] == 0
    paid = reload(wx_tenant, Order, pk=order.pk)
    assert (paid.status, paid.paid_fen) == ("paid", 880)
    assert count(wx_tenant, Payment, order_id=order.pk) == 1


def _expire(tenant, *orders):
    with schema_context(tenant.schema_name):
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(expires_at=timezone.now() - timedelta(seconds=5))
    connection.set_schema_to_public()


def _stock(tenant, order) -> int:
    with schema_context(tenant.schema_name):
        sku = order.lines.get().sku_id
        value = ProductSku.objects.get(pk=sku).stock
    connection.set_schema_to_public()
    return value


def test_expiry_closes_at_wechat_cancels_once_and_releases_stock_even_run_twice_at_once(
    emulator, wechat_web, wx_tenant, committed
):
    prepaid = make_order(wx_tenant, price_fen=700, quantity=3)
    never_prepaid = make_order(wx_tenant, price_fen=300, quantity=2)
    with schema_context(wx_tenant.schema_name):
        start_native_payment(order=prepaid)
    connection.set_schema_to_public()
    stock_before = {o.pk: _stock(wx_tenant, o) for o in (prepaid, never_prepaid)}
    _expire(wx_tenant, prepaid, never_prepaid)
    results = []

    def run():
        try:
            with schema_context(wx_tenant.schema_name):
                results.append(settle_unpaid_orders_of_store()["expired"])
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2
    assert sum(r["cancelled"] for r in results) >= 2  # (other tests' expired orders may be there too)
    for order, quantity in ((prepaid, 3), (never_prepaid, 2)):
        done = reload(wx_tenant, Order, pk=order.pk)
        assert done.status == "cancelled" and done.cancelled_at
        assert count(wx_tenant, OrderEvent, order_id=order.pk, kind="cancelled") == 1
        assert reload(wx_tenant, OrderEvent, order_id=order.pk, kind="cancelled").note == "超时未付款自动取消"
        assert _stock(wx_tenant, order) == stock_before[order.pk] + quantity
    assert emulator.state()["orders"][trade_no(wx_tenant, prepaid)]["trade_state"] == "CLOSED"


def test_an_order_paid_at_the_last_second_is_recorded_not_cancelled(
    emulator, wechat_web, wx_tenant, committed, settings
):
    order = make_order(wx_tenant, price_fen=990)
    settings.WECHAT_NOTIFY_BASE_URL = "http://127.0.0.1:9"  # its notify has not arrived yet
    with schema_context(wx_tenant.schema_name):
        start_native_payment(order=order)
    connection.set_schema_to_public()
    emulator.api("pay", out_trade_no=trade_no(wx_tenant, order))
    stock = _stock(wx_tenant, order)
    _expire(wx_tenant, order)
    with schema_context(wx_tenant.schema_name):
        result = unpaid.expire_unpaid_orders()
    connection.set_schema_to_public()
    assert result["paid"] == 1 and result["cancelled"] == 0
    done = reload(wx_tenant, Order, pk=order.pk)
    assert (done.status, done.paid_fen) == ("paid", 990)
    assert _stock(wx_tenant, order) == stock  # nothing released


def test_wechat_down_during_expiry_cancels_nothing(emulator, wechat_web, wx_tenant, committed):
    order = make_order(wx_tenant, price_fen=450)
    with schema_context(wx_tenant.schema_name):
        start_native_payment(order=order)
    connection.set_schema_to_public()
    _expire(wx_tenant, order)
    emulator.api("faults", prefix="/v3/pay/transactions/out-trade-no", status=500, count=100)
    try:
        with schema_context(wx_tenant.schema_name):
            result = unpaid.expire_unpaid_orders()
        connection.set_schema_to_public()
    finally:
        emulator.api("faults", clear=True)
    assert result["cancelled"] == 0 and status(wx_tenant, order) == "pending_payment"
    with schema_context(wx_tenant.schema_name):
        assert unpaid.expire_unpaid_orders()["cancelled"] >= 1
    connection.set_schema_to_public()
    assert status(wx_tenant, order) == "cancelled"
