from __future__ import annotations

from django.db import connection
from django_tenants.utils import schema_context

from mall.orders.actions import place_order
from tests.factories import ProductFactory, buyer


def make_order(tenant, *, price_fen: int = 1990, quantity: int = 1):
    with schema_context(tenant.schema_name):
        product = ProductFactory(price_fen=price_fen, stock=1000)
        order = place_order(**buyer(), items=[(product.pk, quantity)])
    connection.set_schema_to_public()
    return order


def reload(tenant, model, **lookup):
    with schema_context(tenant.schema_name):
        obj = model.objects.filter(**lookup).first()
    connection.set_schema_to_public()
    return obj


def count(tenant, model, **lookup) -> int:
    with schema_context(tenant.schema_name):
        n = model.objects.filter(**lookup).count()
    connection.set_schema_to_public()
    return n
