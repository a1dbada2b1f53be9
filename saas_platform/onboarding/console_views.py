"""Merchant console (tenant host, Wagtail admin): the guided onboarding checklist."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import add_action_errors
from saas_platform.onboarding import actions
from saas_platform.onboarding.selectors import checklist, profile_for
from saas_platform.review import storage
from saas_platform.review.actions import submit_document
from saas_platform.review.models import DocumentKind, QualificationDocument
from saas_platform.review.selectors import documents_by_kind, required_kinds
from storefront_templates.loader import available_templates
from tenants.actions import bind_wechat_appid


def _tenant():
    from tenants.models import Tenant

    return Tenant.objects.select_related("profile").get(pk=connection.tenant.pk)


class BusinessForm(forms.Form):
    company_name = forms.CharField(label=gettext_lazy("主体名称"), max_length=100, required=False)
    credit_code = forms.CharField(label=gettext_lazy("统一社会信用代码"), max_length=18, required=False)
    legal_person = forms.CharField(label=gettext_lazy("法定代表人"), max_length=40, required=False)
    address = forms.CharField(label=gettext_lazy("经营地址"), max_length=200, required=False)
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=20, required=False)


class DocumentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("文件（PDF、PNG、JPG，≤ 10 MB）"), required=False)
    number = forms.CharField(label=gettext_lazy("证照编号"), max_length=64, required=False)
    expires_on = forms.DateField(
        label=gettext_lazy("有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class AppIdForm(forms.Form):
    wechat_appid = forms.CharField(label=gettext_lazy("小程序 AppID"), max_length=32, required=False)


class PayForm(forms.Form):
    mchid = forms.CharField(label=gettext_lazy("微信支付商户号"), max_length=16, required=False)


def _wechat_bind_url() -> str | None:
    """The WeChat authorization flow's entry, when the WeChat integration provides it."""
    for name in ("wechat_binding",):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def overview(request):
    tenant = _tenant()
    return render(
        request,
        "onboarding/console/checklist.html",
        {"steps": checklist(tenant), "tenant": tenant, "page_title": _("开店向导")},
    )


def choose_template(request):
    tenant = _tenant()
    if request.method == "POST":
        try:
            actions.choose_template(tenant=tenant, key=request.POST.get("template", ""))
        except ValidationError as exc:
            messages.error(request, "; ".join(sum(exc.message_dict.values(), [])))
        else:
            messages.success(request, _("模板已应用，示例分类和商品已添加。"))
            return redirect("onboarding_console:overview")
    return render(
        request,
        "onboarding/console/template.html",
        {"templates": available_templates(), "profile": profile_for(tenant), "page_title": _("选择模板")},
    )


def _step_form(request, form, save, *, done: str, title, back: str = "onboarding_console:overview", **context):
    """One checklist step: show ``form``; on a valid POST call ``save(cleaned_data)`` (an action)
    and go back, or show the action's field errors on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(back)
    return render(request, "onboarding/console/form.html", {"form": form, "page_title": title, **context})


def business(request):
    tenant = _tenant()
    profile = profile_for(tenant)
    initial = {k: getattr(profile, k) for k in ("company_name", "credit_code", "legal_person", "address", "phone")}
    return _step_form(
        request,
        BusinessForm(request.POST or None, initial=initial),
        lambda data: actions.update_business(tenant=tenant, **data),
        done=_("主体信息已保存。"),
        title=_("填写主体信息"),
    )


def documents(request):
    tenant = _tenant()
    docs = documents_by_kind(tenant)
    rows = [(DocumentKind(k), docs.get(k)) for k in required_kinds(tenant)]
    return render(request, "onboarding/console/documents.html", {"rows": rows, "page_title": _("上传资质")})


def upload_document(request, kind: str):
    tenant = _tenant()
    if kind not in required_kinds(tenant):
        raise Http404
    return _step_form(
        request,
        DocumentForm(request.POST or None, request.FILES or None),
        lambda d: submit_document(
            tenant=tenant, kind=kind, upload=d["file"], number=d["number"], expires_on=d["expires_on"]
        ),
        done=_("已提交，等待平台审核。"),
        title=DocumentKind(kind).label,
        back="onboarding_console:documents",
        multipart=True,
    )


def document_file(request, pk: int):
    """The merchant's own document through a fresh signed link (no other tenant's)."""
    doc = QualificationDocument.objects.filter(pk=pk, tenant_id=connection.tenant.pk).first()
    if doc is None:
        raise Http404
    return redirect(reverse("review_file") + "?t=" + storage.link_token(doc.pk, connection.tenant.schema_name))


def wechat(request):
    tenant = _tenant()
    return _step_form(
        request,
        AppIdForm(request.POST or None, initial={"wechat_appid": tenant.wechat_appid or ""}),
        lambda d: bind_wechat_appid(tenant=tenant, appid=d["wechat_appid"]),
        done=_("小程序 AppID 已登记，待微信授权后生效。"),
        title=_("绑定小程序"),
        bind_url=_wechat_bind_url(),
        tenant=tenant,
    )


def pay(request):
    tenant = _tenant()
    return _step_form(
        request,
        PayForm(request.POST or None, initial={"mchid": profile_for(tenant).wechat_pay_mchid}),
        lambda d: actions.set_pay_merchant(tenant=tenant, mchid=d["mchid"]),
        done=_("微信支付商户号已保存。"),
        title=_("微信支付商户号"),
    )


def preview(request):
    tenant = _tenant()
    actions.mark_previewed(tenant=tenant)
    return render(
        request,
        "onboarding/console/preview.html",
        {"tenant": tenant, "store_url": tenant.absolute_url("/"), "page_title": _("预览店铺")},
    )
