"""The emulator's transfer bills and profit-sharing receivers, in process: the test API's
transitions, the notify they send, and the inspector's buttons for each state (the signed
WeChat Pay calls themselves are exercised end to end by tests/integrations/wechat/test_funds.py)."""

import json

import pytest
from werkzeug.test import Client

from tools.wechat_emulator.__main__ import build


@pytest.fixture
def emulator(tmp_path):
    emulator = build(tmp_path, "http://127.0.0.1:1", "", persist=False)
    emulator.out.notify = lambda url, event_type, resource, **kw: sent.append((event_type, resource)) or "id"
    sent.clear()
    return emulator


sent: list = []


def bill(emulator, no: str, state: str = "WAIT_USER_CONFIRM") -> dict:
    t = {
        "mch_id": emulator.s["mchid"],
        "out_bill_no": no,
        "transfer_bill_no": "1330" + no.rjust(36, "0"),
        "appid": "wx1",
        "transfer_scene_id": "1005",
        "state": state,
        "transfer_amount": 100,
        "transfer_remark": "佣金",
        "openid": "o-1",
        "user_name": "",
        "create_time": "2026-01-01T00:00:00+08:00",
        "update_time": "2026-01-01T00:00:00+08:00",
        "package_info": "pkg",
        "notify_url": "http://127.0.0.1:1/wechat/pay/transfer-notify/",
    }
    emulator.state.data["transfers"][no] = t
    return t


def act(client, name: str, **payload):
    return client.post(f"/_emulator/api/{name}", data=json.dumps(payload))


def test_transfer_actions_follow_the_bills_states(emulator):
    client = Client(emulator)
    bill(emulator, "T1")
    assert act(client, "transfer", out_bill_no="T1", action="confirm").json["state"] == "TRANSFERING"
    assert sent == []  # not final: no notify
    answer = act(client, "transfer", out_bill_no="T1", action="fail", fail_reason="ACCOUNT_FROZEN").json
    assert (answer["state"], answer["fail_reason"], answer["mch_id"]) == ("FAIL", "ACCOUNT_FROZEN", emulator.s["mchid"])
    assert "package_info" not in answer and "notify_url" not in answer
    [(event_type, resource)] = sent
    assert event_type == "MCHTRANSFER.BILL.FINISHED"
    assert resource["mchid"] == emulator.s["mchid"] and "mch_id" not in resource
    assert (resource["state"], resource["fail_reason"]) == ("FAIL", "ACCOUNT_FROZEN")

    bill(emulator, "T2")
    refused = act(client, "transfer", out_bill_no="T2", action="succeed")
    assert refused.status_code == 400 and refused.json["code"] == "INVALID_REQUEST"
    by_wechat_no = act(client, "transfer", transfer_bill_no="1330" + "T2".rjust(36, "0"), action="complete").json
    assert by_wechat_no["state"] == "SUCCESS" and "fail_reason" not in by_wechat_no

    bill(emulator, "T3", state="CANCELING")
    assert act(client, "transfer", out_bill_no="T3", action="settle-cancel").json["fail_reason"] == "MCH_CANCEL"
    assert [r["state"] for _, r in sent] == ["FAIL", "SUCCESS", "CANCELLED"]


def test_profit_sharing_receivers_are_forced_one_by_one(emulator):
    client = Client(emulator)
    emulator.state.data["ps_orders"]["PS1"] = {
        "transaction_id": "4200",
        "out_order_no": "PS1",
        "order_id": "3008",
        "state": "PROCESSING",
        "receivers": [
            {"type": "PERSONAL_OPENID", "account": "o-1", "amount": 10, "result": "PENDING", "returned": 0},
            {"type": "MERCHANT_ID", "account": "190", "amount": 20, "result": "PENDING", "returned": 0},
        ],
    }
    half = act(client, "profitsharing", out_order_no="PS1", account="190", outcome="closed", fail_reason="NO_RELATION")
    assert half.json["state"] == "PROCESSING"
    assert [(r["result"], r.get("fail_reason")) for r in half.json["receivers"]] == [
        ("PENDING", None),
        ("CLOSED", "NO_RELATION"),
    ]
    done = act(client, "profitsharing", out_order_no="PS1", outcome="success").json
    assert done["state"] == "FINISHED" and all("returned" not in r for r in done["receivers"])
    assert act(client, "profitsharing", out_order_no="PS1", outcome="maybe").status_code == 400
    assert act(client, "profitsharing", out_order_no="PS9", outcome="success").status_code == 404


def test_inspector_offers_what_each_state_allows(emulator):
    client = Client(emulator)
    for no, state in (("W1", "WAIT_USER_CONFIRM"), ("W2", "TRANSFERING"), ("W3", "CANCELING"), ("W4", "SUCCESS")):
        bill(emulator, no, state)
    page = client.get("/_emulator/").get_data(as_text=True)
    for action in ("confirm", "complete", "expire", "succeed", "fail", "settle-cancel"):
        assert f'name="action" value="{action}"' in page, action
    done = client.post("/_emulator/action", data={"name": "transfer", "out_bill_no": "W2", "action": "succeed"})
    assert done.status_code == 302 and emulator.state.data["transfers"]["W2"]["state"] == "SUCCESS"
