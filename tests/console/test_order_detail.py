"""The merchant console's order detail page (issue 9 item 7)."""

from django_tenants.utils import schema_context

from tests.console.conftest import login


def test_order_detail_shows_lines_totals_payment_customer_promoter_and_timeline(tenant_a, store, merchant_users, db):
    from mall.orders.models import Order

    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    host = tenant_a.primary_host
    paid = client.get(f"/console/orders/inspect/{store['paid_order']}/", HTTP_HOST=host).content.decode()
    with schema_context(tenant_a.schema_name):
        order = Order.objects.get(pk=store["paid_order"])
        line = order.lines.get()
    assert line.title in paid
    assert "¥19.90" in paid and "¥39.80" in paid  # unit price and line amount / total, as yuan
    assert paid.count("data-line") == 1
    assert f"t-door-{order.pk}" in paid  # the payment
    assert "135****5678" in paid and "13512345678" not in paid  # the customer's phone, masked
    assert "张*" in paid and "139****1111" in paid and "文三路 ****" in paid  # the receiver, masked
    assert "13900001111" not in paid and "张三" not in paid and "100 号" not in paid
    assert "售后中" in paid  # the refund opened an after-sales case
    for kind in ("placed", "paid", "refund_requested"):
        assert f'data-event="{kind}"' in paid
    assert "取消订单" not in paid  # paid orders cannot be cancelled
    unpaid = client.get(f"/console/orders/inspect/{store['order']}/", HTTP_HOST=host).content.decode()
    assert "未支付" in unpaid and "取消订单" in unpaid
    with schema_context(tenant_a.schema_name):
        from mall.promoters.models import Promoter

        promoter = Promoter.objects.get(pk=store["promoter"])
    assert str(promoter) in unpaid
