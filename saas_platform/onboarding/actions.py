"""Merchant self-onboarding (SPEC P1): SMS codes, sign-up, password reset, store creation,
and the checklist's steps. Views call these; they hold no logic."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto, ratelimit
from integrations.sms import queue_sms
from saas_platform.accounts.models import User
from saas_platform.onboarding.models import MerchantProfile, ServiceCategory, SmsCode, SmsPurpose
from tenants.actions import provision_tenant
from tenants.models import Tenant

CODE_TTL = timedelta(minutes=5)
MAX_CODE_ATTEMPTS = 5
CREDIT_CODE_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
MCHID_RE = re.compile(r"^\d{10}$")
ALREADY_REGISTERED_SMS = (
    "【分销云】有人用本手机号申请注册分销云。本号码已注册，可直接登录；忘记密码请在登录页找回。如非本人操作，请忽略。"
)


def credit_code_check_digit_ok(code: str) -> bool:
    """GB 32100-2015: the 18th character is the check digit of the first 17 (weights 3^i mod 31
    over the alphabet 0-9, A-Y without I, O, S, V, Z); python-stdnum computes it."""
    from stdnum.cn.uscc import calc_check_digit

    return bool(CREDIT_CODE_RE.match(code)) and calc_check_digit(code) == code[-1]


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(settings.FIELD_HASH_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def clean_phone(phone: str, field: str = "phone") -> str:
    phone = crypto.normalize_phone(phone or "")
    if not crypto.is_valid_phone(phone):
        raise ValidationError({field: ValidationError(_("请输入正确的 11 位手机号。"), code="invalid")})
    return phone


def send_code(*, phone: str, purpose: str, ip: str) -> None:
    """Send a 6-digit code. Limits: one a minute and ten a day per phone, twenty an hour per IP.

    The answer never tells whether the number is registered: the limits come first, a code row
    is written either way, and only the SMS differs. Signing up a registered number texts its
    owner a notice instead of a code; resetting an unknown number texts nobody. The SMS goes
    through the outbox (a failed send is retried)."""
    phone = clean_phone(phone)
    if purpose not in SmsPurpose.values:
        raise ValidationError({"purpose": _("无效的用途。")})
    index = crypto.blind_index(phone)
    if not ratelimit.hit(f"sms:ip:{ip}", limit=settings.SMS_LIMIT_PER_IP_HOUR, window=3600):
        raise ValidationError({"phone": ValidationError(_("发送太频繁，请一小时后再试。"), code="rate_ip")})
    if not ratelimit.hit(f"sms:min:{purpose}:{index}", limit=1, window=60):
        raise ValidationError({"phone": ValidationError(_("验证码已发送，请 60 秒后再试。"), code="rate_minute")})
    if not ratelimit.hit(f"sms:day:{index}", limit=settings.SMS_LIMIT_PER_PHONE_DAY, window=86400):
        raise ValidationError({"phone": ValidationError(_("今天的验证码次数已用完。"), code="rate_day")})
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        exists = User.objects.filter(phone_index=index).exists()
        SmsCode.objects.filter(phone_index=index, purpose=purpose, used_at__isnull=True).update(used_at=timezone.now())
        SmsCode.objects.create(
            phone_index=index, purpose=purpose, code_hash=_code_hash(phone, code), expires_at=timezone.now() + CODE_TTL
        )
        if purpose == SmsPurpose.SIGN_UP and exists:
            queue_sms(phone=phone, text=ALREADY_REGISTERED_SMS, kind="sign_up_registered")
        elif purpose == SmsPurpose.RESET_PASSWORD and not exists:
            pass  # nobody to tell; the answer is the same as for a registered number
        else:
            queue_sms(phone=phone, text=f"【分销云】验证码 {code}，5 分钟内有效，请勿告诉他人。", kind=purpose)


def _check_submit_rate(ip: str | None) -> None:
    """Sign-up and reset submissions (the code checks) per IP and hour."""
    if ip is not None and not ratelimit.hit(
        f"sms:verify:ip:{ip}", limit=settings.SMS_VERIFY_LIMIT_PER_IP_HOUR, window=3600
    ):
        raise ValidationError({"code": ValidationError(_("尝试太频繁，请一小时后再试。"), code="rate_ip")})


def consume_code(*, phone: str, purpose: str, code: str) -> None:
    """Use a code once. Wrong, expired or used codes raise a field error on ``code``."""
    index = crypto.blind_index(phone)
    with transaction.atomic():
        sms = (
            SmsCode.objects.select_for_update()
            .filter(phone_index=index, purpose=purpose, used_at__isnull=True)
            .order_by("-created")
            .first()
        )
        if sms is None:
            raise ValidationError({"code": ValidationError(_("请先获取验证码。"), code="missing")})
        if sms.expires_at <= timezone.now():
            raise ValidationError({"code": ValidationError(_("验证码已过期，请重新获取。"), code="expired")})
        # Wrong tries are counted in the cache: the caller's transaction rolls back on the error,
        # and the count must survive it.
        tries_key = f"smscode:tries:{sms.code_hash[:32]}"
        if ratelimit.count(tries_key) >= MAX_CODE_ATTEMPTS:
            raise ValidationError({"code": ValidationError(_("错误次数过多，请重新获取验证码。"), code="locked")})
        if not hmac.compare_digest(sms.code_hash, _code_hash(phone, (code or "").strip())):
            ratelimit.hit(tries_key, limit=MAX_CODE_ATTEMPTS, window=int(CODE_TTL.total_seconds()))
            raise ValidationError({"code": ValidationError(_("验证码不正确。"), code="wrong")})
        sms.used_at = timezone.now()
        sms.save(update_fields=["used_at"])


def _check_password(password: str, user: User | None = None) -> None:
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def sign_up(
    *, phone: str, code: str, password: str, name: str = "", agreed: bool = True, ip: str | None = None
) -> User:
    """Every field's error at once. A registered number fails like a wrong code (its owner got
    a notice, not a code), so the answer does not tell whether it is registered."""
    errors: dict[str, list] = {}
    try:
        phone = clean_phone(phone)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        _check_password(password)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if not (code or "").strip():
        errors["code"] = [ValidationError(_("请输入短信验证码。"), code="required")]
    if not agreed:
        errors["agree"] = [ValidationError(_("请先阅读并同意服务协议。"), code="required")]
    if errors:
        raise ValidationError(errors)
    _check_submit_rate(ip)
    with transaction.atomic():
        consume_code(phone=phone, purpose=SmsPurpose.SIGN_UP, code=code)
        if User.objects.filter(phone_index=crypto.blind_index(phone)).exists():
            # Only someone holding this phone gets here (the code was sent to it).
            raise ValidationError({"phone": ValidationError(_("该手机号已注册，请直接登录。"), code="taken")})
        user = User(username=f"m{phone}", phone=phone, first_name=(name or "").strip()[:30])
        user.set_password(password)
        user.save()
    return user


def reset_password(*, phone: str, code: str, password: str, ip: str | None = None) -> User:
    """Set a new password and end every session of the account: platform sessions (Django's
    session hash follows the password) and every store console session standing for it
    (``User._get_session_auth_hash``). An unknown number fails like a wrong code."""
    from saas_platform.accounts.throttle import reset_account

    phone = clean_phone(phone)
    _check_submit_rate(ip)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(phone_index=crypto.blind_index(phone)).first()
        _check_password(password, user)
        consume_code(phone=phone, purpose=SmsPurpose.RESET_PASSWORD, code=code)
        if user is None:  # no code was ever sent to an unknown number
            raise ValidationError({"code": ValidationError(_("验证码不正确。"), code="wrong")})
        user.set_password(password)
        user.save(update_fields=["password"])
        reset_account(user=user)
    return user


def create_store(*, owner: User, slug: str, name: str, industry: str, categories: list[str]) -> Tenant:
    """Create the merchant's store (tenant + schema, 14-day trial) and its onboarding profile.
    Every field's error is reported at once."""
    from tenants.actions import validate_slug
    from tenants.models import Industry

    errors: dict[str, list] = {}
    categories = sorted(set(categories or []))
    if not (name or "").strip():
        errors["name"] = [ValidationError(_("请填写店铺名称。"), code="required")]
    try:
        validate_slug(slug)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if industry not in Industry.values:
        errors["industry"] = [ValidationError(_("请选择行业。"), code="required")]
    if not categories or any(c not in ServiceCategory.values for c in categories):
        errors["categories"] = [ValidationError(_("请至少选择一个经营类目。"), code="required")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        tenant = provision_tenant(slug=slug, name=name.strip(), owner=owner, industry=industry)
        MerchantProfile.objects.create(tenant=tenant, service_categories=categories, phone=owner.phone)
    return tenant


def choose_template(*, tenant: Tenant, key: str) -> MerchantProfile:
    from django_tenants.utils import schema_context

    from storefront_templates.loader import apply_template, get_template

    template = get_template(key)
    if template is None:
        raise ValidationError({"template": _("没有这个模板。")})
    with transaction.atomic():
        profile = MerchantProfile.objects.select_for_update().get(tenant=tenant)
        with schema_context(tenant.schema_name):
            apply_template(template)
        profile.template_key = template.key
        profile.template_version = template.version
        profile.save(update_fields=["template_key", "template_version"])
    return profile


def update_business(
    *, tenant: Tenant, company_name: str, credit_code: str, legal_person: str, address: str, phone: str
) -> MerchantProfile:
    errors = {}
    credit_code = (credit_code or "").strip().upper()
    if not (company_name or "").strip():
        errors["company_name"] = _("请填写主体名称。")
    if not CREDIT_CODE_RE.match(credit_code):
        errors["credit_code"] = _("统一社会信用代码为 18 位数字或大写字母。")
    elif not credit_code_check_digit_ok(credit_code):
        errors["credit_code"] = _("统一社会信用代码校验位不正确，请核对后重新填写。")
    if not (legal_person or "").strip():
        errors["legal_person"] = _("请填写法定代表人姓名。")
    if not (address or "").strip():
        errors["address"] = _("请填写经营地址。")
    try:
        phone = clean_phone(phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        profile = MerchantProfile.objects.select_for_update().get(tenant=tenant)
        profile.company_name = company_name.strip()
        profile.credit_code = credit_code
        profile.legal_person = legal_person.strip()
        profile.address = address.strip()
        profile.phone = phone
        profile.save()
    return profile


def set_pay_merchant(*, tenant: Tenant, mchid: str) -> MerchantProfile:
    mchid = (mchid or "").strip()
    if not MCHID_RE.match(mchid):
        raise ValidationError({"mchid": _("微信支付商户号为 10 位数字。")})
    with transaction.atomic():
        profile = MerchantProfile.objects.select_for_update().get(tenant=tenant)
        profile.wechat_pay_mchid = mchid
        profile.save(update_fields=["wechat_pay_mchid"])
    return profile


def mark_previewed(*, tenant: Tenant) -> MerchantProfile:
    """The merchant has seen the store's preview. Works the same for every store: a store
    whose profile was not made at sign-up (provisioned by staff, the seed, the tests) gets one,
    where a bare ``UPDATE`` of a missing row used to change nothing."""
    with transaction.atomic():
        MerchantProfile.objects.get_or_create(tenant=tenant)
        profile = MerchantProfile.objects.select_for_update().get(tenant=tenant)
        if profile.previewed_at is None:
            profile.previewed_at = timezone.now()
            profile.save(update_fields=["previewed_at"])
    return profile
