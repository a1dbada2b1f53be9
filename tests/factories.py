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

    @factory.post_generation
    def skus(obj, create, extracted, **kwargs):
        """One SKU with the product's price and stock (``skus=[{...}, …]`` for several)."""
        if not create:
            return
        from mall.catalog.actions import sync_product
        from mall.catalog.models import ProductSku

        for i, data in enumerate(extracted or [{"name": "默认", "price_fen": obj.price_fen, "stock": obj.stock}]):
            ProductSku.objects.create(product=obj, sort_order=i, **data)
        sync_product(product=obj)


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


def home(customer):
    """The shopper's default delivery address (made on first use, through the action)."""
    from mall.customers.actions import save_address
    from mall.customers.models import Address

    found = Address.objects.filter(customer=customer, is_default=True).first()
    return found or save_address(
        customer=customer,
        receiver="张三",
        phone="13900001111",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        detail="文三路 100 号 1 幢 101 室",
    )


def buyer():
    """A new shopper with a delivery address: ``place_order(**buyer(), items=…)``."""
    customer = CustomerFactory()
    return {"customer": customer, "address": home(customer)}
