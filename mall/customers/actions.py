from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.customers.models import Address, Customer, CustomerTag, CustomerTagging, TagRule

log = logging.getLogger(__name__)


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


# -- H5 phone login ---------------------------------------------------------------------------------

LOGIN_CODE_TTL = dt.timedelta(minutes=5)
LOGIN_CODE_MAX_TRIES = 5


def _login_code_hash(phone: str, code: str) -> str:
    import hashlib
    import hmac

    from django.conf import settings

    return hmac.new(settings.FIELD_HASH_KEY.encode(), f"shopper:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _clean_phone(phone: str) -> str:
    from core import crypto

    phone = crypto.normalize_phone(phone or "")
    if not crypto.is_valid_phone(phone):
        raise ValidationError({"phone": ValidationError(_("请输入正确的 11 位手机号。"), code="invalid")})
    return phone


def send_login_code(*, phone: str, ip: str, store_name: str) -> None:
    """Text a 6-digit login code for the H5 storefront. Limits: one a minute and ten a day per
    phone, twenty an hour per IP (per store: the cache keys carry the schema). The answer is the
    same whether or not the number is a shopper here (a new number becomes one on login)."""
    import secrets

    from django.conf import settings

    from core import crypto, ratelimit
    from integrations.sms import queue_sms
    from mall.customers.models import ShopperLoginCode

    phone = _clean_phone(phone)
    index = crypto.blind_index(phone)
    if not ratelimit.hit(f"shopper-sms:ip:{ip}", limit=settings.SMS_LIMIT_PER_IP_HOUR, window=3600):
        raise ValidationError({"phone": ValidationError(_("发送太频繁，请一小时后再试。"), code="rate_ip")})
    if not ratelimit.hit(f"shopper-sms:min:{index}", limit=1, window=60):
        raise ValidationError({"phone": ValidationError(_("验证码已发送，请 60 秒后再试。"), code="rate_minute")})
    if not ratelimit.hit(f"shopper-sms:day:{index}", limit=settings.SMS_LIMIT_PER_PHONE_DAY, window=86400):
        raise ValidationError({"phone": ValidationError(_("今天的验证码次数已用完。"), code="rate_day")})
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        ShopperLoginCode.objects.filter(phone_index=index, used_at__isnull=True).update(used_at=timezone.now())
        ShopperLoginCode.objects.create(
            phone_index=index, code_hash=_login_code_hash(phone, code), expires_at=timezone.now() + LOGIN_CODE_TTL
        )
        queue_sms(
            phone=phone,
            text=f"【{store_name}】登录验证码 {code}，5 分钟内有效，请勿告诉他人。",
            kind="shopper_login",
        )


def login_with_phone(*, phone: str, code: str, ip: str | None = None) -> tuple[Customer, bool]:
    """The H5 login: a valid code logs in the shopper holding that phone — the same shopper as
    in the mini-program once it bound the number there — or creates one. Returns (shopper, new)."""
    import hmac

    from django.conf import settings

    from core import crypto, ratelimit
    from mall.customers.models import ShopperLoginCode

    phone = _clean_phone(phone)
    if ip is not None and not ratelimit.hit(
        f"shopper-sms:verify:ip:{ip}", limit=settings.SMS_VERIFY_LIMIT_PER_IP_HOUR, window=3600
    ):
        raise ValidationError({"code": ValidationError(_("尝试太频繁，请一小时后再试。"), code="rate_ip")})
    index = crypto.blind_index(phone)
    with transaction.atomic():
        sms = (
            ShopperLoginCode.objects.select_for_update()
            .filter(phone_index=index, used_at__isnull=True)
            .order_by("-created")
            .first()
        )
        if sms is None:
            raise ValidationError({"code": ValidationError(_("请先获取验证码。"), code="missing")})
        if sms.expires_at <= timezone.now():
            raise ValidationError({"code": ValidationError(_("验证码已过期，请重新获取。"), code="expired")})
        tries = f"shopper-sms:tries:{sms.code_hash[:32]}"
        if ratelimit.count(tries) >= LOGIN_CODE_MAX_TRIES:
            raise ValidationError({"code": ValidationError(_("错误次数过多，请重新获取验证码。"), code="locked")})
        if not hmac.compare_digest(sms.code_hash, _login_code_hash(phone, (code or "").strip())):
            ratelimit.hit(tries, limit=LOGIN_CODE_MAX_TRIES, window=int(LOGIN_CODE_TTL.total_seconds()))
            raise ValidationError({"code": ValidationError(_("验证码不正确。"), code="wrong")})
        sms.used_at = timezone.now()
        sms.save(update_fields=["used_at"])
        customer = Customer.objects.select_for_update().filter(phone_index=index).order_by("pk").first()
        if customer is not None:
            return customer, False
        customer = Customer(openid=None, phone=phone, phone_bound_at=timezone.now())
        customer.save()
        return customer, True


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


# -- profile and phone ----------------------------------------------------------------------------

NICKNAME_MAX = 64
AVATAR_URL_MAX = 200


def update_profile(*, customer: Customer, nickname: str | None = None, avatar_url: str | None = None) -> Customer:
    """Change the shopper's own nickname and/or avatar (``None`` leaves a field as it is)."""
    errors = {}
    if nickname is not None:
        nickname = nickname.strip()
        if not 1 <= len(nickname) <= NICKNAME_MAX:
            errors["nickname"] = _("昵称须为 1–%(n)s 个字。") % {"n": NICKNAME_MAX}
    if avatar_url is not None:
        avatar_url = avatar_url.strip()
        if avatar_url:
            try:
                URLValidator(schemes=["https", "http"])(avatar_url)
            except ValidationError:
                errors["avatar_url"] = _("头像地址须为 http(s) 链接。")
            else:
                if len(avatar_url) > AVATAR_URL_MAX:
                    errors["avatar_url"] = _("头像地址最长 %(n)s 个字符。") % {"n": AVATAR_URL_MAX}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        fields = []
        if nickname is not None:
            customer.nickname = nickname
            fields.append("nickname")
        if avatar_url is not None:
            customer.avatar_url = avatar_url
            fields.append("avatar_url")
        if fields:
            customer.save(update_fields=fields)
    return customer


def bind_phone(*, customer: Customer, phone: str) -> Customer:
    """Bind (or re-bind) the shopper's mobile number, as WeChat's getPhoneNumber reported it.
    Stored normalised and encrypted (``PhoneNumberMixin``), with its blind index; shown masked."""
    from core import crypto

    if not crypto.is_valid_phone(phone or ""):
        raise ValidationError({"phone": _("请填写正确的手机号。")})
    phone = crypto.normalize_phone(phone)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        holder = (
            Customer.objects.select_for_update()
            .filter(phone_index=crypto.blind_index(phone))
            .exclude(pk=customer.pk)
            .order_by("pk")
            .first()
        )
        if holder is not None:
            return _join_phone_holder(customer=customer, holder=holder)
        customer.phone = phone
        customer.phone_bound_at = timezone.now()
        customer.save()  # PhoneNumberMixin.save normalises, encrypts and indexes
    return customer


def _join_phone_holder(*, customer: Customer, holder: Customer) -> Customer:
    """One shopper per phone across the mini-program and the H5: the number belongs to a shopper
    who so far logged in only on the H5. When the mini-program account binding it is still empty
    (no order, not a promoter), its openid moves to that shopper, who is returned (the caller
    issues a new session); otherwise the number stays where it is and the bind is refused."""
    from mall.orders.models import Order
    from mall.promoters.models import Promoter

    if holder.openid:
        raise ValidationError({"phone": _("该手机号已绑定本店的另一个微信账号。")})
    if Order.objects.filter(customer=customer).exists() or Promoter.objects.filter(customer=customer).exists():
        raise ValidationError({"phone": _("该手机号已在 H5 商城注册，且当前微信账号已有订单，无法合并，请联系客服。")})
    openid = customer.openid
    customer.openid = None
    customer.save(update_fields=["openid"])
    holder.openid = openid
    if not holder.nickname and customer.nickname:
        holder.nickname = customer.nickname
    if not holder.avatar_url and customer.avatar_url:
        holder.avatar_url = customer.avatar_url
    holder.save()
    log.info("shopper %s: mini-program account %s joined by phone", holder.pk, customer.pk)
    return holder


# -- tags -------------------------------------------------------------------------------------------

FREQUENT_BUYER_DAYS = 90


def _manual_tag(tag: CustomerTag) -> CustomerTag:
    if tag.rule:
        raise ValidationError({"tag": _("“%(tag)s”是规则标签，由系统按规则自动计算。") % {"tag": tag.name}})
    return tag


def tag_customer(*, customer: Customer, tag: CustomerTag, actor=None) -> CustomerTagging:
    """Give the shopper a manual tag (idempotent). Rule tags are the rule's alone."""
    _manual_tag(tag)
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        tagging, created = CustomerTagging.objects.get_or_create(
            customer=customer, tag=tag, defaults={"by_rule": False}
        )
    if created:
        log.info("customer %s tagged %r by %s", customer.pk, tag.name, getattr(actor, "pk", None))
    return tagging


def untag_customer(*, customer: Customer, tag: CustomerTag, actor=None) -> None:
    """Take a manual tag off the shopper (a tag the shopper does not have: an error)."""
    _manual_tag(tag)
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        deleted, _n = CustomerTagging.objects.filter(customer=customer, tag=tag, by_rule=False).delete()
    if not deleted:
        raise ValidationError({"tag": _("该顾客没有“%(tag)s”标签。") % {"tag": tag.name}})
    log.info("customer %s untagged %r by %s", customer.pk, tag.name, getattr(actor, "pk", None))


def frequent_buyer_ids(*, min_orders: int, now: dt.datetime | None = None) -> set[int]:
    """Shoppers with at least ``min_orders`` paid orders (paid, not cancelled) in the last 90 days."""
    from django.db.models import Count

    from mall.orders.models import Order, OrderStatus

    since = (now or timezone.now()) - dt.timedelta(days=FREQUENT_BUYER_DAYS)
    return set(
        Order.objects.filter(paid_at__isnull=False, paid_at__gte=since)
        .exclude(status=OrderStatus.CANCELLED)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=max(min_orders, 1))
        .values_list("customer_id", flat=True)
    )


def recompute_rule_tags(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Bring every rule tag's automatic taggings up to date in this store: add the shoppers the
    rule now matches, remove the ones it no longer does. Manual taggings are never touched
    (a shopper tagged by hand keeps the tag whatever the rule says)."""
    added = removed = 0
    with transaction.atomic():
        tags = list(CustomerTag.objects.select_for_update().order_by("pk"))  # one recompute at a time
        for tag in tags:
            if tag.rule == TagRule.FREQUENT_BUYER:
                wanted = frequent_buyer_ids(min_orders=tag.rule_value, now=now)
            else:
                wanted = set()  # a manual tag (or one whose rule was dropped) has no automatic taggings
            current = set(CustomerTagging.objects.filter(tag=tag, by_rule=True).values_list("customer_id", flat=True))
            manual = set(CustomerTagging.objects.filter(tag=tag, by_rule=False).values_list("customer_id", flat=True))
            stale = current - wanted
            if stale:
                removed += CustomerTagging.objects.filter(tag=tag, by_rule=True, customer_id__in=stale).delete()[0]
            new = wanted - current - manual
            if new:
                CustomerTagging.objects.bulk_create(
                    [CustomerTagging(customer_id=c, tag=tag, by_rule=True) for c in sorted(new)], ignore_conflicts=True
                )
                added += len(new)
    return {"added": added, "removed": removed}
