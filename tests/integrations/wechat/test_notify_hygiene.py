"""Issue 8 item 5: pay-notify hygiene. A notify signed more than 5 minutes from now is refused
(401, logged, no state change); an unknown ``Wechatpay-Serial`` costs at most one outbound
certificate call a minute, counted in the emulator's own request log."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests
from django.core.cache import cache
from django_tenants.utils import schema_context

from core.models import InboundLog
from integrations.wechat.errors import WeChatSignatureError
from integrations.wechat.pay import PayClient, PlatformCertificates, check_notify_timestamp, platform_certificates
from mall.orders.models import Order
from mall.payments.actions import out_trade_no
from tests.integrations.wechat.helpers import make_order, reload
from tests.integrations.wechat.test_pay import signer

pytestmark = pytest.mark.slow


def signed_notify(emulator, no: str, total_fen: int, *, ts: int, serial: str | None = None) -> tuple[bytes, dict]:
    sign = signer(emulator)
    resource = {
        "out_trade_no": no,
        "transaction_id": "4200" + secrets.token_hex(8),
        "trade_state": "SUCCESS",
        "amount": {"total": total_fen, "payer_total": total_fen, "currency": "CNY"},
        "success_time": "2026-12-01T12:00:00+08:00",
    }
    body = json.dumps(
        {
            "id": secrets.token_hex(8),
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "summary": "支付成功",
            "resource": sign.encrypt_resource(resource, "transaction", "transaction"),
        }
    ).encode()
    nonce = secrets.token_hex(16).upper()
    headers = {
        "Content-Type": "application/json",
        "Wechatpay-Timestamp": str(ts),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": sign.sign(f"{ts}\n{nonce}\n{body.decode()}\n"),
        "Wechatpay-Serial": serial or sign.public_key_id,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return body, headers


def pending_order(emulator, tenant):
    order = make_order(tenant)
    with schema_context(tenant.schema_name):
        no = out_trade_no(order)
    PayClient().prepay_native(out_trade_no=no, description="时间戳测试", amount_fen=order.total_fen)
    return order, no


@pytest.mark.parametrize("offset", [-320, -3600, 320, 86400])  # a margin for a slow box
def test_a_notify_signed_more_than_five_minutes_off_is_refused(emulator, wechat_web, wx_tenant, committed, offset):
    order, no = pending_order(emulator, wx_tenant)
    body, headers = signed_notify(emulator, no, order.total_fen, ts=int(time.time()) + offset)
    before = InboundLog.objects.filter(kind="pay_notify", outcome="refused").count()
    resp = requests.post(f"{wechat_web}/wechat/pay/notify/", data=body, headers=headers, timeout=10)
    assert resp.status_code == 401, resp.text
    assert reload(wx_tenant, Order, pk=order.pk).status == "pending_payment"
    refused = InboundLog.objects.filter(kind="pay_notify", outcome="refused").order_by("-pk")
    assert refused.count() == before + 1
    assert "时间戳" in refused.first().detail and "5 分钟" in refused.first().detail


def test_a_notify_within_five_minutes_is_accepted(emulator, wechat_web, wx_tenant, committed):
    order, no = pending_order(emulator, wx_tenant)
    body, headers = signed_notify(emulator, no, order.total_fen, ts=int(time.time()) - 240)
    resp = requests.post(f"{wechat_web}/wechat/pay/notify/", data=body, headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert reload(wx_tenant, Order, pk=order.pk).status == "paid"


def test_timestamp_check_bounds():
    now = 1_800_000_000
    check_notify_timestamp(str(now - 300), now=now)
    check_notify_timestamp(str(now + 300), now=now)
    for bad in (str(now - 301), str(now + 301), "", "abc", None):
        with pytest.raises(WeChatSignatureError):
            check_notify_timestamp(bad, now=now)


def certificate_calls(emulator, since: int) -> list[dict]:
    return [e for e in emulator.log("call", since=since) if e.get("path", "").startswith("/v3/certificates")]


def test_unknown_serials_cost_one_certificate_call_a_minute(emulator, wechat_web, wx_tenant, committed):
    cache.delete(PlatformCertificates.CACHE_KEY)  # a fresh minute for this test
    order, no = pending_order(emulator, wx_tenant)
    since = emulator.last_log_id()
    statuses = []
    for i in range(12):  # both gunicorn workers get some of them
        serial = f"{0x5157F09EFDC096DE15EBE81A47057A72 + i:X}"  # plausible serials nobody holds
        body, headers = signed_notify(emulator, no, order.total_fen, ts=int(time.time()), serial=serial)
        statuses.append(
            requests.post(f"{wechat_web}/wechat/pay/notify/", data=body, headers=headers, timeout=10).status_code
        )
    assert statuses == [401] * 12
    assert len(certificate_calls(emulator, since)) == 1
    assert reload(wx_tenant, Order, pk=order.pk).status == "pending_payment"
    refused = InboundLog.objects.filter(kind="pay_notify", outcome="refused").order_by("-pk").first()
    assert "证书序列号" in refused.detail

    # The known public key still verifies at once, with no certificate call.
    body, headers = signed_notify(emulator, no, order.total_fen, ts=int(time.time()))
    assert requests.post(f"{wechat_web}/wechat/pay/notify/", data=body, headers=headers, timeout=10).status_code == 200
    assert len(certificate_calls(emulator, since)) == 1
    assert reload(wx_tenant, Order, pk=order.pk).status == "paid"


def test_the_refresh_guard_allows_one_call_per_interval_in_this_process(emulator, settings, committed):
    """In process: the first unknown serial refreshes, the next ones within the minute do not;
    once the interval has passed (shortened here) one more refresh is allowed."""
    settings.WECHAT_PAY_CERT_REFRESH_SECONDS = 1
    cache.delete(PlatformCertificates.CACHE_KEY)
    platform_certificates.clear()
    since = emulator.last_log_id()
    body, headers = signed_notify(emulator, "1_X", 100, ts=int(time.time()), serial="ABCDEF0123456789")
    for _ in range(5):
        with pytest.raises(WeChatSignatureError):
            PayClient().parse_notify(headers, body)
    assert len(certificate_calls(emulator, since)) == 1
    time.sleep(1.1)
    with pytest.raises(WeChatSignatureError):
        PayClient().parse_notify(headers, body)
    assert len(certificate_calls(emulator, since)) == 2
    with pytest.raises(WeChatSignatureError):  # a serial that is not hex never refreshes
        PayClient().parse_notify({**headers, "Wechatpay-Serial": "not-a-serial"}, body)
    assert len(certificate_calls(emulator, since)) == 2
