"""Profit sharing (order, return, unfreeze) and merchant transfers with user confirmation."""

from __future__ import annotations

import pytest

from core.models import InboundLog
from integrations.wechat.errors import WeChatPayError
from integrations.wechat.pay import PayClient
from mall.payments.models import Payment
from tests.integrations.wechat.conftest import wait_until
from tests.integrations.wechat.helpers import reload
from tests.integrations.wechat.test_pay import paid_order

pytestmark = pytest.mark.slow
PARTNER_MCHID = "1900000109"


def test_profit_sharing_order_return_and_unfreeze(emulator, wechat_web, wx_tenant, committed):
    order, no = paid_order(emulator, wx_tenant, price_fen=10000, profit_sharing=True)
    transaction_id = reload(wx_tenant, Payment, order_id=order.pk).transaction_id
    pay = PayClient()
    pay.add_receiver(account="o-promoter-1", relation_type="DISTRIBUTOR")
    pay.add_receiver(account=PARTNER_MCHID, account_type="MERCHANT_ID", relation_type="PARTNER")
    receivers = [
        {"type": "PERSONAL_OPENID", "account": "o-promoter-1", "amount": 1500, "description": "推广佣金"},
        {"type": "MERCHANT_ID", "account": PARTNER_MCHID, "amount": 1000, "description": "合作方分成"},
    ]
    split = pay.profit_sharing_order(
        transaction_id=transaction_id, out_order_no=f"PS{order.order_no}", receivers=receivers, unfreeze_unsplit=False
    )
    assert split["state"] == "FINISHED" and [r["result"] for r in split["receivers"]] == ["SUCCESS", "SUCCESS"]
    assert (
        pay.profit_sharing_query(transaction_id=transaction_id, out_order_no=f"PS{order.order_no}")["order_id"]
        == split["order_id"]
    )
    with pytest.raises(WeChatPayError) as err:  # beyond what the merchant authorised (30 %)
        pay.profit_sharing_order(
            transaction_id=transaction_id,
            out_order_no=f"PX{order.order_no}",
            receivers=[dict(receivers[0], amount=600)],
            unfreeze_unsplit=False,
        )
    assert err.value.code == "RATIO_EXCEED"
    back = pay.profit_sharing_return(
        out_order_no=f"PS{order.order_no}",
        out_return_no=f"RT{order.order_no}",
        return_mchid=PARTNER_MCHID,
        amount_fen=400,
        description="用户退款",
    )
    assert back["result"] == "SUCCESS" and back["amount"] == 400
    with pytest.raises(WeChatPayError) as err:
        pay.profit_sharing_return(
            out_order_no=f"PS{order.order_no}",
            out_return_no=f"RU{order.order_no}",
            return_mchid=PARTNER_MCHID,
            amount_fen=601,
            description="超额",
        )
    assert err.value.code == "NOT_ENOUGH"
    done = pay.profit_sharing_unfreeze(
        transaction_id=transaction_id, out_order_no=f"UF{order.order_no}", description="解冻剩余资金"
    )
    assert done["state"] == "FINISHED"


def test_profit_sharing_needs_an_order_paid_for_it(emulator, wechat_web, wx_tenant, committed):
    order, no = paid_order(emulator, wx_tenant, price_fen=5000)
    transaction_id = reload(wx_tenant, Payment, order_id=order.pk).transaction_id
    PayClient().add_receiver(account="o-promoter-2")
    with pytest.raises(WeChatPayError) as err:
        PayClient().profit_sharing_order(
            transaction_id=transaction_id, out_order_no=f"PS{order.order_no}",
            receivers=[{"type": "PERSONAL_OPENID", "account": "o-promoter-2", "amount": 100, "description": "佣金"}],
            unfreeze_unsplit=True,
        )  # fmt: skip
    assert (err.value.status, err.value.code) == (403, "NO_AUTH")


def test_transfer_confirmed_by_the_user(emulator, wechat_web, committed):
    pay = PayClient()
    bill = pay.transfer(out_bill_no="WD20260001", openid="o-promoter-1", amount_fen=1500, remark="佣金提现")
    assert bill["state"] == "WAIT_USER_CONFIRM" and bill["package_info"]  # for wx.requestMerchantTransfer
    assert (
        pay.transfer(out_bill_no="WD20260001", openid="o-promoter-1", amount_fen=1500, remark="佣金提现")[
            "transfer_bill_no"
        ]
        == bill["transfer_bill_no"]
    )
    emulator.api("transfer", out_bill_no="WD20260001", action="confirm")
    assert pay.transfer_query(out_bill_no="WD20260001")["state"] == "SUCCESS"
    assert wait_until(lambda: InboundLog.objects.filter(kind="transfer_notify", detail__contains="WD20260001").exists())


def test_transfer_left_unconfirmed_expires(emulator, wechat_web, committed):
    pay = PayClient()
    pay.transfer(out_bill_no="WD20260002", openid="o-promoter-1", amount_fen=2000, remark="佣金提现")
    emulator.api("transfer", out_bill_no="WD20260002", action="expire")
    bill = pay.transfer_query(out_bill_no="WD20260002")
    assert bill["state"] == "CANCELLED" and "24" in bill["fail_reason"]


def test_transfer_rules(emulator):
    pay = PayClient()
    with pytest.raises(WeChatPayError):
        pay.transfer(out_bill_no="WD20260003", openid="o-promoter-1", amount_fen=9, remark="太少")
    with pytest.raises(WeChatPayError) as err:
        pay.transfer_query(out_bill_no="WD20269999")
    assert err.value.status == 404
    pay.transfer(out_bill_no="WD20260004", openid="o-promoter-1", amount_fen=100, remark="撤销")
    assert pay.transfer_cancel(out_bill_no="WD20260004")["state"] == "CANCELING"
    assert pay.transfer_query(out_bill_no="WD20260004")["state"] == "CANCELLED"
