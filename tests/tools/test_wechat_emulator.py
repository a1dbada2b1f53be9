"""The emulator's werkzeug plumbing, in process (its API families are exercised end to end by
tests/integrations/wechat): routing per family, WeChat's answers for unknown calls, signed
WeChat Pay responses, faults, and the call log."""

import json

import pytest
from werkzeug.test import Client

from tools.wechat_emulator.__main__ import build
from tools.wechat_emulator.app import FAMILIES


@pytest.fixture
def emulator(tmp_path):
    return build(tmp_path, "http://127.0.0.1:1", "", persist=False)


@pytest.fixture
def client(emulator):
    return Client(emulator)


def test_every_family_has_its_own_routes_and_none_is_declared_twice():
    names = [f.__module__.rsplit(".", 1)[1] for f in FAMILIES]
    assert names == ["open_platform", "miniprogram", "pay", "transfers", "test_api"]
    routes = [(method, rule) for family in FAMILIES for method, rule, _name in family.ROUTES]
    assert len(routes) == len(set(routes))
    for family in FAMILIES:
        for _method, _rule, name in family.ROUTES:
            assert callable(getattr(family, name)), name


def test_unknown_calls_get_wechats_answers(client):
    assert client.get("/_emulator/health").json == {"ok": True}
    assert client.post("/cgi-bin/nope").json == {"errcode": -1, "errmsg": "unknown api /cgi-bin/nope"}
    assert client.get("/wxa/commit").status_code == 404  # a POST-only API asked with GET
    missing = client.get("/v3/nope")
    assert missing.status_code == 404 and missing.json["code"] == "NOT_FOUND"
    assert "Wechatpay-Signature" in missing.headers  # every /v3/ answer is signed
    assert client.post("/_emulator/api/NOT-AN-ACTION").json["errcode"] == -1
    assert client.post("/_emulator/api/no-such-action").status_code == 400


def test_unsigned_pay_request_is_refused_with_pays_error_shape(client):
    answer = client.post("/v3/pay/transactions/jsapi", data=b"{}", content_type="application/json")
    assert answer.status_code == 401 and answer.json["code"] == "SIGN_ERROR"
    assert client.post("/v3/pay/transactions/bogus", data=b"{}").status_code == 404


def test_test_api_drives_login_codes_and_faults(client, emulator):
    code = client.post("/_emulator/api/login-code", data=json.dumps({"appid": "wx1", "openid": "o-1"})).json
    assert code["openid"] == "o-1" and len(code["code"]) == 32
    client.post("/_emulator/api/faults", data=json.dumps({"prefix": "/wxa/", "status": 502, "count": 1}))
    failed = client.post("/wxa/commit")
    assert failed.status_code == 502 and failed.get_data() == b"upstream error"
    assert client.post("/wxa/commit").json["errcode"] == 40001  # the fault was used once
    calls = client.get("/_emulator/api/log?kind=call").json["entries"]
    assert [(c["path"], c["status"]) for c in calls] == [("/wxa/commit", 502), ("/wxa/commit", 200)]


def test_form_posts_are_parsed_and_logged(client):
    page = client.post("/cgi-bin/componentloginpage", data={"pre_auth_code": "x", "component_appid": "y"})
    assert page.status_code == 400 and "预授权码无效" in page.get_data(as_text=True)
    entry = client.get("/_emulator/api/log?kind=call").json["entries"][-1]
    assert entry["request"] == "pre_auth_code=x&component_appid=y"
