"""The console's refund screens (issue 10 item 8): a list with filters and search, a read-only
detail with lines, amounts and return tracking, and two buttons that call the actions —
同意退款 (``approve_refund``) and 拒绝退款 with a reason (``decline_refund``). Customer service
reviews; a role without ``payments.review_refund`` cannot; generic add/edit/delete stay refused."""

from __future__ import annotations

from django_tenants.utils import schema_context

from core.models import OutboxMessage
from tests.console.conftest import login


def _pending(tenant, *, kind="refund_only"):
    from mall.orders.actions import place_order, transition_order
    from mall.orders.models import OrderStatus
    from mall.payments.actions import request_after_sales
    from tests.factories import CustomerFactory, ProductFactory, home, pay

    with schema_context(tenant.schema_name):
        customer = CustomerFactory()
        products = [ProductFactory(price_fen=p, stock=100, title=t) for p, t in ((2590, "阳光玫瑰"), (990, "砂糖橘"))]
        order = pay(place_order(customer=customer, address=home(customer), items=[(p.pk, 2) for p in products]))
        if kind == "return_refund":
            order = transition_order(order=order, to=OrderStatus.SHIPPED)
        a, b = order.lines.order_by("pk")
        refund = request_after_sales(
            order=order,
            customer=customer,
            lines=[
                {"line_id": a.pk, "amount_fen": 2590, "quantity": 1},
                {"line_id": b.pk, "amount_fen": 1, "quantity": 1},
            ],
            reason="坏了一串",
            kind=kind,
            return_carrier="顺丰" if kind == "return_refund" else "",
            return_tracking_no="SF900800700" if kind == "return_refund" else "",
        )
    return order, refund


def _reload(tenant, refund):
    with schema_context(tenant.schema_name):
        refund.refresh_from_db()
    return refund


def test_customer_service_approves_with_the_button(tenant_a, store, merchant_users, db):
    order, refund = _pending(tenant_a, kind="return_refund")
    user = merchant_users["customer_service"]
    client = login(user, tenant_a.schema_name)
    host = tenant_a.primary_host
    page = client.get(f"/console/refunds/inspect/{refund.pk}/", HTTP_HOST=host)
    assert page.status_code == 200
    html = page.content.decode()
    assert "阳光玫瑰" in html and "砂糖橘" in html and html.count("data-refund-line") == 2
    assert "¥25.91" in html  # the refund's amount, in yuan
    assert "SF900800700" in html and "顺丰" in html
    assert 'data-action="approve"' in html and 'data-action="decline"' in html
    # a POST without the page's refund number approves nothing
    stray = client.post(f"/console/refunds/approve/{refund.pk}/", {}, HTTP_HOST=host)
    assert stray.status_code == 400 and _reload(tenant_a, refund).status == "pending_review"
    done = client.post(f"/console/refunds/approve/{refund.pk}/", {"confirm_no": refund.out_refund_no}, HTTP_HOST=host)
    assert done.status_code == 302
    refund = _reload(tenant_a, refund)
    assert refund.status == "requested" and refund.reviewed_at
    assert OutboxMessage.objects.filter(
        handler="mall.payments.effects.submit_refund", payload__refund_id=refund.pk, schema_name=tenant_a.schema_name
    ).exists()
    with schema_context(tenant_a.schema_name):
        event = order.events.filter(kind="refund_approved").get()
        assert event.actor_id == user.pk
    after = client.get(f"/console/refunds/inspect/{refund.pk}/", HTTP_HOST=host).content.decode()
    assert 'data-action="approve"' not in after and 'data-event="refund_approved"' in after
    again = client.post(f"/console/refunds/approve/{refund.pk}/", {"confirm_no": refund.out_refund_no}, HTTP_HOST=host)
    assert again.status_code == 400  # reviewed once: the action refuses, the page says why
    assert "data-action-error" in again.content.decode()


def test_decline_needs_a_reason(tenant_a, store, merchant_users, db):
    order, refund = _pending(tenant_a)
    client = login(merchant_users["finance"], tenant_a.schema_name)
    host = tenant_a.primary_host
    url = f"/console/refunds/decline/{refund.pk}/"
    empty = client.post(url, {"confirm_no": refund.out_refund_no, "reason": ""}, HTTP_HOST=host)
    assert empty.status_code == 400 and "请填写拒绝原因" in empty.content.decode()
    assert _reload(tenant_a, refund).status == "pending_review"
    ok = client.post(url, {"confirm_no": refund.out_refund_no, "reason": "照片显示完好"}, HTTP_HOST=host)
    assert ok.status_code == 302
    refund = _reload(tenant_a, refund)
    assert refund.status == "declined" and refund.decline_reason == "照片显示完好"
    page = client.get(f"/console/refunds/inspect/{refund.pk}/", HTTP_HOST=host).content.decode()
    assert "照片显示完好" in page and 'data-action="decline"' not in page


def test_roles_without_review_cannot_press_the_buttons(tenant_a, store, merchant_users, db):
    _order, refund = _pending(tenant_a)
    host = tenant_a.primary_host
    ops = login(merchant_users["operations"], tenant_a.schema_name, raise_errors=False)
    for path in ("approve", "decline"):
        response = ops.post(
            f"/console/refunds/{path}/{refund.pk}/",
            {"confirm_no": refund.out_refund_no, "reason": "不行"},
            HTTP_HOST=host,
        )
        assert response.status_code in (302, 403)
    assert _reload(tenant_a, refund).status == "pending_review"
    cs = login(merchant_users["customer_service"], tenant_a.schema_name, raise_errors=False)
    for path in (f"/console/refunds/edit/{refund.pk}/", f"/console/refunds/delete/{refund.pk}/"):
        assert cs.post(path, {"status": "success", "reason": "x"}, HTTP_HOST=host).status_code in (302, 403, 404)
    assert _reload(tenant_a, refund).status == "pending_review"


def test_list_filters_search_and_the_order_detail_box(tenant_a, store, merchant_users, db):
    order, refund = _pending(tenant_a)
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    host = tenant_a.primary_host
    for query in ("", "?open=true", "?status=pending_review", "?kind=refund_only", "?source=shopper",
                  f"?q={order.order_no}", "?created_from=2000-01-01&created_to=2100-01-01"):  # fmt: skip
        response = client.get(f"/console/refunds/{query}", HTTP_HOST=host)
        assert response.status_code == 200, query
        assert refund.out_refund_no in response.content.decode(), query
    for query in ("?open=false", "?status=success", "?kind=return_refund", "?q=no-such-order"):
        assert refund.out_refund_no not in client.get(f"/console/refunds/{query}", HTTP_HOST=host).content.decode()
    detail = client.get(f"/console/orders/inspect/{order.pk}/", HTTP_HOST=host).content.decode()
    assert 'data-open-refund="pending_review"' in detail
    assert f"/console/refunds/inspect/{refund.pk}/" in detail
