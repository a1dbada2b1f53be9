"""factory_boy factories; call them inside the tenant's schema (``in_tenant``)."""

import uuid

import factory

from mall.catalog.models import Category, Product
from mall.customers.models import Customer


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"分类{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    title = factory.Sequence(lambda n: f"测试商品{n}")
    price_fen = 1990
    stock = 100


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    openid = factory.LazyFunction(lambda: f"openid-{uuid.uuid4().hex}")
    nickname = factory.Sequence(lambda n: f"顾客{n}")


def pay(order):
    """Pay ``order`` the only way an order becomes paid: a recorded payment (as WeChat's notify does)."""
    import uuid

    from django.utils import timezone

    from mall.orders.actions import record_payment

    record_payment(
        order_no=order.order_no,
        transaction_id=f"t-{uuid.uuid4().hex}",
        amount_fen=order.total_fen,
        paid_at=timezone.now(),
    )
    order.refresh_from_db()
    return order
