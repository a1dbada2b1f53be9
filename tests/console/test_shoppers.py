"""The merchant console's shopper screens (issue 10 items 2 and 8): the list (masked phone,
registration time, paid orders and spending annotated in SQL, tags; filters by tag and
registration date; search by nickname or a full phone number) and the detail page with its
tag buttons, which call the tag actions."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from mall.customers.actions import bind_phone, tag_customer
from mall.customers.models import Customer, CustomerTag, CustomerTagging, TagRule
from mall.orders.actions import place_order, record_payment
from tests.console.conftest import login
from tests.factories import CustomerFactory, ProductFactory, home


def _paid_order(customer, product, quantity=1):
    order = place_order(customer=customer, address=home(customer), items=[(product.pk, quantity)])
    record_payment(
        order_no=order.order_no,
        transaction_id=f"t-shop-{uuid.uuid4().hex}",
        amount_fen=order.total_fen,
        paid_at=timezone.now(),
    )
    return order


@pytest.fixture
def shoppers(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(price_fen=1990, stock=500)
        big = CustomerFactory(nickname="大客户甲")
        bind_phone(customer=big, phone="13566667777")
        for q in (1, 2):
            _paid_order(big, product, q)  # 19.90 + 39.80 (+ shipping, if any)
        place_order(customer=big, address=home(big), items=[(product.pk, 1)])  # unpaid: does not count
        small = CustomerFactory(nickname="小客户乙")
        vip = CustomerTag.objects.create(name="重要客户")
        CustomerTag.objects.create(name="待回访")
        CustomerTag.objects.create(name="常购客", rule=TagRule.FREQUENT_BUYER, rule_value=2)
        tag_customer(customer=big, tag=vip)
        from mall.customers.actions import recompute_rule_tags

        recompute_rule_tags()
        big = Customer.objects.get(pk=big.pk)
        from mall.orders.models import Order

        paid = sum(Order.objects.filter(customer=big, paid_at__isnull=False).values_list("paid_fen", flat=True))
        return {"big": big, "small": small, "vip": vip, "paid_fen": paid, "product": product}


@pytest.mark.parametrize("role", ["owner", "customer_service"])
def test_the_shopper_list_shows_phone_masked_spending_and_tags(role, tenant_a, shoppers, merchant_users):
    from core.money import format_yuan

    client = login(merchant_users[role], tenant_a.schema_name)
    page = client.get("/console/customers/", HTTP_HOST=tenant_a.primary_host)
    assert page.status_code == 200
    html = page.content.decode()
    assert "大客户甲" in html and "小客户乙" in html
    assert "135****7777" in html and "13566667777" not in html
    assert format_yuan(shoppers["paid_fen"]) in html
    assert "重要客户" in html and "常购客" in html
    for heading in ("手机号", "注册时间", "付款订单数", "累计消费", "标签"):
        assert heading in html


def test_search_by_full_phone_and_nickname_and_filters_by_tag_and_date(tenant_a, shoppers, merchant_users):
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    host = tenant_a.primary_host

    def names(**params) -> set[str]:
        r = client.get("/console/customers/", params, HTTP_HOST=host)
        assert r.status_code == 200
        html = r.content.decode()
        return {n for n in ("大客户甲", "小客户乙") if n in html}

    assert names(q="13566667777") == {"大客户甲"}
    assert names(q="135 6666 7777") == {"大客户甲"}
    assert names(q="+8613566667777") == {"大客户甲"}
    assert names(q="135666") == set()  # a partial number finds nobody (the phone is only indexed whole)
    assert names(q="小客户") == {"小客户乙"}
    assert names(tag=shoppers["vip"].pk) == {"大客户甲"}
    today = timezone.localdate()
    assert names(registered_at_from=str(today - dt.timedelta(days=1))) == {"大客户甲", "小客户乙"}
    assert names(registered_at_to=str(today - dt.timedelta(days=3))) == set()


def test_the_shopper_list_runs_the_same_statements_for_few_and_many_shoppers(
    tenant_a, shoppers, merchant_users, settings
):
    from tenants.selectors import forget_cached_tenants

    settings.TENANT_CACHE_SECONDS = 0  # every request resolves its host: counts do not depend on timing
    forget_cached_tenants()
    client = login(merchant_users["owner"], tenant_a.schema_name)

    def count() -> list[str]:
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/console/customers/", HTTP_HOST=tenant_a.primary_host)
        assert r.status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    count()  # warm-up (content types, menus)
    few = count()
    with schema_context(tenant_a.schema_name):
        vip = CustomerTag.objects.get(name="重要客户")
        for n in range(15):
            c = CustomerFactory(nickname=f"新顾客{n}")
            tag_customer(customer=c, tag=vip)
            _paid_order(c, shoppers["product"])
    many = count()
    assert len(few) == len(many), "\n".join(q for q in many if q not in few)


@pytest.mark.parametrize("role", ["owner", "customer_service"])
def test_the_shopper_detail_shows_profile_spending_orders_addresses_and_tags(role, tenant_a, shoppers, merchant_users):
    from core.money import format_yuan

    big = shoppers["big"]
    client = login(merchant_users[role], tenant_a.schema_name)
    page = client.get(f"/console/customers/inspect/{big.pk}/", HTTP_HOST=tenant_a.primary_host)
    assert page.status_code == 200
    html = page.content.decode()
    assert "大客户甲" in html and "135****7777" in html and "13566667777" not in html
    assert re.search(r"data-paid-orders>2<", html)
    assert format_yuan(shoppers["paid_fen"]) in html
    with schema_context(tenant_a.schema_name):
        orders = list(big.orders.all())
        address = big.addresses.get()
    assert len(orders) == 3
    for o in orders:
        assert f"/console/orders/inspect/{o.pk}/" in html
    assert address.masked_receiver in html and address.detail not in html  # masked
    assert 'data-tag="重要客户"' in html and 'data-tag="常购客"' in html
    assert 'data-untag="重要客户"' in html and 'data-untag="常购客"' not in html  # a rule tag has no button
    assert "待回访" in html and "data-add-tag" in html  # the manual tag it lacks can be added
    assert "常购客</option>" not in html  # rule tags cannot be given by hand


def test_the_tag_buttons_call_the_actions(tenant_a, shoppers, merchant_users):
    small, vip = shoppers["small"], shoppers["vip"]
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    host = tenant_a.primary_host
    added = client.post(f"/console/customers/tag/{small.pk}/", {"tag": vip.pk}, HTTP_HOST=host, follow=True)
    assert added.status_code == 200 and "已添加标签" in added.content.decode()
    with schema_context(tenant_a.schema_name):
        assert CustomerTagging.objects.get(customer=small, tag=vip).by_rule is False
        rule = CustomerTag.objects.get(name="常购客")
    refused = client.post(f"/console/customers/tag/{small.pk}/", {"tag": rule.pk}, HTTP_HOST=host, follow=True)
    assert "规则标签" in refused.content.decode()
    client.post(f"/console/customers/tag/{small.pk}/", {}, HTTP_HOST=host)  # no tag: nothing happens
    removed = client.post(f"/console/customers/untag/{small.pk}/", {"tag": vip.pk}, HTTP_HOST=host, follow=True)
    assert "已移除标签" in removed.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not CustomerTagging.objects.filter(customer=small).exists()
    assert client.get(f"/console/customers/tag/{small.pk}/", HTTP_HOST=host).status_code == 405


@pytest.mark.parametrize("role", ["operations", "finance"])
def test_other_roles_see_no_shoppers_and_cannot_tag(role, tenant_a, shoppers, merchant_users):
    small, vip = shoppers["small"], shoppers["vip"]
    client = login(merchant_users[role], tenant_a.schema_name, raise_errors=False)
    host = tenant_a.primary_host
    listing = client.get("/console/customers/", HTTP_HOST=host)
    assert listing.status_code in (302, 403)
    r = client.post(f"/console/customers/tag/{small.pk}/", {"tag": vip.pk}, HTTP_HOST=host)
    assert r.status_code in (302, 403)
    with schema_context(tenant_a.schema_name):
        assert not CustomerTagging.objects.filter(customer=small).exists()


def test_the_shopper_screens_refuse_generic_edit_and_delete(tenant_a, shoppers, merchant_users):
    big = shoppers["big"]
    client = login(merchant_users["owner"], tenant_a.schema_name, raise_errors=False)
    host = tenant_a.primary_host
    for url in (f"/console/customers/edit/{big.pk}/", f"/console/customers/delete/{big.pk}/"):
        r = client.post(url, {"nickname": "改名"}, HTTP_HOST=host)
        assert r.status_code in (302, 403, 404)
    with schema_context(tenant_a.schema_name):
        assert Customer.objects.get(pk=big.pk).nickname == "大客户甲"


def test_the_tag_screen_lists_tags_with_their_holder_count(tenant_a, shoppers, merchant_users):
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    page = client.get("/console/customer-tags/", HTTP_HOST=tenant_a.primary_host)
    assert page.status_code == 200
    html = page.content.decode()
    assert "重要客户" in html and "近 90 天付款订单数" in html
    created = client.post(
        "/console/customer-tags/new/",
        {"name": "生日月", "rule": "", "rule_value": "3"},
        HTTP_HOST=tenant_a.primary_host,
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    with schema_context(tenant_a.schema_name):
        assert CustomerTag.objects.filter(name="生日月", rule="").exists()
