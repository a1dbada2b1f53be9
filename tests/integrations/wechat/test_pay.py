"""WeChat Pay v3 through wechatpayv3 against the emulator: prepay, the shopper pays, the signed
and encrypted notify reaches our web app, the order is paid once; refunds; failures."""

from __future__ import annotations

import json

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from core import outbox
from core.models import InboundLog, OutboxMessage
from integrations.wechat.errors import WeChatPayError, WeChatSignatureError, WeChatUnavailable
from integrations.wechat.pay import PayClient
from mall.orders.actions import record_payment
from mall.orders.models import Order
from mall.payments.actions import out_trade_no, request_refund, start_miniprogram_payment, start_native_payment
from mall.payments.models import Payment, Refund
from tests.integrations.wechat.conftest import wait_until
from tests.integrations.wechat.helpers import count, make_order, reload
from tools.wechat_emulator.signing import Signer

pytestmark = pytest.mark.slow


def paid_order(emulator, tenant, *, price_fen=2990, profit_sharing=False):
    order = make_order(tenant, price_fen=price_fen)
    with schema_context(tenant.schema_name):
        result = start_miniprogram_payment(
            order=order, openid="o-shopper-1", appid=tenant.wechat_appid, profit_sharing=profit_sharing
        )
        no = out_trade_no(order)
    assert result["prepay_id"] and result["pay_params"]["package"] == f"prepay_id={result['prepay_id']}"
    emulator.api("pay", out_trade_no=no)  # the shopper pays in WeChat
    assert wait_until(lambda: reload(tenant, Order, pk=order.pk).status == "paid"), "order not paid by the notify"
    return reload(tenant, Order, pk=order.pk), no


def notify_for(emulator, no: str, event_type: str = "TRANSACTION.SUCCESS") -> dict:
    notifies = emulator.api("notifies")["notifies"]
    return next(n for n in notifies if n["resource"].get("out_trade_no") == no and n["event_type"] == event_type)


def signer(emulator) -> Signer:
    d = emulator.data_dir
    s = json.loads((d / "secrets.json").read_text())
    return Signer(
        platform_private_pem=(d / "platform_private.pem").read_bytes(),
        merchant_public_pem=(d / "merchant_public.pem").read_bytes(),
        public_key_id=s["public_key_id"],
        apiv3_key=s["apiv3_key"],
    )


def test_miniprogram_payment_notify_marks_the_order_paid(emulator, wechat_web, wx_tenant, committed):
    order, no = paid_order(emulator, wx_tenant)
    payment = reload(wx_tenant, Payment, order_id=order.pk)
    assert payment.amount_fen == order.total_fen == order.paid_fen == 2990
    assert payment.transaction_id.startswith("4200")
    assert no == f"{wx_tenant.pk}_{order.order_no}"
    assert PayClient().query(out_trade_no=no)["trade_state"] == "SUCCESS"


def test_the_same_notify_five_times_changes_the_order_once(emulator, wechat_web, wx_tenant, committed):
    order, no = paid_order(emulator, wx_tenant)
    notify = notify_for(emulator, no)
    assert emulator.api("redeliver", id=notify["id"], times=5)["statuses"] == [200] * 5
    assert count(wx_tenant, Payment, order_id=order.pk) == 1
    assert reload(wx_tenant, Order, pk=order.pk).status == "paid"
    effects = OutboxMessage.objects.filter(handler="mall.orders.effects.count_sales", schema_name=wx_tenant.schema_name)
    assert [m.payload["order_id"] for m in effects].count(order.pk) == 1
    assert InboundLog.objects.filter(key=notify["id"], outcome="ok").count() == 6


def test_a_tampered_notify_is_refused(emulator, wechat_web, wx_tenant, committed):
    order = make_order(wx_tenant)
    with schema_context(wx_tenant.schema_name):
        no = out_trade_no(order)
    PayClient().prepay_native(out_trade_no=no, description="篡改测试", amount_fen=order.total_fen)
    fake = {"id": "forged", "event_type": "TRANSACTION.SUCCESS", "resource_type": "encrypt-resource", "summary": "x"}
    sign = signer(emulator)
    real_resource = {
        "out_trade_no": no,
        "transaction_id": "4200forged",
        "trade_state": "SUCCESS",
        "amount": {"total": order.total_fen},
    }
    fake["resource"] = sign.encrypt_resource(real_resource, "transaction", "transaction")
    body = json.dumps(fake).encode()
    headers = {"Content-Type": "application/json", **dict(sign.response_headers(body))}
    url = f"{wechat_web}/wechat/pay/notify/"
    tampered = body.replace(b'"summary": "x"', b'"summary": "y"')
    assert requests.post(url, data=tampered, headers=headers, timeout=10).status_code == 401
    assert requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10).status_code == 401
    wrong_key = dict(
        fake, resource=Signer.encrypt_resource(_other_key_signer(sign), real_resource, "transaction", "transaction")
    )
    body2 = json.dumps(wrong_key).encode()
    assert (
        requests.post(
            url,
            data=body2,
            headers={"Content-Type": "application/json", **dict(sign.response_headers(body2))},
            timeout=10,
        ).status_code
        == 401
    )
    assert reload(wx_tenant, Order, pk=order.pk).status == "pending_payment"
    assert InboundLog.objects.filter(kind="pay_notify", outcome="refused").count() >= 3


def _other_key_signer(sign):
    class Other:
        apiv3_key = "0" * 32

    return Other()


def test_a_notify_for_an_unknown_order_is_logged_and_acknowledged(emulator, wechat_web, committed):
    no = "999999_20991231000000000001"
    PayClient().prepay_native(out_trade_no=no, description="不存在的订单", amount_fen=100)
    emulator.api("pay", out_trade_no=no)
    notify = wait_until(
        lambda: next(
            (
                n
                for n in emulator.api("notifies")["notifies"]
                if n["resource"].get("out_trade_no") == no and n["delivered"]
            ),
            None,
        )
    )
    assert notify and notify["attempts"] == 1  # answered 200 at once: WeChat stops retrying
    assert InboundLog.objects.filter(key=notify["id"], outcome="unknown_order").exists()


def test_an_amount_that_differs_from_the_order_is_refused_and_logged(emulator, wechat_web, wx_tenant, committed):
    order = make_order(wx_tenant, price_fen=500)
    with schema_context(wx_tenant.schema_name):
        no = out_trade_no(order)
        with pytest.raises(ValidationError) as err:
            record_payment(order_no=order.order_no, transaction_id="4200x", amount_fen=499, paid_at=order.created)
        assert err.value.error_dict["amount_fen"][0].code == "amount_mismatch"
    PayClient().prepay_native(out_trade_no=no, description="金额不符", amount_fen=501)
    emulator.api("pay", out_trade_no=no)
    assert wait_until(
        lambda: InboundLog.objects.filter(
            kind="pay_notify",
            outcome__startswith="refused:amount_mismatch",
            schema_name=wx_tenant.schema_name,
            detail__contains=no,
        ).exists()
    )
    assert reload(wx_tenant, Order, pk=order.pk).status == "pending_payment"


def test_native_payment_through_the_cashier_page(emulator, wechat_web, wx_tenant, committed):
    order = make_order(wx_tenant, price_fen=1234)
    with schema_context(wx_tenant.schema_name):
        code_url = start_native_payment(order=order)
    page = requests.get(code_url, timeout=10)
    assert page.status_code == 200 and "¥12.34" in page.text
    qr = requests.get(f"{emulator.url}/qr.png", params={"data": code_url}, timeout=10)
    assert qr.headers["Content-Type"] == "image/png" and qr.content.startswith(b"\x89PNG")
    cancelled = requests.post(code_url, data={"action": "cancel"}, timeout=10)
    assert "已取消" in cancelled.text
    paid = requests.post(code_url, data={"action": "pay"}, timeout=10)
    assert "支付成功" in paid.text
    assert wait_until(lambda: reload(wx_tenant, Order, pk=order.pk).status == "paid")


def _refund_message(refund) -> OutboxMessage:
    return OutboxMessage.objects.filter(
        handler="mall.payments.effects.submit_refund", payload__refund_id=refund.pk
    ).get()


def test_refund_is_submitted_and_its_notify_completes_it(emulator, wechat_web, wx_tenant, committed):
    order, no = paid_order(emulator, wx_tenant, price_fen=3000)
    with schema_context(wx_tenant.schema_name):
        refund = request_refund(order=order, amount_fen=1000, reason="少发一件")
        with pytest.raises(ValidationError):
            request_refund(order=order, amount_fen=2001)
    outbox.deliver(_refund_message(refund).pk)  # what the worker does
    assert wait_until(lambda: reload(wx_tenant, Refund, pk=refund.pk).status == "success")
    done = reload(wx_tenant, Refund, pk=refund.pk)
    assert done.refund_id.startswith("5030") and done.finished_at
    assert PayClient().query_refund(out_refund_no=done.out_refund_no)["status"] == "SUCCESS"


def test_a_failed_refund_is_recorded_as_abnormal(emulator, wechat_web, wx_tenant, committed):
    order, no = paid_order(emulator, wx_tenant, price_fen=800)
    emulator.api("config", refund_outcome="manual")
    try:
        with schema_context(wx_tenant.schema_name):
            refund = request_refund(order=order, amount_fen=800)
        outbox.deliver(_refund_message(refund).pk)
        assert wait_until(lambda: reload(wx_tenant, Refund, pk=refund.pk).status == "processing")
        emulator.api("refund", out_refund_no=refund.out_refund_no, action="fail")
        assert wait_until(lambda: reload(wx_tenant, Refund, pk=refund.pk).status == "abnormal")
    finally:
        emulator.api("config", refund_outcome="SUCCESS")


def test_wechat_5xx_is_retried_then_succeeds(emulator, wechat_web, wx_tenant, committed):
    order, no = paid_order(emulator, wx_tenant, price_fen=600)
    since = emulator.last_log_id()
    emulator.api("faults", prefix="/v3/pay/transactions/out-trade-no", status=503, count=2)
    assert PayClient().query(out_trade_no=no)["trade_state"] == "SUCCESS"
    statuses = [e["status"] for e in emulator.log("call", since) if "/v3/pay/transactions/out-trade-no" in e["path"]]
    assert statuses == [503, 503, 200]


def test_wechat_down_fails_clearly_and_loses_no_refund(emulator, wechat_web, wx_tenant, committed):
    order, no = paid_order(emulator, wx_tenant, price_fen=700)
    emulator.api("faults", prefix="/v3/refund", status=500, count=1000)
    try:
        with schema_context(wx_tenant.schema_name):
            refund = request_refund(order=order, amount_fen=700)
        message = _refund_message(refund)
        with pytest.raises(WeChatUnavailable) as err:
            outbox.deliver(message.pk)
        assert "500" in err.value.message
        assert reload(wx_tenant, Refund, pk=refund.pk).status == "requested"
        message.refresh_from_db()
        assert message.processed_at is None  # the relay publishes it again later
    finally:
        emulator.api("faults", clear=True)
    outbox.deliver(message.pk)
    assert wait_until(lambda: reload(wx_tenant, Refund, pk=refund.pk).status == "success")


def test_timeouts_are_retried_then_fail_clearly(emulator, wechat_web, settings, committed):
    settings.WECHAT_READ_TIMEOUT = 0.5
    no = "999999_20991231000000000002"
    PayClient().prepay_native(out_trade_no=no, description="超时", amount_fen=100)
    emulator.api("faults", prefix=f"/v3/pay/transactions/out-trade-no/{no}", delay=1.0, count=1)
    assert PayClient().query(out_trade_no=no)["trade_state"] == "NOTPAY"  # second attempt answers
    emulator.api("faults", prefix=f"/v3/pay/transactions/out-trade-no/{no}", delay=1.0, count=3)
    with pytest.raises(WeChatUnavailable):
        PayClient().query(out_trade_no=no)


def test_a_wrong_merchant_key_gets_sign_error(emulator, settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.WECHAT_PAY_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(WeChatPayError) as err:
        PayClient().query(out_trade_no="999999_20991231000000000003")
    assert (err.value.status, err.value.code) == (401, "SIGN_ERROR")


def test_an_answer_not_signed_by_wechat_is_rejected(emulator, settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.WECHAT_PAY_PUBLIC_KEY = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(WeChatSignatureError):
        PayClient().prepay_native(out_trade_no="999999_20991231000000000004", description="验签", amount_fen=100)


def test_bad_amounts_never_reach_wechat(emulator):
    with pytest.raises(WeChatPayError):
        PayClient().prepay_native(out_trade_no="999999_20991231000000000005", description="x", amount_fen=0)
    with pytest.raises(WeChatPayError):
        PayClient().prepay_native(out_trade_no="999999_20991231000000000006", description="x", amount_fen=1.5)
