"""Merchant self-onboarding and staff review in a real browser (gunicorn + Celery on the test
database, Debian's Chromium).

* a new merchant signs up with an SMS code (read from the server's SMS sender), creates a
  store, and walks the console checklist to the storefront preview;
* staff reject a qualification (a reason is required), the merchant sees why, re-uploads,
  staff approve;
* bad input is explained in Chinese and creates nothing;
* a suspended store's API answers 403 ``store_closed`` and its console refuses changes until
  staff reinstate it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass

import pytest
from django.conf import settings
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tests.browser.conftest import new_context, screenshot_path
from tests.browser.test_consoles import STAFF_PASSWORD, STAFF_USERNAME, enter_console, platform_login, staff_login

MERCHANT_PASSWORD = "Shop-Pass-2026"
PDF = b"%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CREDIT_CODE = "91530100MA6K000000"
TEMPLATE_PRODUCT = "赣南脐橙 5斤装"
# fresh industry + food and travel categories: three base documents and both licences.
ALL_KINDS = ["business_licence", "legal_person_id", "icp_filing", "food_licence", "travel_licence"]


def random_phone() -> str:
    return "137" + f"{secrets.randbelow(10**8):08d}"


def random_slug(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@dataclass
class Merchant:
    tenant: object
    phone: str

    @property
    def slug(self) -> str:
        return self.tenant.slug


@pytest.fixture
def stores(committed):
    """Slugs the test creates (in Python or through the browser); removed afterwards, files too."""
    slugs: list[str] = []
    yield slugs
    from django.db import connection

    from saas_platform.review import storage
    from saas_platform.review.models import QualificationDocument
    from tenants.models import Tenant
    from tests.conftest import remove_tenant_rows

    connection.set_schema_to_public()
    for tenant in Tenant.objects.filter(slug__in=slugs):
        for key in QualificationDocument.objects.filter(tenant=tenant).values_list("file_key", flat=True):
            storage.delete(key)
        with connection.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
        remove_tenant_rows(tenant)  # the audit trail is append-only: see tests.conftest


@pytest.fixture
def staff_user(live_stack, committed):
    """The same staff account as test_consoles (``staff_login`` signs in with it)."""
    from saas_platform.accounts.actions import create_platform_user
    from saas_platform.accounts.models import User

    with schema_context("public"):
        user = User.objects.filter(username=STAFF_USERNAME).first()
        if user is None:
            user = create_platform_user(
                username=STAFF_USERNAME, password=STAFF_PASSWORD, phone="13911110000", is_staff=True
            )
    return user


@pytest.fixture(autouse=True)
def fresh_ip_counters(live_stack, committed):
    """Every request of every run comes from 127.0.0.1, and the per-IP SMS/login counters live in
    Redis for an hour / ten minutes across test sessions; start each test below those limits."""
    from django.db import connection

    from core import ratelimit

    connection.set_schema_to_public()  # cache keys carry the schema, as the server's do
    ratelimit.reset("sms:ip:127.0.0.1")
    ratelimit.reset("login:ip:127.0.0.1")


def make_merchant(stores: list[str], *, name: str, categories=("food",)) -> Merchant:
    """A merchant as sign-up leaves it: platform user with a phone, store, onboarding profile."""
    from saas_platform.accounts.actions import create_platform_user
    from saas_platform.onboarding.actions import create_store

    phone = random_phone()
    slug = random_slug("rv")
    stores.append(slug)
    with schema_context("public"):
        owner = create_platform_user(username=f"m{phone}", password=MERCHANT_PASSWORD, phone=phone)
        tenant = create_store(owner=owner, slug=slug, name=name, industry="fresh", categories=list(categories))
    return Merchant(tenant=tenant, phone=phone)


def merchant_console(browser, stack, merchant: Merchant):
    """A separate browser (own cookies) signed in to the merchant's console; returns (context, page)."""
    context = new_context(browser)
    page = context.new_page()
    platform_login(page, stack, merchant.phone, MERCHANT_PASSWORD)
    enter_console(page, stack, merchant.slug)
    return context, page


def close_with_screenshot(context, page, request, suffix: str) -> None:
    try:
        if not page.is_closed():
            path = screenshot_path(request)
            page.screenshot(path=str(path.with_name(f"{path.stem}-{suffix}.png")), full_page=True)
    finally:
        context.close()


def submit(page, locator) -> None:
    """Click a submit button and wait for the page it leads to (after any redirect)."""
    with page.expect_navigation():
        locator.click()


def decide(page, button: str) -> None:
    """Click 通过/驳回 on the staff decide page and wait for the resulting page.

    The page embeds the PDF in Chromium's PDF viewer, which takes the keyboard focus when it has
    loaded; headless Chromium then drops the next mouse click on the page itself (it only takes
    the focus back). A dropped click sends nothing, so it is safe to click again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    locator = page.get_by_role("button", name=button, exact=True)
    with page.expect_navigation():
        for _attempt in range(3):
            try:
                with page.expect_request(lambda r: r.method == "POST" and "/decide/" in r.url, timeout=3_000):
                    locator.click()
                break
            except PlaywrightTimeout:
                continue
        else:
            raise AssertionError(f"clicking {button} never submitted the form")


def expect_category_choices(page) -> None:
    expect(
        page.locator('input[name="categories"][value]'),
        "the store form offers no 经营类目 choices to tick (templates/onboarding/_field.html renders "
        "CheckboxSelectMultiple as a single value-less checkbox)",
    ).to_have_count(5)


def save_button(page):
    return page.locator('[data-page="onboarding"] form button[type="submit"]')


def step(page, key: str):
    return page.locator(f'tr[data-step="{key}"]')


def api_products(stack, slug: str):
    status, body, _headers = stack.get(f"{slug}.localhost", "/api/v1/products")
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        payload = None
    return status, payload


def settle_api(stack, slug: str, since: float, status_wanted: int):
    """Each server process keeps host → tenant for TENANT_CACHE_SECONDS; once that has passed
    since the change, every process must answer ``status_wanted``. Returns the last payload."""
    settle = since + settings.TENANT_CACHE_SECONDS + 0.5
    deadline = settle + 10
    seen = []
    while True:
        status, payload = api_products(stack, slug)
        now = time.monotonic()
        if now >= settle:
            seen.append(status)
            if seen[-4:] == [status_wanted] * 4:
                return payload
        if now > deadline:
            raise AssertionError(f"/api/v1/products of {slug} answered {seen[-8:]} (wanted {status_wanted})")
        time.sleep(0.2)


# --------------------------------------------------------------------------------------------


def test_new_merchant_signs_up_and_reaches_the_preview(live_stack, stores, page, tmp_path, capsys):
    from saas_platform.onboarding.models import MerchantProfile
    from saas_platform.review.models import QualificationDocument
    from tenants.models import Tenant

    stack = live_stack
    phone = random_phone()
    slug = random_slug("guoran")
    stores.append(slug)
    appid = "wx" + secrets.token_hex(8)
    mchid = "19" + f"{secrets.randbelow(10**8):08d}"
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(PDF)
    expires = (dt.date.today() + dt.timedelta(days=365)).isoformat()
    started = time.perf_counter()

    # Sign-up on the platform host: the code comes through the SMS sender.
    page.goto(stack.url("localhost", "/accounts/signup/"))
    expect(page.get_by_role("heading", name="商家注册")).to_be_visible()
    page.fill("#id_phone", phone)
    submit(page, page.get_by_role("button", name="获取验证码"))
    expect(page.locator("main")).to_contain_text("验证码已发送")
    expect(page.locator("#id_phone")).to_have_value(phone)
    code = stack.sms_code(phone)
    page.fill("#id_code", code)
    page.fill("#id_password", MERCHANT_PASSWORD)
    page.check('input[name="agree"]')
    submit(page, page.get_by_role("button", name="注册", exact=True))
    expect(page).to_have_url(stack.url("localhost", "/accounts/stores/new/"))

    # Create the store; a one-time console link lands on the tenant's checklist.
    page.fill("#id_name", "果然鲜生鲜店")
    page.fill("#id_slug", slug)
    page.select_option("#id_industry", "fresh")
    expect_category_choices(page)
    page.check('input[name="categories"][value="food"]')
    page.check('input[name="categories"][value="travel"]')
    with page.expect_response(lambda r: "/console-link/" in r.url) as link:
        page.get_by_role("button", name="创建店铺").click()
    assert link.value.status == 302
    assert link.value.url.startswith(stack.url(f"{slug}.localhost", "/console-link/?token="))
    page.wait_for_url(stack.url(f"{slug}.localhost", "/console/onboarding/"))
    expect(page.locator('[data-page="onboarding"]')).to_contain_text("果然鲜生鲜店")
    expect(step(page, "store")).to_have_attribute("data-state", "done")
    for key in ("template", "business", "qualifications", "wechat", "pay", "preview"):
        expect(step(page, key)).to_have_attribute("data-state", "todo")

    # Template.
    submit(page, step(page, "template").get_by_role("link", name="去选择"))
    page.check('input[name="template"][value="fresh"]')
    submit(page, page.get_by_role("button", name="使用这个模板"))
    expect(page).to_have_url(stack.url(f"{slug}.localhost", "/console/onboarding/"))
    expect(step(page, "template")).to_have_attribute("data-state", "done")

    # Business details.
    submit(page, step(page, "business").get_by_role("link", name="去填写"))
    page.fill("#id_company_name", "昆明果然鲜商贸有限公司")
    page.fill("#id_credit_code", CREDIT_CODE)
    page.fill("#id_legal_person", "李果然")
    page.fill("#id_address", "云南省昆明市五华区滇池路 88 号")
    page.fill("#id_phone", phone)
    submit(page, save_button(page))
    expect(step(page, "business")).to_have_attribute("data-state", "done")
    expect(step(page, "business")).to_contain_text("昆明果然鲜商贸有限公司")

    # The five documents the chosen categories require.
    submit(page, step(page, "qualifications").get_by_role("link", name="去上传"))
    rows = page.locator("tr[data-kind]")
    expect(rows).to_have_count(len(ALL_KINDS))
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.kind)") == ALL_KINDS
    for n, kind in enumerate(ALL_KINDS):
        row = page.locator(f'tr[data-kind="{kind}"]')
        expect(row).to_have_attribute("data-status", "missing")
        submit(page, row.get_by_role("link", name="上传"))
        page.set_input_files('input[name="file"]', str(pdf))
        page.fill("#id_number", f"NO-{kind}-{n}")
        page.fill("#id_expires_on", expires)
        submit(page, save_button(page))
        expect(page).to_have_url(stack.url(f"{slug}.localhost", "/console/onboarding/documents/"))
        expect(page.locator(f'tr[data-kind="{kind}"]')).to_have_attribute("data-status", "pending")
    page.goto(stack.url(f"{slug}.localhost", "/console/onboarding/"))
    qualifications = step(page, "qualifications")
    expect(qualifications).to_have_attribute("data-state", "reviewing")
    expect(qualifications).to_contain_text("审核中")
    expect(qualifications).to_contain_text("5/5")

    # Mini-program AppID (the manual field) and the WeChat Pay merchant number.
    submit(page, step(page, "wechat").get_by_role("link", name="去绑定"))
    page.fill("#id_wechat_appid", appid)
    submit(page, save_button(page))
    expect(step(page, "wechat")).to_have_attribute("data-state", "pending")  # until WeChat authorises it
    expect(step(page, "wechat")).to_contain_text(appid)
    expect(step(page, "wechat")).to_contain_text("待授权")
    submit(page, step(page, "pay").get_by_role("link", name="去填写"))
    page.fill("#id_mchid", mchid)
    submit(page, save_button(page))
    expect(step(page, "pay")).to_have_attribute("data-state", "done")

    # Preview: the storefront in a phone frame; the step is then done.
    submit(page, step(page, "preview").get_by_role("link", name="预览店铺"))
    expect(page.locator('[data-preview="ready"]')).to_be_visible()
    frame = page.locator('iframe[title="店铺预览"]')
    expect(frame).to_have_attribute("src", stack.url(f"{slug}.localhost", "/"))
    expect(page.frame_locator('iframe[title="店铺预览"]').locator("body")).to_contain_text(TEMPLATE_PRODUCT)
    page.goto(stack.url(f"{slug}.localhost", "/console/onboarding/"))
    expect(step(page, "preview")).to_have_attribute("data-state", "done")
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nsignup_to_preview_seconds={elapsed:.1f}")

    # What the server stored.
    tenant = Tenant.objects.get(slug=slug)
    assert tenant.name == "果然鲜生鲜店" and tenant.industry == "fresh" and tenant.status == "trial"
    assert tenant.wechat_appid == appid
    assert tenant.owner.masked_phone == f"{phone[:3]}****{phone[-4:]}"
    profile = MerchantProfile.objects.get(tenant=tenant)
    assert sorted(profile.service_categories) == ["food", "travel"]
    assert (profile.template_key, profile.credit_code, profile.wechat_pay_mchid) == ("fresh", CREDIT_CODE, mchid)
    assert profile.previewed_at is not None
    docs = QualificationDocument.objects.filter(tenant=tenant)
    assert sorted(d.kind for d in docs) == sorted(ALL_KINDS)
    assert {(d.status, d.content_type, d.expires_on.isoformat()) for d in docs} == {
        ("pending", "application/pdf", expires)
    }

    # The storefront itself shows the template's products.
    response = page.goto(stack.url(f"{slug}.localhost", "/"))
    assert response.status == 200
    expect(page.locator("main")).to_contain_text(TEMPLATE_PRODUCT)


def test_staff_rejects_merchant_resubmits_staff_approves(
    live_stack, stores, staff_user, page, browser, request, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from saas_platform.review.actions import submit_document
    from saas_platform.review.models import AuditEntry, QualificationDocument

    stack = live_stack
    name = f"复审鲜果店{secrets.token_hex(2)}"
    merchant = make_merchant(stores, name=name)
    doc = submit_document(
        tenant=merchant.tenant,
        kind="business_licence",
        upload=SimpleUploadedFile("licence.pdf", PDF, content_type="application/pdf"),
        number="91530100MA6K000000",
        expires_on=dt.date.today() + dt.timedelta(days=365),
    )
    decide_url = stack.url("localhost", f"/staff/merchants/documents/{doc.pk}/decide/")
    queue_link = f"{name} · 营业执照"

    # Staff: from the dashboard's review queue to the document.
    staff_login(page, stack)
    submit(page, page.locator('[data-panel="review-queue"]').get_by_role("link", name=queue_link))
    expect(page).to_have_url(decide_url)
    expect(page.locator("strong[data-status]")).to_have_attribute("data-status", "pending")
    viewer = page.locator(".document-viewer iframe")
    expect(viewer).to_be_visible()
    file_response = page.request.get(stack.url("localhost", viewer.get_attribute("src")))
    assert file_response.status == 200
    assert file_response.headers["content-type"] == "application/pdf"
    assert file_response.body() == PDF

    # Rejecting needs a reason …
    decide(page, "驳回")
    expect(page.locator(".error-message")).to_contain_text("请填写驳回原因")
    assert QualificationDocument.objects.get(pk=doc.pk).status == "pending"
    page.fill('textarea[name="reason"]', "营业执照照片模糊")
    decide(page, "驳回")
    expect(page).to_have_url(stack.url("localhost", f"/staff/merchants/{merchant.tenant.pk}/"))
    expect(page.locator('tr[data-kind="business_licence"]')).to_contain_text("已驳回")

    # Merchant: sees why, re-uploads a clearer picture.
    context, mpage = merchant_console(browser, stack, merchant)
    try:
        mpage.goto(stack.url(f"{merchant.slug}.localhost", "/console/onboarding/"))
        qualifications = step(mpage, "qualifications")
        expect(qualifications).to_have_attribute("data-state", "rejected")
        expect(qualifications).to_contain_text("被驳回")
        expect(qualifications.locator(".rejected-reason")).to_contain_text("营业执照：营业执照照片模糊")

        submit(mpage, qualifications.get_by_role("link", name="去上传"))
        row = mpage.locator('tr[data-kind="business_licence"]')
        expect(row).to_have_attribute("data-status", "rejected")
        expect(row).to_contain_text("营业执照照片模糊")
        png = tmp_path / "licence-clear.png"
        png.write_bytes(PNG)
        submit(mpage, row.get_by_role("link", name="重新上传"))
        mpage.set_input_files('input[name="file"]', str(png))
        submit(mpage, save_button(mpage))
        expect(mpage).to_have_url(stack.url(f"{merchant.slug}.localhost", "/console/onboarding/documents/"))
        expect(row).to_have_attribute("data-status", "pending")
        expect(row).not_to_contain_text("营业执照照片模糊")

        # Staff: pending again, now the PNG; approve.
        page.goto(stack.url("localhost", "/staff/"))
        submit(page, page.locator('[data-panel="review-queue"]').get_by_role("link", name=queue_link))
        expect(page).to_have_url(decide_url)
        expect(page.locator("strong[data-status]")).to_have_attribute("data-status", "pending")
        expect(page.locator(".document-viewer img")).to_be_visible()
        image = page.request.get(stack.url("localhost", page.locator(".document-viewer img").get_attribute("src")))
        assert image.status == 200 and image.headers["content-type"] == "image/png" and image.body() == PNG
        decide(page, "通过")
        expect(page.locator('tr[data-kind="business_licence"]')).to_contain_text("已通过")

        # Merchant: approved.
        mpage.reload()
        expect(row).to_have_attribute("data-status", "approved")
        expect(row).to_contain_text("已通过")
    finally:
        close_with_screenshot(context, mpage, request, "merchant")

    stored = QualificationDocument.objects.get(pk=doc.pk)
    assert (stored.status, stored.content_type, stored.reject_reason) == ("approved", "image/png", "")
    assert stored.reviewed_by_id == staff_user.pk
    trail = list(AuditEntry.objects.filter(tenant=merchant.tenant).order_by("created").values_list("action", "reason"))
    assert trail == [
        ("document_submitted", ""),
        ("document_rejected", "营业执照照片模糊"),
        ("document_submitted", ""),
        ("document_approved", ""),
    ]


def test_bad_input_is_explained_in_chinese(live_stack, stores, page, tmp_path):
    from saas_platform.review.models import QualificationDocument
    from tenants.models import Tenant

    stack = live_stack
    tenants_before = Tenant.objects.count()

    # Sign-up: a malformed phone number; no code is sent.
    page.goto(stack.url("localhost", "/accounts/signup/"))
    page.fill("#id_phone", "12345")
    submit(page, page.get_by_role("button", name="获取验证码"))
    expect(page.locator('[data-field="phone"] .field-error')).to_have_text("请输入正确的 11 位手机号。")
    expect(page.locator("main")).not_to_contain_text("验证码已发送")
    with pytest.raises(AssertionError, match="no SMS was sent"):
        stack.sms_code("12345")

    merchant = make_merchant(stores, name="错误提示测试店")
    platform_login(page, stack, merchant.phone, MERCHANT_PASSWORD)

    # Store form: a reserved store identifier.
    page.goto(stack.url("localhost", "/accounts/stores/new/"))
    page.fill("#id_name", "万维网鲜果")
    page.fill("#id_slug", "www")
    page.select_option("#id_industry", "fresh")
    expect_category_choices(page)
    page.check('input[name="categories"][value="food"]')
    submit(page, page.get_by_role("button", name="创建店铺"))
    expect(page).to_have_url(stack.url("localhost", "/accounts/stores/new/"))
    expect(page.locator('[data-field="slug"] .field-error')).to_contain_text("系统保留")
    expect(page.locator("#id_slug")).to_have_value("www")

    # Document upload: a text file is refused.
    page.goto(stack.url("localhost", "/accounts/home/"))
    enter_console(page, stack, merchant.slug)
    upload_url = stack.url(f"{merchant.slug}.localhost", "/console/onboarding/documents/business_licence/")
    page.goto(upload_url)
    txt = tmp_path / "licence.txt"
    txt.write_bytes("营业执照（文字版）\n".encode())
    page.set_input_files('input[name="file"]', str(txt))
    submit(page, save_button(page))
    expect(page).to_have_url(upload_url)
    expect(page.locator('[data-field="file"] .field-error')).to_have_text("只支持 PDF、PNG 或 JPG 格式的文件。")

    # Nothing was created.
    assert not Tenant.objects.filter(slug="www").exists()
    assert Tenant.objects.count() == tenants_before + 1  # only the merchant made above
    assert not QualificationDocument.objects.filter(tenant=merchant.tenant).exists()


def test_suspended_store_refuses_the_api_and_the_console_is_read_only(
    live_stack, stores, staff_user, page, browser, request
):
    from saas_platform.onboarding.models import MerchantProfile
    from tenants.models import Tenant

    stack = live_stack
    merchant = make_merchant(stores, name="停用测试鲜果店")
    tenant_pk = merchant.tenant.pk
    assert api_products(stack, merchant.slug)[0] == 200

    context, mpage = merchant_console(browser, stack, merchant)
    try:
        pay_url = stack.url(f"{merchant.slug}.localhost", "/console/onboarding/pay/")
        mpage.goto(pay_url)

        # Staff suspend the store, with a reason.
        staff_login(page, stack)
        page.goto(stack.url("localhost", f"/staff/merchants/{tenant_pk}/"))
        status = page.locator("[data-tenant-status]")
        expect(status).to_have_attribute("data-tenant-status", "trial")
        page.fill('textarea[name="reason"]', "涉嫌售假，暂停营业待核查")
        submit(page, page.get_by_role("button", name="停用店铺"))
        suspended_at = time.monotonic()
        expect(status).to_have_attribute("data-tenant-status", "suspended")
        expect(page.get_by_role("button", name="恢复店铺")).to_be_visible()
        expect(page.locator("body")).to_contain_text("涉嫌售假，暂停营业待核查")  # in the audit trail
        assert Tenant.objects.get(pk=tenant_pk).status == "suspended"

        # The storefront API is closed …
        payload = settle_api(stack, merchant.slug, suspended_at, 403)
        assert payload["error"]["code"] == "store_closed"

        # … and the console is read-only: it still shows pages but refuses a change.
        mpage.fill("#id_mchid", "1900000109")
        with mpage.expect_navigation() as nav:
            save_button(mpage).click()
        assert nav.value.status == 403
        expect(mpage.get_by_role("heading", name="店铺已停用，后台为只读")).to_be_visible()
        assert MerchantProfile.objects.get(tenant_id=tenant_pk).wechat_pay_mchid == ""
        response = mpage.goto(stack.url(f"{merchant.slug}.localhost", "/console/onboarding/"))
        assert response.status == 200
        expect(step(mpage, "pay")).to_have_attribute("data-state", "todo")

        # Staff reinstate: the API answers again and the console takes changes.
        page.fill('textarea[name="reason"]', "核查无误，恢复营业")
        submit(page, page.get_by_role("button", name="恢复店铺"))
        reinstated_at = time.monotonic()
        expect(status).to_have_attribute("data-tenant-status", "trial")
        expect(page.get_by_role("button", name="停用店铺")).to_be_visible()
        payload = settle_api(stack, merchant.slug, reinstated_at, 200)
        assert isinstance(payload, (list, dict))

        mpage.goto(pay_url)
        mpage.fill("#id_mchid", "1900000109")
        submit(mpage, save_button(mpage))
        expect(mpage).to_have_url(stack.url(f"{merchant.slug}.localhost", "/console/onboarding/"))
        expect(step(mpage, "pay")).to_have_attribute("data-state", "done")
    finally:
        close_with_screenshot(context, mpage, request, "merchant")
    assert MerchantProfile.objects.get(tenant_id=tenant_pk).wechat_pay_mchid == "1900000109"
