"""English leaks closed: the WeChat authorize route's "not configured" error and the platform
accounts' phone-unique constraint speak Chinese (zh-hans) and English (en)."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import schema_context

from tests.console.conftest import login, merchant_users  # noqa: F401 (fixture)

NOT_CONFIGURED = {
    "zh-hans": "平台尚未配置微信开放平台，暂时无法发起授权，请联系平台客服。",
    "en": "WeChat Open Platform is not set up on the platform yet, so authorisation cannot start; "
    "please contact platform support.",
}
PHONE_TAKEN = {"zh-hans": "该手机号已被其他账号使用。", "en": "This phone number is already used by another account."}


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_authorize_without_wechat_settings_says_so_in_the_users_language(lang, tenant_a, merchant_users, settings, db):  # noqa: F811
    settings.WECHAT_COMPONENT_APPID = ""
    settings.WECHAT_COMPONENT_APPSECRET = ""
    client = login(merchant_users["owner"], tenant_a.schema_name)
    page = client.get(
        "/console/wechat/authorize/", HTTP_HOST=tenant_a.primary_host, HTTP_ACCEPT_LANGUAGE=lang, follow=True
    )
    assert page.status_code == 200 and page.redirect_chain[-1][0].endswith("/console/wechat/")
    html = page.content.decode()
    assert NOT_CONFIGURED[lang] in html
    assert "WeChat is not configured" not in html and "docs/wechat.md" not in html


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_taken_phone_is_a_translated_error_on_the_phone_field(lang, db):
    from saas_platform.accounts.actions import create_platform_user
    from saas_platform.accounts.models import User

    phone = "139" + f"{uuid.uuid4().int % 10**8:08d}"
    with schema_context("public"):
        create_platform_user(username=f"first-{phone}", password="Phone-Pass-2026", phone=phone)
        second = User(username=f"second-{phone}", phone=phone)
        second.set_password("Phone-Pass-2026")
        with translation.override(lang), pytest.raises(ValidationError) as err:
            second.full_clean()
        assert err.value.message_dict["phone"] == [PHONE_TAKEN[lang]]
        assert "__all__" not in err.value.message_dict
        # A number of its own passes.
        second.phone = "139" + f"{(uuid.uuid4().int + 1) % 10**8:08d}"
        second.full_clean()
