"""The onboarding steps: every error of a form at once, the credit code's check digit, the
template's name, and a preview step that behaves the same for every store."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_tenants.utils import schema_context

from saas_platform.accounts.actions import issue_console_link
from saas_platform.onboarding import actions
from saas_platform.onboarding.models import MerchantProfile
from saas_platform.onboarding.selectors import checklist
from tenants.models import Tenant
from tests.onboarding.conftest import new_phone

# Codes with a correct check digit (the brief's example, registered companies' codes, the tests'
# own); each "bad" one has a wrong last character (the issue saw a code ending …01A accepted).
VALID_CODES = ["91350100M000100Y43", "91530100MA6K000000", "914403001922038216", "91110000802100433B"]
BAD_CODES = ["91350100M000100Y4A", "91350100M000100Y44", "91110108MA0000001A", "914403001922038217"]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_credit_codes_pass_the_check_digit(code):
    assert actions.credit_code_check_digit_ok(code)


@pytest.mark.parametrize("code", BAD_CODES)
def test_a_wrong_check_digit_is_refused(code):
    assert not actions.credit_code_check_digit_ok(code)


def test_update_business_reports_every_field_at_once(tenant_a, db):
    MerchantProfile.objects.get_or_create(tenant=tenant_a)
    with pytest.raises(ValidationError) as err:
        actions.update_business(
            tenant=tenant_a, company_name="", credit_code="91350100M000100Y4A", legal_person="", address="", phone="1"
        )
    errors = err.value.message_dict
    assert set(errors) == {"company_name", "credit_code", "legal_person", "address", "phone"}
    assert errors["credit_code"] == ["统一社会信用代码校验位不正确，请核对后重新填写。"]


def test_the_business_form_shows_every_error_at_once(tenant_a, committed):
    client = _console(tenant_a)
    page = client.post(
        "/console/onboarding/business/",
        {"company_name": "", "credit_code": "91110108MA01ABCD1A", "legal_person": "", "address": "", "phone": "12"},
        HTTP_HOST=tenant_a.primary_host,
    )
    body = page.content.decode()
    assert page.status_code == 200
    for message in ("请填写主体名称。", "请填写法定代表人姓名。", "请填写经营地址。", "请输入正确的 11 位手机号。"):
        assert message in body
    assert "统一社会信用代码" in body and body.count("field-error") >= 5


def test_sign_up_reports_every_field_at_once(db):
    with pytest.raises(ValidationError) as err:
        actions.sign_up(phone="123", code="", password="123", agreed=False)
    assert set(err.value.message_dict) == {"phone", "password", "code", "agree"}


def test_the_sign_up_page_shows_every_error_at_once(db):
    page = Client().post(
        "/accounts/signup/", {"phone": "", "code": "", "password": "1", "register": "1"}, HTTP_HOST="localhost"
    )
    body = page.content.decode()
    for message in ("请输入正确的 11 位手机号。", "请输入短信验证码。", "请先阅读并同意服务协议。"):
        assert message in body
    assert 'data-field="password"' in body and body.count("field-error") >= 4


def test_create_store_reports_every_field_at_once(db):
    from saas_platform.accounts.actions import create_platform_user

    phone = new_phone()
    owner = create_platform_user(username=f"m{phone}", password="Shop-Pass-2026", phone=phone)
    with pytest.raises(ValidationError) as err:
        actions.create_store(owner=owner, slug="www", name=" ", industry="nope", categories=[])
    errors = err.value.message_dict
    assert set(errors) == {"name", "slug", "industry", "categories"}
    assert "系统保留" in errors["slug"][0]


def test_the_template_step_shows_the_templates_name(tenant_a, committed):
    profile, _ = MerchantProfile.objects.get_or_create(tenant=tenant_a)
    MerchantProfile.objects.filter(pk=profile.pk).update(template_key="fresh", template_version=1)
    step = next(s for s in checklist(Tenant.objects.get(pk=tenant_a.pk)) if s.key == "template")
    assert step.detail == "生鲜果蔬"
    page = _console(tenant_a).get("/console/onboarding/", HTTP_HOST=tenant_a.primary_host).content.decode()
    assert "生鲜果蔬" in page and ">fresh<" not in page


def _console(tenant) -> Client:
    with schema_context("public"):
        owner = Tenant.objects.get(pk=tenant.pk).owner
    client = Client()
    link = issue_console_link(user=owner, tenant=tenant)
    assert client.get("/" + link.split("/", 3)[3], HTTP_HOST=tenant.primary_host).status_code == 302
    return client


def _preview_state(tenant) -> str:
    return next(s for s in checklist(Tenant.objects.get(pk=tenant.pk)) if s.key == "preview").state


def test_the_preview_step_is_done_after_a_preview_in_every_store(tenant_b, committed):
    """A store without an onboarding profile (provisioned, not signed up: tenant_b) used to keep
    its preview step "to do" however often it was previewed: the step's UPDATE found no row."""
    MerchantProfile.objects.filter(tenant=tenant_b).delete()
    client = _console(tenant_b)
    page = client.get("/console/onboarding/preview/", HTTP_HOST=tenant_b.primary_host)
    assert page.status_code == 200 and 'data-preview="ready"' in page.content.decode()
    assert _preview_state(tenant_b) == "done"
    overview = client.get("/console/onboarding/", HTTP_HOST=tenant_b.primary_host).content.decode()
    assert 'data-step="preview" data-state="done"' in overview


def test_a_document_upload_reports_the_file_and_the_date_at_once(tenant_a, db):
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from saas_platform.review.actions import submit_document

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    text = SimpleUploadedFile("licence.txt", "营业执照".encode(), content_type="text/plain")
    with pytest.raises(ValidationError) as err:
        submit_document(tenant=tenant_a, kind="business_licence", upload=text, expires_on=yesterday)
    assert err.value.message_dict == {
        "file": ["只支持 PDF、PNG 或 JPG 格式的文件。"],
        "expires_on": ["有效期须晚于今天。"],
    }
