import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django_tenants.utils import schema_context

from mall.catalog.models import Product
from mall.orders.actions import cancel_order, place_order, transition_order
from mall.orders.models import Order, OrderStatus
from mall.promoters.actions import make_promoter, uplines
from mall.promoters.rules import MAX_DISTRIBUTION_LEVELS
from tests.factories import CustomerFactory, ProductFactory, buyer, home


def test_place_order_takes_stock_and_totals_in_fen(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        a = ProductFactory(price_fen=1999, stock=5)
        b = ProductFactory(price_fen=1, stock=5)
        order = place_order(**buyer(), items=[(a.pk, 2), (b.pk, 3), (a.pk, 1)])
        assert order.total_fen == 1999 * 3 + 3
        assert order.status == OrderStatus.PENDING_PAYMENT
        a.refresh_from_db()
        assert a.stock == 2
        with pytest.raises(ValidationError) as err:
            cancel_order(order=order, reason="")
        assert "reason" in err.value.message_dict
        cancelled = cancel_order(order=order, reason="顾客不要了")
        assert cancelled.status == OrderStatus.CANCELLED
        a.refresh_from_db()
        assert a.stock == 5
        with pytest.raises(ValidationError):
            transition_order(order=cancelled, to=OrderStatus.PAID)


@pytest.mark.parametrize(
    "items",
    [[], [(1, 0)], [(1, -2)], [(1, 1000)]],
)
def test_bad_items_get_a_clear_error(tenant_a, db, items):
    with schema_context(tenant_a.schema_name):
        with pytest.raises(ValidationError) as err:
            place_order(**buyer(), items=items)
        assert "items" in err.value.message_dict


def test_out_of_stock_leaves_nothing_half_written(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        a = ProductFactory(stock=5)
        b = ProductFactory(stock=1)
        before = Order.objects.count()
        with pytest.raises(ValidationError) as err:
            place_order(**buyer(), items=[(a.pk, 2), (b.pk, 2)])
        assert "库存不足" in err.value.message_dict["items"][0]
        a.refresh_from_db()
        assert a.stock == 5
        assert Order.objects.count() == before


def test_concurrent_buyers_never_oversell(tenant_a, committed):
    with schema_context(tenant_a.schema_name):
        product = ProductFactory(stock=10)
        buyers = [CustomerFactory() for _ in range(16)]
    outcomes = []

    def buy(customer):
        try:
            with schema_context(tenant_a.schema_name):
                place_order(customer=customer, address=home(customer), items=[(product.pk, 1)])
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("sold out")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=(c,)) for c in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with schema_context(tenant_a.schema_name):
        assert outcomes.count("ok") == 10
        assert Product.objects.get(pk=product.pk).stock == 0
        assert Order.objects.filter(lines__product=product).count() == 10


def test_distribution_never_reaches_a_third_level(tenant_a, db):
    with schema_context(tenant_a.schema_name):
        top = make_promoter(customer=CustomerFactory())
        mid = make_promoter(customer=CustomerFactory(), invited_by=top)
        low = make_promoter(customer=CustomerFactory(), invited_by=mid)
        chain = uplines(low)
        assert len(chain) == MAX_DISTRIBUTION_LEVELS == 2
        assert chain == [low, mid]
        assert top not in chain
