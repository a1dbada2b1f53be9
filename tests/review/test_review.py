import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from mall.catalog.models import Product
from saas_platform.onboarding import actions as onboarding
from saas_platform.onboarding.selectors import checklist
from saas_platform.review import actions, storage
from saas_platform.review.models import AuditEntry, DocumentStatus, QualificationDocument
from saas_platform.review.selectors import required_kinds
from tenants.models import Tenant, TenantStatus
from tests.onboarding.conftest import last_outbox_pk, queued_sms
from tests.review.conftest import PDF, PNG


def upload(name="licence.pdf", data=PDF, ctype="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=ctype)


def states(tenant):
    return {s.key: s.state for s in checklist(Tenant.objects.get(pk=tenant.pk))}


def test_required_documents_follow_the_chosen_categories(food_store):
    kinds = required_kinds(Tenant.objects.get(pk=food_store.pk))
    assert kinds == ["business_licence", "legal_person_id", "icp_filing", "food_licence", "travel_licence"]


def test_checklist_walks_from_todo_to_done(food_store, reviewer):
    tenant = food_store
    assert states(tenant) == {
        "store": "done", "template": "todo", "business": "todo", "qualifications": "todo",
        "wechat": "todo", "pay": "todo", "preview": "todo",
    }  # fmt: skip
    onboarding.choose_template(tenant=tenant, key="fresh")
    with schema_context(tenant.schema_name):
        assert Product.objects.filter(title="赣南脐橙 5斤装").exists()
    onboarding.update_business(
        tenant=tenant,
        company_name="昆明鲜味商贸有限公司",
        credit_code="91530100MA6K000000",
        legal_person="张三",
        address="云南省昆明市五华区",
        phone="13812345678",
    )
    for kind in required_kinds(Tenant.objects.get(pk=tenant.pk)):
        actions.submit_document(
            tenant=tenant, kind=kind, upload=upload(), expires_on=timezone.localdate() + dt.timedelta(days=400)
        )
    assert states(tenant)["qualifications"] == "reviewing"
    for doc in QualificationDocument.objects.filter(tenant=tenant):
        actions.approve_document(document=doc, reviewer=reviewer)
    onboarding.set_pay_merchant(tenant=tenant, mchid="1900000109")
    from tenants.actions import bind_wechat_appid

    appid = "wx" + tenant.schema_name.encode().hex()[:16].ljust(16, "0")
    bind_wechat_appid(tenant=tenant, appid=appid)
    onboarding.mark_previewed(tenant=tenant)
    assert states(tenant)["wechat"] == "pending"  # typed, not yet authorised through WeChat
    from saas_platform.miniprogram.actions import save_authorization

    save_authorization(info={"authorizer_appid": appid}, tenant=Tenant.objects.get(pk=tenant.pk))
    assert set(states(tenant).values()) == {"done"}


def test_reject_shows_the_reason_then_resubmit_and_approve(food_store, reviewer):
    tenant = food_store
    doc = actions.submit_document(tenant=tenant, kind="food_licence", upload=upload(), number="JY15301020000001")
    first_key = doc.file_key
    with pytest.raises(ValidationError) as err:
        actions.reject_document(document=doc, reviewer=reviewer, reason="")
    assert "reason" in err.value.message_dict
    actions.reject_document(document=doc, reviewer=reviewer, reason="照片模糊，看不清许可证编号")
    step = next(s for s in checklist(Tenant.objects.get(pk=tenant.pk)) if s.key == "qualifications")
    assert step.state == "rejected"
    assert any("照片模糊" in r for r in step.reasons)
    again = actions.submit_document(tenant=tenant, kind="food_licence", upload=upload("clear.png", PNG, "image/png"))
    assert again.pk == doc.pk and again.status == DocumentStatus.PENDING and again.reject_reason == ""
    assert not storage.exists(first_key)  # the replaced file is gone, no orphan
    approved = actions.approve_document(document=again, reviewer=reviewer)
    assert approved.status == DocumentStatus.APPROVED
    trail = list(
        AuditEntry.objects.filter(tenant=tenant).order_by("created").values_list("action", "actor_id", "reason")
    )
    assert [a for a, _, _ in trail] == [
        "document_submitted",
        "document_rejected",
        "document_submitted",
        "document_approved",
    ]
    assert trail[1] == ("document_rejected", reviewer.pk, "照片模糊，看不清许可证编号")


def test_wrong_type_and_oversized_files_are_refused_and_nothing_is_stored(food_store, settings):
    tenant = food_store
    with pytest.raises(ValidationError) as err:
        actions.submit_document(
            tenant=tenant, kind="business_licence", upload=upload("virus.exe", b"MZ\x90\x00" * 10, "application/pdf")
        )
    assert err.value.message_dict["file"] == ["只支持 PDF、PNG 或 JPG 格式的文件。"]
    settings.QUALIFICATION_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as err:
        actions.submit_document(tenant=tenant, kind="business_licence", upload=upload(data=PDF + b"0" * 2048))
    assert "文件太大" in err.value.message_dict["file"][0]
    assert not QualificationDocument.objects.filter(tenant=tenant).exists()
    from core.storage import backend

    folder = f"tenants/{tenant.schema_name}/qualifications"
    assert not backend().exists(folder) or backend().listdir(folder)[1] == []


def test_a_failed_save_removes_the_new_file(food_store, monkeypatch):
    saved = []
    real_save = storage.save
    monkeypatch.setattr(storage, "save", lambda *a: saved.append(real_save(*a)) or saved[-1])
    monkeypatch.setattr(actions, "_audit", lambda **kw: (_ for _ in ()).throw(RuntimeError("db down")))
    with pytest.raises(RuntimeError):
        actions.submit_document(tenant=food_store, kind="icp_filing", upload=upload())
    assert saved and not storage.exists(saved[0])
    assert not QualificationDocument.objects.filter(tenant=food_store).exists()


def test_expiry_reminds_once_and_flags_expired_licences(food_store, reviewer, memory_sms):
    tenant = food_store
    today = timezone.localdate()
    soon = actions.submit_document(
        tenant=tenant, kind="food_licence", upload=upload(), expires_on=today + dt.timedelta(days=10)
    )
    old = actions.submit_document(
        tenant=tenant, kind="travel_licence", upload=upload(), expires_on=today + dt.timedelta(days=5)
    )
    actions.approve_document(document=soon, reviewer=reviewer)
    actions.approve_document(document=old, reviewer=reviewer)
    before = last_outbox_pk()
    assert actions.check_licence_expiry(today=today)["reminded"] >= 2
    # The reminders go through the outbox (this store is committed, so a live worker of another
    # test may deliver them first: read what the action queued, not what a sender received).
    owner_phone = tenant.owner.phone
    reminders = [m for m in queued_sms(after_pk=before) if m["phone"] == owner_phone]
    assert any("食品经营许可证" in m["text"] for m in reminders)
    before = last_outbox_pk()
    assert actions.check_licence_expiry(today=today)["reminded"] == 0  # once per expiry date
    assert [m for m in queued_sms(after_pk=before) if m["phone"] == owner_phone] == []
    result = actions.check_licence_expiry(today=today + dt.timedelta(days=6))
    assert result["expired"] >= 1
    assert QualificationDocument.objects.get(pk=old.pk).status == DocumentStatus.EXPIRED
    assert next(s for s in checklist(Tenant.objects.get(pk=tenant.pk)) if s.key == "qualifications").state == "rejected"


def test_suspend_closes_the_store_api_and_makes_the_console_read_only(food_store, reviewer):
    tenant = food_store
    owner = Tenant.objects.get(pk=tenant.pk).owner  # read before requests move the connection's schema
    with pytest.raises(ValidationError):
        actions.suspend_tenant(tenant=tenant, actor=reviewer, reason="")
    actions.suspend_tenant(tenant=tenant, actor=reviewer, reason="销售违禁商品")
    api = Client().get("/api/v1/products", HTTP_HOST=tenant.primary_host)
    assert api.status_code == 403 and api.json()["error"]["code"] == "store_closed"
    from saas_platform.accounts.actions import issue_console_link

    client = Client()
    link = issue_console_link(user=owner, tenant=tenant)
    assert client.get("/" + link.split("/", 3)[3], HTTP_HOST=tenant.primary_host).status_code == 302
    assert client.get("/console/onboarding/", HTTP_HOST=tenant.primary_host).status_code == 200  # readable
    change = client.post("/console/onboarding/pay/", {"mchid": "1900000109"}, HTTP_HOST=tenant.primary_host)
    assert change.status_code == 403
    assert "只读" in change.content.decode()
    connection.set_schema_to_public()
    actions.reinstate_tenant(tenant=tenant, actor=reviewer, reason="已整改")
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.TRIAL
    assert Client().get("/api/v1/products", HTTP_HOST=tenant.primary_host).status_code == 200
    connection.set_schema_to_public()
    assert list(
        AuditEntry.objects.filter(tenant=tenant, action__startswith="tenant_").values_list("reason", flat=True)
    ) == [
        "已整改",
        "销售违禁商品",
    ]


def test_document_files_reach_staff_and_the_owner_only(food_store, tenant_a, reviewer):
    other_owner = Tenant.objects.get(pk=tenant_a.pk).owner
    doc = actions.submit_document(tenant=food_store, kind="business_licence", upload=upload())
    link = "/review-files/?t=" + storage.link_token(doc.pk, food_store.schema_name)
    assert Client().get(link, HTTP_HOST="localhost").status_code == 404  # anonymous
    staff = Client()
    staff.force_login(reviewer)
    shown = staff.get(link, HTTP_HOST="localhost")
    assert shown.status_code == 200 and b"".join(shown.streaming_content) == PDF
    # Another merchant's console session on its own host cannot use the link.
    from saas_platform.accounts.actions import issue_console_link

    other = Client()
    other_link = issue_console_link(user=other_owner, tenant=tenant_a)
    other.get("/" + other_link.split("/", 3)[3], HTTP_HOST=tenant_a.primary_host)
    assert other.get(link, HTTP_HOST=tenant_a.primary_host).status_code == 404
    with override_settings(PRIVATE_FILE_LINK_SECONDS=0):
        import time

        time.sleep(1.1)
        assert staff.get(link, HTTP_HOST="localhost").status_code == 404  # expired link
