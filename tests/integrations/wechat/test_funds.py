"""Profit sharing (order, return, unfreeze) and merchant transfers with user confirmation, against
the emulator as the real services behave: asynchronous states, required fields, notifies."""

from __future__ import annotations

import json
import secrets
import time

import pytest
import requests
from django.conf import settings
from wechatpayv3.type import RequestType

from core.models import InboundLog
from integrations.wechat.errors import WeChatPayError
from integrations.wechat.pay import PayClient, parse_transfer_bill_no, transfer_bill_no_for
from tests.integrations.wechat.conftest import wait_until

pytestmark = pytest.mark.slow
PARTNER_MCHID = "1900000109"
TRANSFERS = "/v3/fund-app/mch-transfer/transfer-bills"
NOTIFY_FIELDS = {
    "mchid",
    "out_bill_no",
    "transfer_bill_no",
    "state",
    "transfer_amount",
    "openid",
    "create_time",
    "update_time",
}


# -- helpers -----------------------------------------------------------------------------------
def paid_transaction(amount_fen: int, *, profit_sharing: bool = True) -> str:
    """A payment made straight through the client and the emulator (no store order): its
    transaction id. Its notify names no store of ours and is only logged."""
    no = "PS" + secrets.token_hex(8)
    PayClient().prepay_miniprogram(
        out_trade_no=no,
        description="分账测试",
        amount_fen=amount_fen,
        openid="o-shopper-ps",
        appid=settings.WECHAT_PAY_APPID,
        profit_sharing=profit_sharing,
    )
    return no


def pay(emulator, no: str) -> str:
    return emulator.api("pay", out_trade_no=no)["transaction_id"]


def drive(emulator, name: str, **payload) -> requests.Response:
    """The emulator's test API, answer kept whatever its status (``emulator.api`` wants 200)."""
    return requests.post(f"{emulator.url}/_emulator/api/{name}", json=payload, timeout=10)


def new_bill_no() -> str:
    """A bill number of ours for a store that does not exist (its notify is only logged)."""
    return transfer_bill_no_for(tenant_id=9_999_999, withdrawal_pk=secrets.randbelow(10**12))


def raw_transfer(**overrides) -> tuple[int, dict]:
    """A signed transfer request as another client would send it (fields left out on purpose)."""
    body = {
        "appid": settings.WECHAT_PAY_APPID,
        "out_bill_no": new_bill_no(),
        "transfer_scene_id": "1005",
        "openid": "o-promoter-1",
        "transfer_amount": 500,
        "transfer_remark": "佣金提现",
        "transfer_scene_report_infos": [
            {"info_type": "岗位类型", "info_content": "推广员"},
            {"info_type": "报酬说明", "info_content": "推广佣金"},
        ],
    }
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}
    status, text = PayClient()._pay._core.request(TRANSFERS, method=RequestType.POST, data=body)
    return status, json.loads(text)


def transfer_notify(out_bill_no: str) -> dict:
    """The notify as our web app decrypted it (mall.payments.views.transfer_notify logs it)."""
    row = wait_until(lambda: InboundLog.objects.filter(kind="transfer_notify", detail__contains=out_bill_no).first())
    assert row is not None, f"no transfer notify for {out_bill_no}"
    logged = json.loads(row.detail)  # the decrypted resource (plus the event type, if the view adds it)
    assert logged.pop("event_type", "MCHTRANSFER.BILL.FINISHED") == "MCHTRANSFER.BILL.FINISHED"
    return logged


def notifies_for(emulator, out_bill_no: str) -> list[dict]:
    return [n for n in emulator.api("notifies")["notifies"] if n["resource"].get("out_bill_no") == out_bill_no]


# -- profit sharing ----------------------------------------------------------------------------
def test_profit_sharing_is_processing_then_finishes_and_can_be_returned(emulator):
    transaction_id = pay(emulator, paid_transaction(10000))
    client = PayClient()
    client.add_receiver(account="o-promoter-1", relation_type="DISTRIBUTOR")
    client.add_receiver(account=PARTNER_MCHID, account_type="MERCHANT_ID", relation_type="PARTNER")
    receivers = [
        {"type": "PERSONAL_OPENID", "account": "o-promoter-1", "amount": 1500, "description": "推广佣金"},
        {"type": "MERCHANT_ID", "account": PARTNER_MCHID, "amount": 1000, "description": "合作方分成"},
    ]
    out_order_no = "PS" + secrets.token_hex(6)
    split = client.profit_sharing_order(
        transaction_id=transaction_id, out_order_no=out_order_no, receivers=receivers, unfreeze_unsplit=False
    )
    assert split["state"] == "PROCESSING" and [r["result"] for r in split["receivers"]] == ["PENDING", "PENDING"]
    done = wait_until(
        lambda: (
            q
            if (q := client.profit_sharing_query(transaction_id=transaction_id, out_order_no=out_order_no))["state"]
            == "FINISHED"
            else None
        )
    )
    assert done and done["order_id"] == split["order_id"]
    assert [r["result"] for r in done["receivers"]] == ["SUCCESS", "SUCCESS"]
    assert all(r["finish_time"] and "fail_reason" not in r for r in done["receivers"])
    with pytest.raises(WeChatPayError) as err:  # beyond what the merchant authorised (30 %)
        client.profit_sharing_order(
            transaction_id=transaction_id,
            out_order_no="PX" + secrets.token_hex(6),
            receivers=[dict(receivers[0], amount=600)],
            unfreeze_unsplit=False,
        )
    assert err.value.code == "RATIO_EXCEED"
    back = client.profit_sharing_return(
        out_order_no=out_order_no,
        out_return_no="RT" + secrets.token_hex(6),
        return_mchid=PARTNER_MCHID,
        amount_fen=400,
        description="用户退款",
    )
    assert back["result"] == "SUCCESS" and back["amount"] == 400
    with pytest.raises(WeChatPayError) as err:
        client.profit_sharing_return(
            out_order_no=out_order_no,
            out_return_no="RU" + secrets.token_hex(6),
            return_mchid=PARTNER_MCHID,
            amount_fen=601,
            description="超额",
        )
    assert err.value.code == "NOT_ENOUGH"
    unfrozen = client.profit_sharing_unfreeze(
        transaction_id=transaction_id, out_order_no="UF" + secrets.token_hex(6), description="解冻剩余资金"
    )
    assert unfrozen["state"] == "FINISHED"


@pytest.fixture
def manual_profit_sharing(emulator):
    """Receivers stay PENDING until a test forces their outcome."""
    emulator.api("config", profit_sharing_outcome="manual")
    yield
    emulator.api("config", profit_sharing_outcome="SUCCESS")


def test_profit_sharing_receivers_finish_as_wechat_decides(emulator, manual_profit_sharing):
    transaction_id = pay(emulator, paid_transaction(10000))
    client = PayClient()
    client.add_receiver(account="o-promoter-3")
    client.add_receiver(account=PARTNER_MCHID, account_type="MERCHANT_ID", relation_type="PARTNER")
    out_order_no = "PS" + secrets.token_hex(6)
    client.profit_sharing_order(
        transaction_id=transaction_id,
        out_order_no=out_order_no,
        receivers=[
            {"type": "PERSONAL_OPENID", "account": "o-promoter-3", "amount": 1200, "description": "推广佣金"},
            {"type": "MERCHANT_ID", "account": PARTNER_MCHID, "amount": 800, "description": "合作方分成"},
        ],
        unfreeze_unsplit=False,
    )

    def query():
        return client.profit_sharing_query(transaction_id=transaction_id, out_order_no=out_order_no)

    assert query()["state"] == "PROCESSING"
    with pytest.raises(WeChatPayError) as err:  # nothing to return while the split is pending
        client.profit_sharing_return(
            out_order_no=out_order_no,
            out_return_no="RT" + secrets.token_hex(6),
            return_mchid=PARTNER_MCHID,
            amount_fen=100,
            description="用户退款",
        )
    assert (err.value.status, err.value.code) == (400, "INVALID_REQUEST")

    emulator.api("profitsharing", out_order_no=out_order_no, account="o-promoter-3", outcome="closed")
    half = query()
    assert half["state"] == "PROCESSING"
    assert [(r["result"], r.get("fail_reason")) for r in half["receivers"]] == [
        ("CLOSED", "ACCOUNT_ABNORMAL"),
        ("PENDING", None),
    ]
    emulator.api("profitsharing", out_order_no=out_order_no, outcome="success")
    done = query()
    assert done["state"] == "FINISHED" and [r["result"] for r in done["receivers"]] == ["CLOSED", "SUCCESS"]
    again = drive(emulator, "profitsharing", out_order_no=out_order_no, outcome="success")
    assert again.status_code == 400 and again.json()["code"] == "INVALID_REQUEST"
    # the closed receiver's 12.00 went back: it may be split again (the cap is 30 % of 100.00)
    retry = client.profit_sharing_order(
        transaction_id=transaction_id,
        out_order_no="PR" + secrets.token_hex(6),
        receivers=[{"type": "PERSONAL_OPENID", "account": "o-promoter-3", "amount": 2200, "description": "重分"}],
        unfreeze_unsplit=False,
    )
    assert retry["state"] == "PROCESSING"


def test_profit_sharing_needs_an_order_paid_for_it(emulator):
    transaction_id = pay(emulator, paid_transaction(5000, profit_sharing=False))
    PayClient().add_receiver(account="o-promoter-2")
    with pytest.raises(WeChatPayError) as err:
        PayClient().profit_sharing_order(
            transaction_id=transaction_id, out_order_no="PS" + secrets.token_hex(6),
            receivers=[{"type": "PERSONAL_OPENID", "account": "o-promoter-2", "amount": 100, "description": "佣金"}],
            unfreeze_unsplit=True,
        )  # fmt: skip
    assert (err.value.status, err.value.code) == (403, "NO_AUTH")


def test_profit_sharing_to_a_person_needs_an_appid(emulator):
    core = PayClient()._pay._core
    status, text = core.request(
        "/v3/profitsharing/receivers/add",
        method=RequestType.POST,
        data={"type": "PERSONAL_OPENID", "account": "o-promoter-9", "relation_type": "DISTRIBUTOR"},
    )
    assert status == 400 and json.loads(text)["code"] == "PARAM_ERROR" and "appid" in json.loads(text)["message"]
    status, text = core.request(
        "/v3/profitsharing/orders",
        method=RequestType.POST,
        data={
            "transaction_id": "4200000000",
            "out_order_no": "PS" + secrets.token_hex(6),
            "unfreeze_unsplit": False,
            "receivers": [{"type": "PERSONAL_OPENID", "account": "o-promoter-9", "amount": 1, "description": "x"}],
        },
    )
    assert status == 400 and json.loads(text)["code"] == "PARAM_ERROR" and "appid" in json.loads(text)["message"]
    saved = settings.WECHAT_PAY_APPID
    settings.WECHAT_PAY_APPID = ""
    try:
        with pytest.raises(WeChatPayError) as err:  # refused before any call
            PayClient().add_receiver(account="o-promoter-9")
        assert err.value.code == "PARAM_ERROR"
    finally:
        settings.WECHAT_PAY_APPID = saved


# -- merchant transfers: the bill's life -------------------------------------------------------
def test_transfer_confirmed_then_succeeds_and_is_notified_with_mchid(emulator, wechat_web, committed):
    client = PayClient()
    no = new_bill_no()
    bill = client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=1500, remark="佣金提现")
    assert bill["state"] == "WAIT_USER_CONFIRM" and bill["package_info"]  # for wx.requestMerchantTransfer
    again = client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=1500, remark="佣金提现")
    assert again == bill  # a retry answers the same bill
    sent = emulator.state()["transfers"][no]
    assert sent["transfer_scene_id"] == "1005" and sent["appid"] == settings.WECHAT_PAY_APPID

    emulator.api("transfer", out_bill_no=no, action="confirm")  # the user confirms in the mini-program
    assert client.transfer_query(out_bill_no=no)["state"] == "TRANSFERING"
    assert notifies_for(emulator, no) == []  # not final yet: no notify

    finished = emulator.api("transfer", out_bill_no=no, action="succeed")
    assert finished["state"] == "SUCCESS"
    view = client.transfer_query(out_bill_no=no)
    assert view["state"] == "SUCCESS" and view["mch_id"] == settings.WECHAT_PAY_MCHID and "mchid" not in view
    assert view["transfer_bill_no"] == bill["transfer_bill_no"] and "package_info" not in view
    assert "fail_reason" not in view
    assert client.transfer_query_by_bill_no(transfer_bill_no=bill["transfer_bill_no"]) == view

    resource = transfer_notify(no)
    assert set(resource) == NOTIFY_FIELDS  # mchid, never mch_id; no fail_reason on success
    assert resource["mchid"] == settings.WECHAT_PAY_MCHID
    assert (resource["state"], resource["transfer_amount"], resource["openid"]) == ("SUCCESS", 1500, "o-promoter-1")
    assert resource["transfer_bill_no"] == bill["transfer_bill_no"]
    assert [n["event_type"] for n in notifies_for(emulator, no)] == ["MCHTRANSFER.BILL.FINISHED"]


def test_transfer_confirmed_then_fails(emulator, wechat_web, committed):
    client = PayClient()
    no = new_bill_no()
    client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=800, remark="佣金提现")
    emulator.api("transfer", out_bill_no=no, action="confirm")
    emulator.api("transfer", out_bill_no=no, action="fail")
    view = client.transfer_query(out_bill_no=no)
    assert (view["state"], view["fail_reason"]) == ("FAIL", "PAYEE_ACCOUNT_ABNORMAL")
    resource = transfer_notify(no)
    assert set(resource) == NOTIFY_FIELDS | {"fail_reason"}
    assert (resource["state"], resource["fail_reason"]) == ("FAIL", "PAYEE_ACCOUNT_ABNORMAL")


def test_transfer_left_unconfirmed_expires(emulator, wechat_web, committed):
    client = PayClient()
    no = new_bill_no()
    client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=2000, remark="佣金提现")
    emulator.api("transfer", out_bill_no=no, action="expire")  # 24 hours without the user's confirmation
    bill = client.transfer_query(out_bill_no=no)
    assert (bill["state"], bill["fail_reason"]) == ("CANCELLED", "OVERDUE_CLOSE")
    resource = transfer_notify(no)
    assert (resource["state"], resource["fail_reason"]) == ("CANCELLED", "OVERDUE_CLOSE")
    late = drive(emulator, "transfer", out_bill_no=no, action="confirm")  # too late to confirm
    assert late.status_code == 400 and late.json()["code"] == "INVALID_REQUEST"


def test_merchant_cancel_is_canceling_then_cancelled(emulator, wechat_web, committed):
    client = PayClient()
    no = new_bill_no()
    client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=100, remark="撤销")
    assert client.transfer_cancel(out_bill_no=no)["state"] == "CANCELING"
    assert client.transfer_cancel(out_bill_no=no)["state"] == "CANCELING"  # a retried cancel
    assert emulator.state()["transfers"][no]["state"] == "CANCELING"
    view = client.transfer_query(out_bill_no=no)  # done by the time we look again
    assert (view["state"], view["fail_reason"]) == ("CANCELLED", "MCH_CANCEL")
    resource = transfer_notify(no)
    assert (resource["state"], resource["fail_reason"]) == ("CANCELLED", "MCH_CANCEL")
    time.sleep(2.5)  # past the emulator's own settling: still one notify
    assert len(notifies_for(emulator, no)) == 1
    with pytest.raises(WeChatPayError) as err:
        client.transfer_cancel(out_bill_no=no)
    assert (err.value.status, err.value.code) == (400, "INVALID_REQUEST")


def test_merchant_cancel_settled_by_wechat(emulator, wechat_web, committed):
    client = PayClient()
    no = new_bill_no()
    bill = client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=300, remark="撤销")
    client.transfer_cancel(out_bill_no=no)
    settled = emulator.api("transfer", out_bill_no=no, action="settle-cancel")
    assert settled["state"] == "CANCELLED"
    assert client.transfer_query_by_bill_no(transfer_bill_no=bill["transfer_bill_no"])["state"] == "CANCELLED"
    assert transfer_notify(no)["state"] == "CANCELLED"


def test_transfer_cannot_be_cancelled_once_the_user_confirmed(emulator):
    client = PayClient()
    no = new_bill_no()
    client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=300, remark="佣金提现")
    emulator.api("transfer", out_bill_no=no, action="confirm")
    with pytest.raises(WeChatPayError) as err:
        client.transfer_cancel(out_bill_no=no)
    assert (err.value.status, err.value.code) == (400, "INVALID_REQUEST")
    assert emulator.api("transfer", out_bill_no=no, action="succeed")["state"] == "SUCCESS"


def test_test_api_refuses_transitions_the_state_does_not_allow(emulator):
    client = PayClient()
    no = new_bill_no()
    client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=300, remark="佣金提现")
    for action in ("succeed", "fail", "settle-cancel"):  # nobody confirmed yet / nothing to settle
        answer = drive(emulator, "transfer", out_bill_no=no, action=action)
        assert answer.status_code == 400 and answer.json()["code"] == "INVALID_REQUEST", action
    assert emulator.api("transfer", out_bill_no=no, action="complete")["state"] == "SUCCESS"  # confirm + succeed
    for action in ("confirm", "expire", "complete"):
        answer = drive(emulator, "transfer", out_bill_no=no, action=action)
        assert answer.status_code == 400 and answer.json()["code"] == "INVALID_REQUEST", action
    assert drive(emulator, "transfer", out_bill_no=no, action="bogus").status_code == 400


# -- merchant transfers: what WeChat requires ----------------------------------------------------
def test_transfer_rules(emulator):
    client = PayClient()
    with pytest.raises(WeChatPayError):
        client.transfer(out_bill_no=new_bill_no(), openid="o-promoter-1", amount_fen=9, remark="太少")
    with pytest.raises(WeChatPayError) as err:
        client.transfer_query(out_bill_no="WD20269999")
    assert err.value.status == 404
    with pytest.raises(WeChatPayError) as err:
        client.transfer_query_by_bill_no(transfer_bill_no="1330" + "0" * 36)
    assert err.value.status == 404
    with pytest.raises(WeChatPayError) as err:  # WeChat allows letters and digits only
        client.transfer(out_bill_no="9_000001", openid="o-promoter-1", amount_fen=100, remark="佣金")
    assert err.value.code == "PARAM_ERROR"


def test_same_bill_number_with_other_arguments_is_refused(emulator):
    client = PayClient()
    no = new_bill_no()
    client.transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=1000, remark="佣金提现")
    for changed in ({"amount_fen": 1001}, {"openid": "o-promoter-2"}):
        with pytest.raises(WeChatPayError) as err:
            client.transfer(
                **{"out_bill_no": no, "openid": "o-promoter-1", "amount_fen": 1000, "remark": "佣金提现"} | changed
            )
        assert (err.value.status, err.value.code) == (400, "INVALID_REQUEST"), changed
    assert client.transfer_query(out_bill_no=no)["transfer_amount"] == 1000


def test_transfer_without_an_appid_is_refused(emulator):
    status, answer = raw_transfer(appid=None)
    assert (status, answer["code"]) == (400, "PARAM_ERROR") and "appid" in answer["message"]
    saved = settings.WECHAT_PAY_APPID
    settings.WECHAT_PAY_APPID = ""
    try:
        with pytest.raises(WeChatPayError) as err:  # refused by our client before any call
            PayClient().transfer(out_bill_no=new_bill_no(), openid="o-promoter-1", amount_fen=100, remark="佣金")
        assert err.value.code == "PARAM_ERROR" and "appid" in err.value.message
        assert (
            PayClient(appid=saved).transfer(
                out_bill_no=new_bill_no(), openid="o-promoter-1", amount_fen=100, remark="佣金"
            )["state"]
            == "WAIT_USER_CONFIRM"
        )  # the store's own AppID, passed in
    finally:
        settings.WECHAT_PAY_APPID = saved


def test_transfer_scene_and_its_report_infos_are_required(emulator):
    status, answer = raw_transfer(transfer_scene_id=None)
    assert (status, answer["code"]) == (400, "PARAM_ERROR") and "transfer_scene_id" in answer["message"]
    status, answer = raw_transfer(transfer_scene_report_infos=None)
    assert (status, answer["code"]) == (400, "PARAM_ERROR")
    assert "岗位类型" in answer["message"] and "报酬说明" in answer["message"]
    status, answer = raw_transfer(transfer_scene_report_infos=[{"info_type": "岗位类型", "info_content": "推广员"}])
    assert (status, answer["code"]) == (400, "PARAM_ERROR") and "缺少 报酬说明" in answer["message"]
    status, answer = raw_transfer(
        transfer_scene_report_infos=[
            {"info_type": "岗位类型", "info_content": " "},
            {"info_type": "报酬说明", "info_content": "推广佣金"},
        ]
    )
    assert (status, answer["code"]) == (400, "PARAM_ERROR") and "内容为空：岗位类型" in answer["message"]
    # the cash-marketing scene's report infos sent for commission (or the other way round)
    status, answer = raw_transfer(
        transfer_scene_report_infos=[
            {"info_type": "活动名称", "info_content": "推广"},
            {"info_type": "奖励说明", "info_content": "佣金"},
        ]
    )
    assert (status, answer["code"]) == (400, "PARAM_ERROR") and "缺少 岗位类型、报酬说明" in answer["message"]
    status, answer = raw_transfer(transfer_scene_id="1000")
    assert (status, answer["code"]) == (400, "PARAM_ERROR") and "缺少 活动名称、奖励说明" in answer["message"]
    status, answer = raw_transfer(transfer_scene_id="1999")
    assert (status, answer["code"]) == (400, "PARAM_ERROR")
    status, answer = raw_transfer()
    assert status == 200 and answer["state"] == "WAIT_USER_CONFIRM"


def test_client_sends_the_report_infos_its_scene_requires(emulator):
    no = new_bill_no()
    assert PayClient().transfer(out_bill_no=no, openid="o-promoter-1", amount_fen=100, remark="佣金", job="分销员")
    sent = [c for c in emulator.log("call") if c["path"] == TRANSFERS and c["status"] == 200][-1]["request"]
    assert sent["transfer_scene_id"] == "1005" and sent["out_bill_no"] == no
    assert sent["transfer_scene_report_infos"] == [
        {"info_type": "岗位类型", "info_content": "分销员"},
        {"info_type": "报酬说明", "info_content": "推广佣金"},
    ]
    saved = settings.WECHAT_TRANSFER_SCENE_ID
    settings.WECHAT_TRANSFER_SCENE_ID = "1000"
    try:
        bill = PayClient().transfer(out_bill_no=new_bill_no(), openid="o-promoter-1", amount_fen=100, remark="奖励")
        assert bill["state"] == "WAIT_USER_CONFIRM"
        sent = [c for c in emulator.log("call") if c["path"] == TRANSFERS and c["status"] == 200][-1]["request"]
        assert [i["info_type"] for i in sent["transfer_scene_report_infos"]] == ["活动名称", "奖励说明"]
    finally:
        settings.WECHAT_TRANSFER_SCENE_ID = saved


def test_transfer_bill_numbers_name_the_store_and_the_withdrawal():
    no = transfer_bill_no_for(tenant_id=42, withdrawal_pk=1234)
    assert no == "T0000042W000000001234"
    assert no.isalnum() and 5 <= len(no) <= 32
    assert parse_transfer_bill_no(no) == (42, 1234)
    big = transfer_bill_no_for(tenant_id=123456789, withdrawal_pk=10**15)
    assert len(big) <= 32 and parse_transfer_bill_no(big) == (123456789, 10**15)
    for foreign in (
        "",
        "WD20260001",
        "42_R0000000001",
        "T42W1",
        "T0000042W00000000123x",
        "T" + "1" * 20 + "W" + "2" * 12,
    ):
        assert parse_transfer_bill_no(foreign) is None, foreign
    with pytest.raises(ValueError):
        transfer_bill_no_for(tenant_id=-1, withdrawal_pk=1)
    with pytest.raises(ValueError):
        transfer_bill_no_for(tenant_id=10**20, withdrawal_pk=10**20)
