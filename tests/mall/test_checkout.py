"""Checkout money and concurrency: shipping fees in fen (hypothesis) and the last units of a
SKU under 50 concurrent buyers (threads against PostgreSQL)."""

from __future__ import annotations

import threading

from django.core.exceptions import ValidationError
from django.db import connections
from django_tenants.utils import schema_context
from hypothesis import given, settings
from hypothesis import strategies as st

from mall.catalog.actions import create_product
from mall.catalog.models import Product, ProductSku, ShippingTemplate
from mall.catalog.shipping import template_fee
from mall.orders.actions import place_order
from mall.orders.models import Order
from tests.factories import CustomerFactory, home


@settings(max_examples=300, deadline=None)
@given(
    first_w=st.integers(1, 5000),
    extra_w=st.integers(1, 5000),
    first_fee=st.integers(0, 10_000),
    extra_fee=st.integers(0, 10_000),
    free_over=st.one_of(st.none(), st.integers(0, 100_000)),
    weight=st.integers(0, 100_000),
    goods=st.integers(0, 200_000),
)
def test_template_fee_is_exact_integer_fen(first_w, extra_w, first_fee, extra_fee, free_over, weight, goods):
    t = ShippingTemplate(
        name="t",
        free_over_fen=free_over,
        first_weight_g=first_w,
        first_fee_fen=first_fee,
        extra_weight_g=extra_w,
        extra_fee_fen=extra_fee,
    )
    t.pk = None
    fee = _fee_without_db(t, weight, goods)
    assert isinstance(fee, int) and fee >= 0
    if free_over is not None and goods >= free_over:
        assert fee == 0
    else:
        units = 0
        while first_w + units * extra_w < weight:
            units += 1
        assert fee == first_fee + units * extra_fee
        # one more gram never makes it cheaper
        assert _fee_without_db(t, weight + 1, goods) >= fee


def _fee_without_db(template, weight, goods):
    class NoRules:
        @staticmethod
        def all():
            return []

    template.__dict__["region_rules"] = NoRules  # an unsaved template has no region rules
    return template_fee(template, province="浙江省", weight_g=weight, goods_fen=goods)


def test_fifty_buyers_of_the_last_ten_units_make_exactly_ten_orders(tenant_a, committed):
    with schema_context(tenant_a.schema_name):
        product = create_product(
            title="最后十箱赣南脐橙",
            skus=[
                {"name": "10斤装", "price_fen": 6900, "stock": 10},
                {"name": "5斤装", "price_fen": 3900, "stock": 50},
            ],
        )
        sku = product.skus.get(name="10斤装")
        buyers = [CustomerFactory() for _ in range(50)]
        for b in buyers:
            home(b)
    outcomes: list[str] = []
    start = threading.Barrier(50)

    def buy(customer):
        try:
            start.wait()
            with schema_context(tenant_a.schema_name):
                place_order(customer=customer, address=customer.addresses.get(), skus=[(sku.pk, 1)])
            outcomes.append("ok")
        except ValidationError as exc:
            assert "库存不足" in str(exc), exc
            outcomes.append("sold out")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=(c,)) for c in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with schema_context(tenant_a.schema_name):
        assert outcomes.count("ok") == 10 and outcomes.count("sold out") == 40
        assert ProductSku.objects.get(pk=sku.pk).stock == 0
        assert ProductSku.objects.get(product=product, name="5斤装").stock == 50
        assert Product.objects.get(pk=product.pk).stock == 50  # the derived total follows
        assert Order.objects.filter(lines__sku=sku).count() == 10
