from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from mall.customers.models import Address, Customer


def login_shopper(*, openid: str) -> Customer:
    """The shopper of this store with ``openid`` (created on first login)."""
    customer = Customer.objects.filter(openid=openid).first()
    if customer is not None:
        return customer
    try:
        with transaction.atomic():
            return Customer.objects.create(openid=openid)
    except IntegrityError:  # two first logins at once
        return Customer.objects.get(openid=openid)


def register_shopper(*, openid: str, nickname: str = "", phone: str = "") -> Customer:
    """A shopper known by name and phone (the demo seed's shoppers; a login fills them later)."""
    with transaction.atomic():
        customer = login_shopper(openid=openid)
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        customer.nickname = nickname or customer.nickname
        if phone:
            customer.phone = phone
        customer.save()
    return customer


MAX_ADDRESSES = 20


def save_address(
    *,
    customer: Customer,
    receiver: str,
    phone: str,
    province: str,
    city: str,
    district: str = "",
    detail: str,
    is_default: bool = False,
    address: Address | None = None,
) -> Address:
    """Add (or, with ``address``, change) a delivery address. Field-level errors in Chinese;
    the first address, or one marked default, becomes the only default."""
    from core import crypto

    receiver, province, city = (receiver or "").strip(), (province or "").strip(), (city or "").strip()
    district, detail = (district or "").strip(), (detail or "").strip()
    errors = {}
    if not 1 <= len(receiver) <= 20:
        errors["receiver"] = _("请填写收货人（最多 20 字）。")
    if not crypto.is_valid_phone(phone or ""):
        errors["phone"] = _("请填写正确的手机号。")
    if not 2 <= len(province) <= 20:
        errors["province"] = _("请选择省份。")
    if not 2 <= len(city) <= 30:
        errors["city"] = _("请选择城市。")
    if len(district) > 30:
        errors["district"] = _("区县最多 30 字。")
    if not 4 <= len(detail) <= 120:
        errors["detail"] = _("详细地址须为 4–120 字。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)  # one writer of this shopper's addresses
        if address is None:
            if Address.objects.filter(customer=customer).count() >= MAX_ADDRESSES:
                raise ValidationError({"address": _("最多保存 %(n)s 个地址。") % {"n": MAX_ADDRESSES}})
            address = Address(customer=customer)
        elif address.customer_id != customer.pk:
            raise ValidationError({"address": _("收货地址不存在。")})
        is_default = is_default or not Address.objects.filter(customer=customer).exclude(pk=address.pk).exists()
        address.receiver, address.phone = receiver, crypto.normalize_phone(phone)
        address.province, address.city, address.district, address.detail = province, city, district, detail
        address.is_default = is_default
        address.save()
        if is_default:
            Address.objects.filter(customer=customer, is_default=True).exclude(pk=address.pk).update(is_default=False)
    return address


def delete_address(*, customer: Customer, address_id: int) -> None:
    with transaction.atomic():
        address = Address.objects.select_for_update().filter(customer=customer, pk=address_id).first()
        if address is None:
            raise ValidationError({"address": _("收货地址不存在。")})
        was_default = address.is_default
        address.delete()
        if was_default:
            first = Address.objects.filter(customer=customer).order_by("-pk").first()
            if first is not None:
                Address.objects.filter(pk=first.pk).update(is_default=True)
