"""Sign-up and password reset answer the same whether or not a number is registered, and the
check behind them is rate-limited."""

import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from core import crypto
from saas_platform.accounts.actions import create_platform_user
from saas_platform.onboarding import actions
from saas_platform.onboarding.models import SmsCode, SmsPurpose
from tests.onboarding.conftest import deliver_sms, new_phone


def _ip():
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


def _registered() -> str:
    phone = new_phone()
    create_platform_user(username=f"m{phone}", password="Shop-Pass-2026", phone=phone)
    return phone


def _page(client, path, data):
    body = client.post(path, data, HTTP_HOST="localhost").content.decode()
    body = re.sub(r"1\d{10}", "<phone>", body)  # the number typed is echoed back
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


@pytest.mark.parametrize(("path", "purpose"), [("/accounts/signup/", "sign_up"), ("/accounts/reset/", "reset")])
def test_asking_for_a_code_looks_the_same_for_registered_and_unknown_numbers(db, memory_sms, path, purpose):
    registered, unknown = _registered(), new_phone()
    ip = _ip()
    pages = [_page(Client(REMOTE_ADDR=ip), path, {"phone": p, "send_code": "1"}) for p in (registered, unknown)]
    assert pages[0] == pages[1]
    assert "验证码已发送" in pages[0]
    for phone in (registered, unknown):  # a code row either way: later answers match too
        assert SmsCode.objects.filter(phone_index=crypto.blind_index(phone)).count() == 1


def test_signing_up_a_registered_number_texts_its_owner_a_notice_not_a_code(db, memory_sms):
    registered, fresh = _registered(), new_phone()
    for phone in (registered, fresh):
        actions.send_code(phone=phone, purpose=SmsPurpose.SIGN_UP, ip=_ip())
    deliver_sms()
    to_owner = [m["text"] for m in memory_sms if m["phone"] == registered]
    assert len(to_owner) == 1 and "已注册" in to_owner[0] and not re.search(r"\d{6}", to_owner[0])
    assert re.search(r"验证码 \d{6}", next(m["text"] for m in memory_sms if m["phone"] == fresh))


def test_resetting_an_unknown_number_texts_nobody(db, memory_sms):
    unknown = new_phone()
    actions.send_code(phone=unknown, purpose=SmsPurpose.RESET_PASSWORD, ip=_ip())
    deliver_sms()
    assert not [m for m in memory_sms if m["phone"] == unknown]


def test_the_final_step_fails_the_same_way_for_registered_and_unknown_numbers(db, memory_sms):
    registered, fresh = _registered(), new_phone()
    errors = []
    for phone in (registered, fresh):
        actions.send_code(phone=phone, purpose=SmsPurpose.SIGN_UP, ip=_ip())
        with pytest.raises(ValidationError) as err:
            actions.sign_up(phone=phone, code="000000", password="Shop-Pass-2026", ip=_ip())
        errors.append(err.value.message_dict)
    assert errors[0] == errors[1] == {"code": ["验证码不正确。"]}

    errors = []
    unknown = new_phone()
    for phone in (registered, unknown):
        actions.send_code(phone=phone, purpose=SmsPurpose.RESET_PASSWORD, ip=_ip())
        with pytest.raises(ValidationError) as err:
            actions.reset_password(phone=phone, code="000000", password="Other-Pass-2026", ip=_ip())
        errors.append(err.value.message_dict)
    assert errors[0] == errors[1] == {"code": ["验证码不正确。"]}


def test_the_limits_come_before_the_lookup(db, memory_sms, settings):
    """Once an address has used its hour, registered and unknown numbers get the same refusal."""
    settings.SMS_LIMIT_PER_IP_HOUR = 2
    ip = _ip()
    for _ in range(2):
        actions.send_code(phone=new_phone(), purpose=SmsPurpose.RESET_PASSWORD, ip=ip)
    answers = []
    for phone in (_registered(), new_phone()):
        with pytest.raises(ValidationError) as err:
            actions.send_code(phone=phone, purpose=SmsPurpose.RESET_PASSWORD, ip=ip)
        answers.append(err.value.message_dict)
    assert answers[0] == answers[1] == {"phone": ["发送太频繁，请一小时后再试。"]}


def test_code_checks_are_rate_limited_per_address(db, memory_sms, settings):
    settings.SMS_VERIFY_LIMIT_PER_IP_HOUR = 3
    ip = _ip()
    for _ in range(3):
        with pytest.raises(ValidationError) as err:
            actions.reset_password(phone=new_phone(), code="123456", password="Other-Pass-2026", ip=ip)
        assert "code" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.reset_password(phone=new_phone(), code="123456", password="Other-Pass-2026", ip=ip)
    assert err.value.message_dict == {"code": ["尝试太频繁，请一小时后再试。"]}
