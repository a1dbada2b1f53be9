"""The tracking-API client against the carrier emulator, over HTTP: signed calls, a bad key
refused, errors mapped to our exceptions, retries on 5xx, and the push signature checked."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from integrations.logistics.client import LogisticsClient, signed_headers
from integrations.logistics.errors import (
    LogisticsAPIError,
    LogisticsNotFound,
    LogisticsSignatureError,
    LogisticsUnavailable,
)


def _no() -> str:
    return "SF" + uuid.uuid4().hex[:12].upper()


def test_subscribe_then_query_returns_the_track_the_carrier_advanced(carrier):
    client, no = LogisticsClient(), _no()
    client.subscribe(carrier="shunfeng", tracking_no=no, callback_url="http://localhost:9/unused")
    with pytest.raises(LogisticsNotFound):
        client.query(carrier="shunfeng", tracking_no=no)  # subscribed, not collected yet
    carrier.api("advance", carrier="shunfeng", tracking_no=no, steps=2)
    track = client.query(carrier="shunfeng", tracking_no=no)
    assert track.state == "in_transit"
    assert [e.state for e in track.events] == ["collected", "in_transit"]
    assert "顺丰速运" in track.events[0].description
    assert all(e.occurred_at.tzinfo is not None for e in track.events)


def test_a_wrong_key_is_refused_by_the_carrier(carrier):
    bad = LogisticsClient(key="not-the-key")
    with pytest.raises(LogisticsAPIError) as err:
        bad.subscribe(carrier="shunfeng", tracking_no=_no(), callback_url="http://localhost:9/x")
    assert err.value.status == 401 and err.value.code == "unauthorized"


def test_an_unknown_carrier_is_an_api_error_with_its_message(carrier):
    with pytest.raises(LogisticsAPIError) as err:
        LogisticsClient().subscribe(carrier="nosuch", tracking_no=_no(), callback_url="http://localhost:9/x")
    assert err.value.code == "invalid_carrier" and "nosuch" in err.value.message


def test_a_5xx_is_retried_and_then_succeeds(carrier):
    carrier.api("fault", path="/v1/subscribe", status=503, count=2)
    LogisticsClient().subscribe(carrier="zhongtong", tracking_no=_no(), callback_url="http://localhost:9/x")


def test_a_5xx_that_outlasts_the_retries_is_unavailable(carrier):
    carrier.api("fault", path="/v1/subscribe", status=502, count=3)  # the first call and both retries
    with pytest.raises(LogisticsUnavailable):
        LogisticsClient().subscribe(carrier="yunda", tracking_no=_no(), callback_url="http://localhost:9/x")


def test_an_unreachable_api_is_unavailable(carrier):
    with pytest.raises(LogisticsUnavailable):
        LogisticsClient(base_url="http://127.0.0.1:9").query(carrier="ems", tracking_no=_no())


def _push_body() -> bytes:
    return json.dumps(
        {
            "carrier": "jd",
            "tracking_no": "JD0001",
            "state": "collected",
            "events": [
                {"state": "collected", "description": "已揽收", "location": "北京", "time": "2026-12-01T08:00:00+08:00"}
            ],
        },
        ensure_ascii=False,
    ).encode()


def test_a_push_signed_with_the_key_parses(carrier):
    client, body = LogisticsClient(), _push_body()
    track = client.parse_push(signed_headers(client.key, client.customer, body), body)
    assert track.tracking_no == "JD0001" and track.events[0].location == "北京"


@pytest.mark.parametrize("case", ["wrong_key", "tampered", "missing", "stale"])
def test_a_push_with_a_bad_signature_is_refused(carrier, case):
    client, body = LogisticsClient(), _push_body()
    headers = signed_headers(client.key, client.customer, body)
    if case == "wrong_key":
        headers = signed_headers("another-key", client.customer, body)
    elif case == "tampered":
        body = body.replace("已揽收".encode(), "已签收".encode())
    elif case == "missing":
        headers.pop("X-Logistics-Signature")
    elif case == "stale":
        headers = signed_headers(client.key, client.customer, body, now=time.time() - 600)
    with pytest.raises(LogisticsSignatureError):
        client.parse_push(headers, body)


def test_a_well_signed_malformed_push_is_an_api_error(carrier):
    client = LogisticsClient()
    body = b'{"carrier": "jd", "tracking_no": "X", "events": [{"state": "teleported", "time": "2026-12-01T08:00:00+08:00"}]}'
    with pytest.raises(LogisticsAPIError):
        client.parse_push(signed_headers(client.key, client.customer, body), body)
