"""The shopper's server-side cart (one row per SKU). Prices are never kept here: the cart
shows the SKU's current price and the checkout computes the order on the server."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from mall.catalog.models import ProductSku
from mall.customers.models import Customer
from mall.orders.models import CartItem

MAX_CART_ITEMS = 100
MAX_QUANTITY = 999


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError({"quantity": _("数量须为 1–%(max)s。") % {"max": MAX_QUANTITY}})


def _sellable(sku_id: int) -> ProductSku:
    sku = ProductSku.objects.select_related("product").filter(pk=sku_id).first()
    if sku is None or not sku.is_active or not sku.product.on_shelf:
        raise ValidationError({"sku_id": _("商品规格不存在或已下架。")})
    return sku


def add_to_cart(*, customer: Customer, sku_id: int, quantity: int = 1) -> CartItem:
    """Put ``quantity`` more of a SKU in the cart (capped by its stock)."""
    _check_quantity(quantity)
    sku = _sellable(sku_id)
    with transaction.atomic():
        Customer.objects.select_for_update().only("pk").get(pk=customer.pk)  # one cart writer at a time
        item = CartItem.objects.filter(customer=customer, sku=sku).first()
        total = (item.quantity if item else 0) + quantity
        if total > MAX_QUANTITY:
            raise ValidationError({"quantity": _("数量须为 1–%(max)s。") % {"max": MAX_QUANTITY}})
        if total > sku.stock:
            raise ValidationError({"quantity": _("库存不足（剩余 %(stock)s）。") % {"stock": sku.stock}})
        if item is None:
            if CartItem.objects.filter(customer=customer).count() >= MAX_CART_ITEMS:
                raise ValidationError({"sku_id": _("购物车最多 %(n)s 种商品。") % {"n": MAX_CART_ITEMS}})
            return CartItem.objects.create(customer=customer, sku=sku, quantity=quantity)
        CartItem.objects.filter(pk=item.pk).update(quantity=F("quantity") + quantity)
        item.refresh_from_db()
        return item


def set_cart_quantity(*, customer: Customer, sku_id: int, quantity: int) -> CartItem:
    _check_quantity(quantity)
    with transaction.atomic():
        item = CartItem.objects.select_for_update().filter(customer=customer, sku_id=sku_id).first()
        if item is None:
            raise ValidationError({"sku_id": _("购物车里没有这个规格。")})
        sku = ProductSku.objects.get(pk=sku_id)
        if quantity > sku.stock:
            raise ValidationError({"quantity": _("库存不足（剩余 %(stock)s）。") % {"stock": sku.stock}})
        item.quantity = quantity
        item.save(update_fields=["quantity"])
        return item


def remove_from_cart(*, customer: Customer, sku_id: int) -> None:
    with transaction.atomic():
        deleted, _rows = CartItem.objects.filter(customer=customer, sku_id=sku_id).delete()
        if not deleted:
            raise ValidationError({"sku_id": _("购物车里没有这个规格。")})
