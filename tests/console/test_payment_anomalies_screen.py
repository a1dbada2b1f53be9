"""The merchant sees payment anomalies: the 支付异常 screen (finance and owner), and a warning
with the automatic refund on the order's detail page."""

import pytest

from tests.console.conftest import login


@pytest.mark.parametrize("role", ["owner", "finance"])
def test_finance_and_owner_see_the_anomalies_with_their_automatic_refund(role, tenant_a, store, merchant_users, db):
    client = login(merchant_users[role], tenant_a.schema_name)
    host = tenant_a.primary_host
    page = client.get("/console/payment-anomalies/", HTTP_HOST=host)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"t-door-dup-{store['paid_order']}" in html and "重复支付" in html
    assert "¥39.80" in html  # the amount in yuan
    assert "待提交" in html  # the automatic refund's status
    detail = client.get(f"/console/payment-anomalies/inspect/{store['anomaly']}/", HTTP_HOST=host)
    assert detail.status_code == 200
    for path in ("/console/payment-anomalies/edit/{}/", "/console/payment-anomalies/delete/{}/"):
        refused = client.post(path.format(store["anomaly"]), {"order_no": "x"}, HTTP_HOST=host)
        assert refused.status_code in (302, 403, 404)


@pytest.mark.parametrize("role", ["operations", "customer_service"])
def test_other_roles_do_not_see_the_anomalies_screen(role, tenant_a, store, merchant_users, db):
    client = login(merchant_users[role], tenant_a.schema_name, raise_errors=False)
    answer = client.get("/console/payment-anomalies/", HTTP_HOST=tenant_a.primary_host)
    assert answer.status_code in (302, 403)


def test_the_order_detail_warns_of_a_duplicate_payment_and_its_refund(tenant_a, store, merchant_users, db):
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    html = client.get(f"/console/orders/inspect/{store['paid_order']}/", HTTP_HOST=tenant_a.primary_host)
    html = html.content.decode()
    assert 'data-anomaly="duplicate_payment"' in html and "已自动退款" in html
    assert 'data-event="payment_anomaly"' in html
    unpaid = client.get(f"/console/orders/inspect/{store['order']}/", HTTP_HOST=tenant_a.primary_host)
    assert "data-payment-anomalies" not in unpaid.content.decode()
