"""The merchant console's order screens (issue 10 point 8 for orders, the merchant half of point 4):
the list's filters, search, flags and query count; the detail page for every role that has it;
改价 and 核销 through their actions; the streamed XLSX exports of orders and products."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.console.conftest import login
from tests.factories import CategoryFactory, CustomerFactory, ProductFactory, buyer, home, pay

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _get(client, tenant, url, **params):
    return client.get(url, params, HTTP_HOST=tenant.primary_host)


def _post(client, tenant, url, data):
    return client.post(url, data, HTTP_HOST=tenant.primary_host)


def _refused(response) -> bool:
    return response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/console/")


@pytest.fixture
def shop(tenant_a, db):
    """Orders of every kind the list tells apart, made through the actions."""
    from mall.orders.actions import cancel_order, place_order, transition_order
    from mall.orders.models import Order, OrderStatus
    from mall.payments.actions import request_refund
    from mall.promoters.actions import make_promoter

    with schema_context(tenant_a.schema_name):
        fruit = CategoryFactory(name="水果")
        apples = CategoryFactory(name="苹果", parent=fruit)
        tea = CategoryFactory(name="茶叶")
        apple = ProductFactory(category=apples, price_fen=3990, stock=100)
        green = ProductFactory(category=tea, price_fen=1000, stock=100)
        promoter = make_promoter(customer=CustomerFactory(nickname="推广小李"))
        alice = CustomerFactory(nickname="爱丽丝")
        unpaid = place_order(customer=alice, address=home(alice), items=[(apple.pk, 1)], promoter=promoter)
        paid = pay(place_order(**buyer(), items=[(green.pk, 2)]))
        refunding = pay(place_order(**buyer(), items=[(green.pk, 1)]))
        request_refund(order=refunding, amount_fen=500, reason="少发一件")
        shipped = transition_order(order=pay(place_order(**buyer(), items=[(apple.pk, 1)])), to=OrderStatus.SHIPPED)
        cancelled = cancel_order(order=place_order(**buyer(), items=[(green.pk, 1)]), reason="顾客不要了")
        old = place_order(**buyer(), items=[(green.pk, 1)])
        Order.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=40))
        return {
            "fruit": fruit.pk,
            "tea": tea.pk,
            "promoter": promoter.pk,
            "unpaid": unpaid.order_no,
            "paid": paid.order_no,
            "refunding": refunding.order_no,
            "shipped": shipped.order_no,
            "cancelled": cancelled.order_no,
            "old": old.order_no,
            "unpaid_pk": unpaid.pk,
            "paid_pk": paid.pk,
        }


def _listed(response, shop) -> set[str]:
    assert response.status_code == 200
    html = response.content.decode()
    return {name for name in ("unpaid", "paid", "refunding", "shipped", "cancelled", "old") if shop[name] in html}


def test_order_list_filters_by_status_date_category_promoter_and_flags(tenant_a, shop, merchant_users, db):
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    url = "/console/orders/"
    assert _listed(_get(client, tenant_a, url), shop) == {"unpaid", "paid", "refunding", "shipped", "cancelled", "old"}
    assert _listed(_get(client, tenant_a, url, status="paid"), shop) == {"paid", "refunding"}
    assert _listed(_get(client, tenant_a, url, status="cancelled"), shop) == {"cancelled"}
    today = timezone.localdate()
    recent = _get(client, tenant_a, url, created_from=(today - timedelta(days=7)).isoformat())
    assert _listed(recent, shop) == {"unpaid", "paid", "refunding", "shipped", "cancelled"}
    long_ago = _get(client, tenant_a, url, created_to=(today - timedelta(days=30)).isoformat())
    assert _listed(long_ago, shop) == {"old"}
    # a top-level category takes in its sub-categories (苹果 under 水果)
    assert _listed(_get(client, tenant_a, url, category=shop["fruit"]), shop) == {"unpaid", "shipped"}
    assert _listed(_get(client, tenant_a, url, category=shop["tea"]), shop) == {
        "paid",
        "refunding",
        "cancelled",
        "old",
    }
    assert _listed(_get(client, tenant_a, url, promoter=shop["promoter"]), shop) == {"unpaid"}
    assert _listed(_get(client, tenant_a, url, after_sales="true"), shop) == {"refunding"}
    assert _listed(_get(client, tenant_a, url, no_real_track="true"), shop) == {"shipped"}


def test_order_list_searches_order_number_and_nickname_and_shows_flags(tenant_a, shop, merchant_users, db):
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    assert _listed(_get(client, tenant_a, "/console/orders/", q=shop["paid"]), shop) == {"paid"}
    assert _listed(_get(client, tenant_a, "/console/orders/", q="爱丽丝"), shop) == {"unpaid"}
    html = _get(client, tenant_a, "/console/orders/").content.decode()
    assert "售后中" in html and "无真实物流" in html
    assert "推广小李" in html  # the promoter column
    assert "¥39.90" in html  # the total, in yuan


def test_order_list_runs_the_same_statements_for_1_and_20_orders(tenant_a, merchant_users, db, settings):
    from mall.orders.actions import place_order, transition_order
    from tenants.selectors import forget_cached_tenants

    # Host → tenant not cached: every request counts its lookup (an entry kept by an earlier
    # request would hide it from one of the two counts).
    settings.TENANT_CACHE_SECONDS = 0
    forget_cached_tenants()
    from mall.orders.models import OrderStatus
    from mall.payments.actions import request_refund
    from mall.promoters.actions import make_promoter

    client = login(merchant_users["owner"], tenant_a.schema_name)

    def make(n):
        with schema_context(tenant_a.schema_name):
            product = ProductFactory(stock=1000)
            for i in range(n):
                promoter = make_promoter(customer=CustomerFactory())
                order = pay(place_order(**buyer(), items=[(product.pk, 1)], promoter=promoter))
                if i % 2:
                    transition_order(order=order, to=OrderStatus.SHIPPED)
                else:
                    request_refund(order=order, amount_fen=100, reason="质量问题")

    def count():
        _get(client, tenant_a, "/console/orders/")  # warm: menus, permissions
        connection.set_schema_to_public()
        with CaptureQueriesContext(connection) as ctx:
            response = _get(client, tenant_a, "/console/orders/")
        assert response.status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    make(1)
    one = count()
    make(19)
    many = count()
    assert len(one) == len(many), "\n".join(many)


@pytest.mark.parametrize("role", ["owner", "customer_service", "finance"])
def test_order_detail_renders_for_every_role_with_the_screen(role, tenant_a, shop, merchant_users, db):
    client = login(merchant_users[role], tenant_a.schema_name)
    response = _get(client, tenant_a, f"/console/orders/inspect/{shop['unpaid_pk']}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert shop["unpaid"] in html
    assert "data-shipments" in html  # the parcels section (none yet: the order is unpaid)
    assert 'data-slot="after-sales"' in html  # the refund history
    assert "商品金额" in html and "运费" in html and "应付金额" in html
    assert "张*" in html and "139****1111" in html
    assert ('data-action="adjust"' in html) == (role != "finance")  # finance reads, does not re-price


def test_adjusting_the_price_needs_a_reason_and_writes_the_timeline(tenant_a, shop, merchant_users, db):
    from mall.orders.models import Order, OrderEvent

    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    url = f"/console/orders/adjust/{shop['unpaid_pk']}/"
    missing = _post(client, tenant_a, url, {"new_total_fen": "30.00", "reason": ""})
    assert missing.status_code == 400 and "请填写改价原因。" in missing.content.decode()
    bad = _post(client, tenant_a, url, {"new_total_fen": "0", "reason": "老客优惠"})
    assert bad.status_code == 400 and "金额不能低于 ¥0.01。" in bad.content.decode()
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=shop["unpaid_pk"]).adjust_fen == 0
    done = _post(client, tenant_a, url, {"new_total_fen": "30.00", "reason": "老客优惠"})
    assert done.status_code == 302
    with schema_context(tenant_a.schema_name):
        order = Order.objects.get(pk=shop["unpaid_pk"])
        assert order.total_fen == 3000 == order.goods_fen + order.shipping_fen + order.adjust_fen
        assert order.adjust_fen == 3000 - order.goods_fen - order.shipping_fen < 0
        event = OrderEvent.objects.filter(order=order, kind="price_changed").get()
        assert "¥30.00" in event.note and "老客优惠" in event.note and event.actor_id is not None
    detail = _get(client, tenant_a, f"/console/orders/inspect/{shop['unpaid_pk']}/").content.decode()
    assert 'data-event="price_changed"' in detail and "data-adjust" in detail


def test_a_paid_order_cannot_be_repriced(tenant_a, shop, merchant_users, db):
    from mall.orders.actions import adjust_order_price
    from mall.orders.models import Order

    with schema_context(tenant_a.schema_name):
        paid = Order.objects.get(pk=shop["paid_pk"])
        with pytest.raises(ValidationError) as err:
            adjust_order_price(order=paid, new_total_fen=1, reason="想改")
        assert err.value.error_dict["status"][0].code == "not_adjustable"
    client = login(merchant_users["owner"], tenant_a.schema_name)
    response = _post(client, tenant_a, f"/console/orders/adjust/{paid.pk}/", {"new_total_fen": "1", "reason": "想改"})
    assert response.status_code == 400 and "只有待付款的订单可以改价" in response.content.decode()
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=paid.pk).total_fen == paid.total_fen


@pytest.mark.parametrize("role", ["operations", "finance"])
def test_only_customer_service_and_the_owner_adjust_and_redeem(role, tenant_a, shop, merchant_users, db):
    from mall.orders.models import Order

    client = login(merchant_users[role], tenant_a.schema_name)
    url = f"/console/orders/adjust/{shop['unpaid_pk']}/"
    assert _refused(_post(client, tenant_a, url, {"new_total_fen": "1.00", "reason": "内部价"}))
    assert _refused(_get(client, tenant_a, "/console/orders/redeem/"))
    with schema_context(tenant_a.schema_name):
        assert Order.objects.get(pk=shop["unpaid_pk"]).adjust_fen == 0


@given(new_total=st.integers(min_value=1, max_value=10**8))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_new_price_always_adds_up(tenant_a, db, new_total):
    from mall.orders.actions import adjust_order_price, place_order
    from mall.orders.models import Order

    with schema_context(tenant_a.schema_name):
        order = Order.objects.filter(status="pending_payment").first()
        if order is None:
            order = place_order(**buyer(), items=[(ProductFactory(price_fen=3990).pk, 3)])
        if order.total_fen == new_total:
            return
        changed = adjust_order_price(order=order, new_total_fen=new_total, reason="改价测试")
        assert changed.total_fen == new_total == changed.goods_fen + changed.shipping_fen + changed.adjust_fen
        assert Order.objects.get(pk=order.pk).total_fen == new_total


def _service_order(*, with_goods=False):
    from mall.catalog.models import ProductKind
    from mall.orders.actions import place_order

    ticket = ProductFactory(kind=ProductKind.SERVICE, price_fen=12000, stock=10)
    skus = [(ticket.skus.get().pk, 1)]
    kwargs = buyer()
    if with_goods:
        skus.append((ProductFactory(price_fen=990).skus.get().pk, 1))
    else:
        kwargs.pop("address")
    return pay(place_order(**kwargs, skus=skus))


def test_redeeming_a_service_order_completes_it(tenant_a, merchant_users, db):
    from mall.orders.models import Order, OrderStatus

    with schema_context(tenant_a.schema_name):
        order = _service_order()
        assert order.verify_code and order.status == OrderStatus.PAID
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    screen = _get(client, tenant_a, "/console/orders/redeem/")
    assert screen.status_code == 200 and "核销码" in screen.content.decode()
    typed = f" {order.verify_code[:5]}-{order.verify_code[5:]} "  # a person types spaces and dashes
    done = _post(client, tenant_a, "/console/orders/redeem/", {"code": typed})
    assert done.status_code == 302
    page = client.get(done["Location"], HTTP_HOST=tenant_a.primary_host).content.decode()
    assert "核销成功" in page and order.order_no in page
    with schema_context(tenant_a.schema_name):
        order = Order.objects.get(pk=order.pk)
        assert order.status == OrderStatus.COMPLETED and order.redeemed_at and order.completed_at
        event = order.events.get(kind="redeemed")
        assert (event.from_status, event.to_status) == ("paid", "completed") and event.actor_id
    again = _post(client, tenant_a, "/console/orders/redeem/", {"code": order.verify_code})
    assert again.status_code == 400 and "已于" in again.content.decode()


def test_a_wrong_or_missing_code_is_a_field_error(tenant_a, merchant_users, db):
    client = login(merchant_users["owner"], tenant_a.schema_name)
    wrong = _post(client, tenant_a, "/console/orders/redeem/", {"code": "0000000001"})
    assert wrong.status_code == 400 and "核销码无效，请核对后重试。" in wrong.content.decode()
    empty = _post(client, tenant_a, "/console/orders/redeem/", {"code": ""})
    assert empty.status_code == 400 and "请输入核销码。" in empty.content.decode()


def test_another_stores_code_never_matches(tenant_a, tenant_b, merchant_users, db):
    from mall.orders.models import Order, OrderStatus

    with schema_context(tenant_b.schema_name):
        theirs = _service_order()
    client = login(merchant_users["owner"], tenant_a.schema_name)
    response = _post(client, tenant_a, "/console/orders/redeem/", {"code": theirs.verify_code})
    assert response.status_code == 400 and "核销码无效" in response.content.decode()
    with schema_context(tenant_b.schema_name):
        theirs = Order.objects.get(pk=theirs.pk)
        assert theirs.status == OrderStatus.PAID and theirs.redeemed_at is None


def test_a_mixed_order_is_redeemed_but_completes_through_its_goods(tenant_a, db):
    from mall.orders.actions import redeem_order, transition_order
    from mall.orders.models import OrderStatus

    with schema_context(tenant_a.schema_name):
        order = _service_order(with_goods=True)
        assert order.has_physical and order.has_service
        with pytest.raises(ValidationError) as err:
            transition_order(order=order, to=OrderStatus.COMPLETED)  # goods are shipped first
        assert err.value.error_dict["status"][0].code == "ship_first"
        redeemed = redeem_order(order_or_code=order.verify_code)
        assert redeemed.status == OrderStatus.PAID and redeemed.redeemed_at is not None
        event = redeemed.events.get(kind="redeemed")
        assert (event.from_status, event.to_status) == ("", "")
        shipped = transition_order(order=redeemed, to=OrderStatus.SHIPPED)
        assert transition_order(order=shipped, to=OrderStatus.COMPLETED).status == OrderStatus.COMPLETED


def test_an_unpaid_or_refunding_service_order_is_not_redeemed(tenant_a, db):
    from mall.orders.actions import redeem_order
    from mall.payments.actions import request_refund

    with schema_context(tenant_a.schema_name):
        order = _service_order()
        request_refund(order=order, amount_fen=100, reason="行程取消")
        with pytest.raises(ValidationError) as err:
            redeem_order(order_or_code=order.verify_code)
        assert err.value.error_dict["code"][0].code == "after_sales_open"


# --- exports -----------------------------------------------------------------------------------


def _workbook(response):
    from openpyxl import load_workbook

    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(data), read_only=True).active


def test_order_export_follows_the_filters_with_yuan_local_times_and_masked_phones(tenant_a, shop, merchant_users, db):
    from mall.orders.models import Order

    client = login(merchant_users["finance"], tenant_a.schema_name)
    sheet = _workbook(_get(client, tenant_a, "/console/orders/", status="paid", export="xlsx"))
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "订单号" and "应付金额（元）" in header and "下单时间" in header
    col = {name: i for i, name in enumerate(header)}
    assert {r[0] for r in body} == {shop["paid"], shop["refunding"]}
    with schema_context(tenant_a.schema_name):
        paid = Order.objects.get(order_no=shop["paid"])
    row = next(r for r in body if r[0] == shop["paid"])
    assert Decimal(str(row[col["应付金额（元）"]])) == Decimal(paid.total_fen) / 100
    assert row[col["收货手机"]] == "139****1111" and row[col["收货人"]] == "张*"
    assert row[col["状态"]] == "待发货"
    local = timezone.localtime(paid.created, timezone.get_fixed_timezone(8 * 60)).replace(tzinfo=None, microsecond=0)
    assert row[col["下单时间"]] == local  # Asia/Shanghai, no time zone in the cell
    refunding = next(r for r in body if r[0] == shop["refunding"])
    assert refunding[col["售后与物流"]] == "售后中"
    everything = _workbook(_get(client, tenant_a, "/console/orders/", export="xlsx"))
    assert len(list(everything.iter_rows(values_only=True))) == 1 + 6


@pytest.mark.parametrize("role", ["operations"])
def test_order_export_is_refused_without_the_permission(role, tenant_a, shop, merchant_users, db):
    client = login(merchant_users[role], tenant_a.schema_name)
    assert _refused(_get(client, tenant_a, "/console/orders/", export="xlsx"))


def test_the_export_button_carries_the_filters(tenant_a, shop, merchant_users, db):
    client = login(merchant_users["customer_service"], tenant_a.schema_name)
    html = _get(client, tenant_a, "/console/orders/", status="paid").content.decode()
    assert "导出 Excel" in html and "status=paid&amp;export=xlsx" in html


def test_product_export_has_one_row_per_sku(tenant_a, merchant_users, db):
    with schema_context(tenant_a.schema_name):
        ProductFactory(
            title="富士苹果",
            skus=[
                {"name": "5斤装", "price_fen": 3990, "stock": 7, "code": "APL-5"},
                {"name": "10斤装", "price_fen": 6990, "stock": 3, "code": "APL-10"},
            ],
        )
        ProductFactory(title="龙井", on_shelf=False)
    client = login(merchant_users["operations"], tenant_a.schema_name)
    sheet = _workbook(_get(client, tenant_a, "/console/catalog/products/", export="xlsx"))
    rows = list(sheet.iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(rows[0])}
    apples = sorted((r for r in rows[1:] if r[col["商品名称"]] == "富士苹果"), key=lambda r: r[col["规格编码"]])
    assert [(r[col["规格"]], r[col["规格编码"]], r[col["规格库存"]]) for r in apples] == [
        ("10斤装", "APL-10", 3),
        ("5斤装", "APL-5", 7),
    ]
    assert Decimal(str(apples[1][col["价格（元）"]])) == Decimal("39.90")
    on_shelf = _workbook(_get(client, tenant_a, "/console/catalog/products/", on_shelf="true", export="xlsx"))
    titles = {r[col["商品名称"]] for r in list(on_shelf.iter_rows(values_only=True))[1:]}
    assert "富士苹果" in titles and "龙井" not in titles
    refused = login(merchant_users["finance"], tenant_a.schema_name)
    assert _refused(_get(refused, tenant_a, "/console/catalog/products/", export="xlsx"))
