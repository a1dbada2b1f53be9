"""Shopper after-sales API (/api/v1/orders/<no>/refunds, /api/v1/refunds…): good and bad input
(400 with Chinese messages under field paths such as ``lines[0].amount_fen``, never a 500),
another shopper's or another store's numbers answer 404, and the list runs a fixed number of
statements whatever the number of refunds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from mall.api.auth import issue_token
from mall.orders.actions import place_order, transition_order
from mall.orders.models import OrderStatus
from mall.payments.actions import request_after_sales
from mall.payments.models import Refund
from tests.factories import CustomerFactory, ProductFactory, home, pay

LIST_BOUND = 7  # resolution (2), SET search_path, the shopper, COUNT, the page with orders, lines + order lines


def _order(tenant, customer=None, *, prices=(3990, 1250), shipped=False):
    with schema_context(tenant.schema_name):
        customer = customer or CustomerFactory()
        products = [ProductFactory(price_fen=p, stock=1000) for p in prices]
        order = pay(place_order(customer=customer, address=home(customer), items=[(p.pk, 1) for p in products]))
        if shipped:
            order = transition_order(order=order, to=OrderStatus.SHIPPED)
        lines = list(order.lines.order_by("pk").values_list("pk", flat=True))
        token = issue_token(customer)
    connection.set_schema_to_public()
    return order, lines, token


@pytest.fixture
def call(tenant_a, db):
    client = Client()

    def do(method, path, token=None, tenant=tenant_a, **kwargs):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        response = getattr(client, method)(
            f"/api/v1/{path}", HTTP_HOST=tenant.primary_host, content_type="application/json", **headers, **kwargs
        )
        connection.set_schema_to_public()
        return response

    return do


def test_request_a_partial_refund_and_read_it_back(call, tenant_a):
    order, (a, b), token = _order(tenant_a)
    body = {
        "kind": "refund_only",
        "reason": "少发一件",
        "lines": [{"line_id": a, "amount_fen": 1990}, {"line_id": b, "amount_fen": 1, "quantity": 1}],
        "total_fen": 1,  # a client's total is never read
    }
    created = call("post", f"orders/{order.order_no}/refunds", token, data=body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["amount_fen"] == 1991 and data["amount_display"] == "¥19.91"
    assert data["status"] == "pending_review" and data["status_display"] == "待审核"
    assert sorted((x["line_id"], x["amount_fen"], x["quantity"]) for x in data["lines"]) == [(a, 1990, 0), (b, 1, 1)]
    detail = call("get", f"refunds/{data['out_refund_no']}", token)
    assert detail.status_code == 200 and detail.json() == data
    listing = call("get", "refunds", token).json()
    assert listing["count"] == 1 and listing["results"][0]["out_refund_no"] == data["out_refund_no"]


def test_whole_order_and_return_tracking(call, tenant_a):
    order, _lines, token = _order(tenant_a, shipped=True)
    created = call(
        "post", f"orders/{order.order_no}/refunds", token, data={"kind": "return_refund", "reason": "不合适"}
    )
    assert created.status_code == 201, created.content
    no = created.json()["out_refund_no"]
    assert created.json()["amount_fen"] == 3990 + 1250
    bad = call("post", f"refunds/{no}/return-tracking", token, data={"return_carrier": "顺丰"})
    assert bad.status_code == 400 and "return_tracking_no" in bad.json()["error"]["fields"]
    bad = call(
        "post", f"refunds/{no}/return-tracking", token, data={"return_carrier": "顺丰", "return_tracking_no": "?"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["return_tracking_no"] == ["运单号须为 6–40 位字母、数字或短横线。"]
    ok = call(
        "post",
        f"refunds/{no}/return-tracking",
        token,
        data={"return_carrier": "顺丰", "return_tracking_no": "SF100200300"},
    )
    assert ok.status_code == 200 and ok.json()["return_tracking_no"] == "SF100200300"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "kind"),
        ({"kind": "swap", "reason": "x"}, "kind"),
        ({"kind": "refund_only"}, "reason"),
        ({"kind": "refund_only", "reason": "x" * 81}, "reason"),
        ({"kind": "refund_only", "reason": "x", "lines": []}, "lines"),
        ({"kind": "refund_only", "reason": "x", "lines": "all"}, "lines"),
        ({"kind": "refund_only", "reason": "x", "lines": [{"amount_fen": 1}]}, "lines[0].line_id"),
        ({"kind": "refund_only", "reason": "x", "lines": [{"line_id": "A", "amount_fen": -1}]}, "lines[0].amount_fen"),
        (
            {"kind": "refund_only", "reason": "x", "lines": [{"line_id": "A", "amount_fen": 3991}]},
            "lines[0].amount_fen",
        ),
        ({"kind": "refund_only", "reason": "x", "lines": [{"line_id": "A", "amount_fen": 1.5}]}, "lines[0].amount_fen"),
        ({"kind": "refund_only", "reason": "x", "lines": [{"line_id": "A", "quantity": 2}]}, "lines[0].quantity"),
        ({"kind": "refund_only", "reason": "x", "lines": [{"line_id": 99999999, "amount_fen": 1}]}, "lines[0].line_id"),
        ({"kind": "refund_only", "reason": "x", "lines": [{"line_id": "B"}, {"line_id": "B"}]}, "lines[1].line_id"),
        ({"kind": "return_refund", "reason": "x"}, "kind"),  # not shipped: refund only
        ({"kind": "refund_only", "reason": "x", "return_tracking_no": "SF123456"}, "return_tracking_no"),
    ],
)
def test_bad_requests_answer_400_with_chinese_field_errors(call, tenant_a, body, field):
    order, (a, b), token = _order(tenant_a)
    if isinstance(body.get("lines"), list):
        body["lines"] = [
            {**x, "line_id": {"A": a, "B": b}.get(x.get("line_id"), x.get("line_id"))} for x in body["lines"]
        ]
        body["lines"] = [{k: v for k, v in x.items() if v is not None} for x in body["lines"]]
    response = call("post", f"orders/{order.order_no}/refunds", token, data=body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in msg) for msg in error["fields"][field]), error
    with schema_context(tenant_a.schema_name):
        assert not Refund.objects.filter(order=order).exists()


def test_one_open_case_and_orders_not_paid(call, tenant_a):
    order, _lines, token = _order(tenant_a)
    body = {"kind": "refund_only", "reason": "不要了"}
    assert call("post", f"orders/{order.order_no}/refunds", token, data=body).status_code == 201
    again = call("post", f"orders/{order.order_no}/refunds", token, data=body)
    assert again.status_code == 400 and "order" in again.json()["error"]["fields"]
    with schema_context(tenant_a.schema_name):
        customer = order.customer
        unpaid = place_order(customer=customer, address=home(customer), items=[(ProductFactory().pk, 1)])
    connection.set_schema_to_public()
    refused = call("post", f"orders/{unpaid.order_no}/refunds", token, data=body)
    assert refused.status_code == 400 and "不能申请售后" in refused.json()["error"]["fields"]["order"][0]


def test_login_is_required(call, tenant_a):
    order, _lines, _token = _order(tenant_a)
    for method, path in (
        ("post", f"orders/{order.order_no}/refunds"),
        ("get", "refunds"),
        ("get", "refunds/x"),
        ("post", "refunds/x/return-tracking"),
        ("post", "refunds/x/withdraw"),
    ):
        response = call(method, path, data={}) if method == "post" else call(method, path)
        assert response.status_code == 401, (path, response.content)
        assert response.json()["error"]["code"] == "not_authenticated"


def test_another_shoppers_and_another_stores_numbers_are_404(call, tenant_a, tenant_b):
    order, _lines, token = _order(tenant_a)
    created = call("post", f"orders/{order.order_no}/refunds", token, data={"kind": "refund_only", "reason": "退"})
    no = created.json()["out_refund_no"]
    _other_order, _l, stranger = _order(tenant_a)
    for method, path in (
        ("post", f"orders/{order.order_no}/refunds"),
        ("get", f"refunds/{no}"),
        ("post", f"refunds/{no}/return-tracking"),
        ("post", f"refunds/{no}/withdraw"),
        ("post", "orders/no-such-order/refunds"),
        ("get", "refunds/no-such-refund"),
    ):
        data = {"kind": "refund_only", "reason": "退", "return_carrier": "顺丰", "return_tracking_no": "SF123456"}
        response = call(method, path, stranger, data=data) if method == "post" else call(method, path, stranger)
        assert response.status_code == 404, (path, response.content)
        assert response.json()["error"]["code"] == "not_found"
    assert call("get", "refunds", stranger).json()["count"] == 0
    # tenant B: a shopper of B with tenant A's numbers
    _b_order, _bl, b_token = _order(tenant_b)
    for method, path in (("post", f"orders/{order.order_no}/refunds"), ("get", f"refunds/{no}")):
        data = {"kind": "refund_only", "reason": "退"}
        response = (
            call(method, path, b_token, tenant=tenant_b, data=data)
            if method == "post"
            else call(method, path, b_token, tenant=tenant_b)
        )
        assert response.status_code == 404, (path, response.content)
    assert call("get", "refunds", b_token, tenant=tenant_b).json()["count"] == 0
    with schema_context(tenant_a.schema_name):
        assert Refund.objects.filter(order=order).count() == 1


def test_a_request_not_reviewed_yet_can_be_withdrawn_and_asked_anew(call, tenant_a):
    order, _lines, token = _order(tenant_a)
    body = {"kind": "refund_only", "reason": "拍错了"}
    no = call("post", f"orders/{order.order_no}/refunds", token, data=body).json()["out_refund_no"]
    withdrawn = call("post", f"refunds/{no}/withdraw", token)
    assert withdrawn.status_code == 200, withdrawn.content
    assert withdrawn.json()["status"] == "closed" and withdrawn.json()["status_display"] == "退款关闭"
    again = call("post", f"refunds/{no}/withdraw", token)  # finished: refused with its own message
    assert again.status_code == 400
    assert again.json()["error"]["fields"]["status"] == ["退款单状态为“退款关闭”，只有待审核的申请可以撤销。"]
    anew = call("post", f"orders/{order.order_no}/refunds", token, data=body)  # the money is free again
    assert anew.status_code == 201 and anew.json()["amount_fen"] == 3990 + 1250
    with schema_context(tenant_a.schema_name):
        from mall.payments.actions import approve_refund

        approve_refund(refund=Refund.objects.get(out_refund_no=anew.json()["out_refund_no"]), actor=None)
        events = list(order.events.filter(kind="refund_finished").values_list("note", flat=True))
    connection.set_schema_to_public()
    assert events == [f"{no} 顾客撤销申请"]
    approved = call("post", f"refunds/{anew.json()['out_refund_no']}/withdraw", token)
    assert approved.status_code == 400 and "只有待审核的申请可以撤销" in approved.json()["error"]["fields"]["status"][0]


def test_my_refunds_run_the_same_statements_for_1_and_20(tenant_a, db, settings):
    from tenants.selectors import forget_cached_tenants

    settings.TENANT_CACHE_SECONDS = 0
    forget_cached_tenants()
    with schema_context(tenant_a.schema_name):
        few, lots = CustomerFactory(), CustomerFactory()
    tokens = {}
    for customer, n in ((few, 1), (lots, 20)):
        for _ in range(n):
            order, lines, tokens[customer.pk] = _order(tenant_a, customer)
            with schema_context(tenant_a.schema_name):
                request_after_sales(
                    order=order, customer=customer, lines=[{"line_id": pk, "amount_fen": 100} for pk in lines],
                    reason="退", kind="refund_only",
                )  # fmt: skip
            connection.set_schema_to_public()
    client = Client()

    def measure(token):
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(
                "/api/v1/refunds", HTTP_HOST=tenant_a.primary_host, HTTP_AUTHORIZATION=f"Bearer {token}"
            )
        connection.set_schema_to_public()
        assert response.status_code == 200
        return response, [q["sql"] for q in ctx.captured_queries]

    first, one = measure(tokens[few.pk])
    second, many = measure(tokens[lots.pk])
    assert first.json()["count"] == 1 and len(second.json()["results"]) == 20
    assert len(second.json()["results"][0]["lines"]) == 2
    assert len(one) == len(many), "\n".join(many)
    assert len(many) <= LIST_BOUND, "\n".join(many)
