import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_exists

from core import crypto
from saas_platform.accounts.models import User
from saas_platform.onboarding import actions
from saas_platform.onboarding.models import MerchantProfile, SmsCode, SmsPurpose
from tenants.models import Tenant, TenantStatus
from tests.onboarding.conftest import deliver_sms, last_code, new_phone


def _ip():
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _code_for(phone, outbox, purpose=SmsPurpose.SIGN_UP):
    actions.send_code(phone=phone, purpose=purpose, ip=_ip())
    return last_code(outbox, phone)


def test_sign_up_with_an_sms_code_stores_the_phone_encrypted(db, memory_sms):
    phone = new_phone()
    code = _code_for(phone, memory_sms)
    user = actions.sign_up(phone=phone, code=code, password="Shop-Pass-2026", name="王老板")
    assert user.check_password("Shop-Pass-2026")
    assert user.masked_phone == f"{phone[:3]}****{phone[-4:]}"
    assert User.objects.get(phone_index=crypto.blind_index(phone)).pk == user.pk
    from django.db import connection

    # The column holds a token, not the number: the number is not in it, and the token decrypts to it.
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        stored = cur.fetchone()[0]
    assert phone not in stored
    assert crypto.decrypt(stored) == phone


def test_a_code_is_single_use(db, memory_sms):
    phone = new_phone()
    code = _code_for(phone, memory_sms)
    actions.sign_up(phone=phone, code=code, password="Shop-Pass-2026")
    with pytest.raises(ValidationError) as err:
        actions.reset_password(phone=phone, code=code, password="Other-Pass-2026")
    assert "code" in err.value.message_dict


def test_an_expired_code_is_refused_with_a_chinese_field_error(db, memory_sms):
    phone = new_phone()
    code = _code_for(phone, memory_sms)
    SmsCode.objects.filter(phone_index=crypto.blind_index(phone)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ValidationError) as err:
        actions.sign_up(phone=phone, code=code, password="Shop-Pass-2026")
    assert err.value.message_dict["code"] == ["验证码已过期，请重新获取。"]
    assert not User.objects.filter(phone_index=crypto.blind_index(phone)).exists()


def test_wrong_codes_lock_the_code_after_five_tries(db, memory_sms):
    phone = new_phone()
    code = _code_for(phone, memory_sms)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(ValidationError) as err:
            actions.sign_up(phone=phone, code=wrong, password="Shop-Pass-2026")
        assert err.value.message_dict["code"] == ["验证码不正确。"]
    with pytest.raises(ValidationError) as err:
        actions.sign_up(phone=phone, code=code, password="Shop-Pass-2026")
    assert "错误次数过多" in err.value.message_dict["code"][0]


def test_sending_is_rate_limited_per_phone_and_per_ip(db, memory_sms, settings):
    phone = new_phone()
    ip = _ip()
    actions.send_code(phone=phone, purpose=SmsPurpose.SIGN_UP, ip=ip)
    with pytest.raises(ValidationError) as err:
        actions.send_code(phone=phone, purpose=SmsPurpose.SIGN_UP, ip=ip)
    assert "60 秒" in err.value.message_dict["phone"][0]
    settings.SMS_LIMIT_PER_IP_HOUR = 3
    other_ip = _ip()
    for _ in range(3):
        actions.send_code(phone=new_phone(), purpose=SmsPurpose.SIGN_UP, ip=other_ip)
    with pytest.raises(ValidationError) as err:
        actions.send_code(phone=new_phone(), purpose=SmsPurpose.SIGN_UP, ip=other_ip)
    assert "一小时" in err.value.message_dict["phone"][0]
    deliver_sms()
    assert len([m for m in memory_sms if m["phone"] == phone]) == 1


@pytest.mark.parametrize("phone", ["1234", "12812345678", "138123456789", "abc"])
def test_a_malformed_phone_gets_a_field_error(db, phone):
    with pytest.raises(ValidationError) as err:
        actions.send_code(phone=phone, purpose=SmsPurpose.SIGN_UP, ip=_ip())
    assert err.value.message_dict["phone"] == ["请输入正确的 11 位手机号。"]


def test_weak_password_is_refused_before_the_code_is_spent(db, memory_sms):
    phone = new_phone()
    code = _code_for(phone, memory_sms)
    with pytest.raises(ValidationError) as err:
        actions.sign_up(phone=phone, code=code, password="123")
    assert "password" in err.value.message_dict
    actions.sign_up(phone=phone, code=code, password="Shop-Pass-2026")


def test_login_locks_after_repeated_failures_and_sms_reset_unlocks(db, memory_sms, settings):
    settings.AXES_FAILURE_LIMIT = 3
    phone = new_phone()
    actions.sign_up(phone=phone, code=_code_for(phone, memory_sms), password="Shop-Pass-2026")
    client = Client(REMOTE_ADDR=_ip())
    for _ in range(2):
        page = client.post("/accounts/login/", {"username": phone, "password": "nope-nope-1"}, HTTP_HOST="localhost")
        assert page.status_code == 200
    third = client.post("/accounts/login/", {"username": phone, "password": "nope-nope-1"}, HTTP_HOST="localhost")
    assert third.status_code == 429  # the third failure locks the account
    locked = client.post("/accounts/login/", {"username": phone, "password": "Shop-Pass-2026"}, HTTP_HOST="localhost")
    assert locked.status_code == 429
    assert "账号已锁定" in locked.content.decode()
    code = _code_for(phone, memory_sms, SmsPurpose.RESET_PASSWORD)
    actions.reset_password(phone=phone, code=code, password="New-Pass-2026x")
    ok = client.post("/accounts/login/", {"username": phone, "password": "New-Pass-2026x"}, HTTP_HOST="localhost")
    assert ok.status_code == 302


def test_sign_up_page_flow_in_the_browser_shape(db, memory_sms):
    phone = new_phone()
    client = Client(REMOTE_ADDR=_ip())
    sent = client.post("/accounts/signup/", {"phone": phone, "send_code": "1"}, HTTP_HOST="localhost")
    assert "验证码已发送" in sent.content.decode()
    code = last_code(memory_sms, phone)
    no_agree = client.post(
        "/accounts/signup/", {"phone": phone, "code": code, "password": "Shop-Pass-2026"}, HTTP_HOST="localhost"
    )
    assert "请先阅读并同意服务协议" in no_agree.content.decode()
    done = client.post(
        "/accounts/signup/",
        {"phone": phone, "code": code, "password": "Shop-Pass-2026", "agree": "on", "register": "1"},
        HTTP_HOST="localhost",
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/stores/new/"


def test_create_store_starts_a_trial_with_a_profile(committed, memory_sms):
    phone = new_phone()
    owner = actions.sign_up(phone=phone, code=_code_for(phone, memory_sms), password="Shop-Pass-2026")
    slug = f"fresh-{uuid.uuid4().hex[:6]}"
    tenant = actions.create_store(
        owner=owner, slug=slug, name="果然鲜", industry="fresh", categories=["food", "travel"]
    )
    try:
        assert tenant.status == TenantStatus.TRIAL
        assert tenant.trial_ends_at.date() == (timezone.now() + timedelta(days=14)).date()
        assert MerchantProfile.objects.get(tenant=tenant).service_categories == ["food", "travel"]
    finally:
        _drop(tenant)


@pytest.mark.parametrize(
    ("slug", "message"),
    [("www", "系统保留"), ("admin", "系统保留"), ("alpha", "已被使用"), ("A!", "店铺标识须为")],
)
def test_bad_store_slugs_leave_nothing_behind(committed, tenant_a, memory_sms, slug, message):
    phone = new_phone()
    owner = actions.sign_up(phone=phone, code=_code_for(phone, memory_sms), password="Shop-Pass-2026")
    before = Tenant.objects.count()
    with pytest.raises(ValidationError) as err:
        actions.create_store(owner=owner, slug=slug, name="某店", industry="fresh", categories=["food"])
    assert message in err.value.message_dict["slug"][0]
    assert Tenant.objects.count() == before
    assert not MerchantProfile.objects.filter(tenant__owner=owner).exists()
    assert not schema_exists("t_www")


def test_no_category_is_a_field_error_and_no_schema_is_made(committed, memory_sms):
    phone = new_phone()
    owner = actions.sign_up(phone=phone, code=_code_for(phone, memory_sms), password="Shop-Pass-2026")
    slug = f"empty-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ValidationError) as err:
        actions.create_store(owner=owner, slug=slug, name="空类目", industry="fresh", categories=[])
    assert "categories" in err.value.message_dict
    assert not schema_exists(f"t_{slug.replace('-', '_')}")


def _drop(tenant):
    from django.db import connection

    from tenants.models import Domain

    with connection.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
    MerchantProfile.objects.filter(tenant=tenant).delete()
    Domain.objects.filter(tenant=tenant).delete()
    Tenant.objects.filter(pk=tenant.pk).delete()
