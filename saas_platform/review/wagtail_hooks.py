from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import include, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from core import console as scope
from core.forms import add_action_errors
from saas_platform.review import actions, storage
from saas_platform.review.models import AuditEntry, QualificationDocument
from saas_platform.review.selectors import documents_by_kind, required_kinds
from tenants.models import Tenant


class DocumentViewSet(ModelViewSet):
    model = QualificationDocument
    icon = "doc-full"
    menu_label = gettext_lazy("资质审核")
    url_prefix = "review/documents"
    list_display = ["tenant", "kind", "status", "submitted_at", "expires_on", "reviewed_at"]
    list_filter = ["status", "kind", "tenant__industry", "submitted_at"]
    search_fields = ["tenant__name", "tenant__slug", "number"]
    create_view_enabled = False
    inspect_view_enabled = False
    form_fields = ["number", "expires_on"]
    ordering = ["submitted_at"]


class AuditViewSet(ModelViewSet):
    model = AuditEntry
    icon = "history"
    menu_label = gettext_lazy("审核记录")
    url_prefix = "review/audit"
    list_display = ["created", "tenant", "actor", "action", "subject", "reason"]
    list_filter = ["action", "created"]
    search_fields = ["tenant__name", "reason", "subject"]
    create_view_enabled = False
    form_fields = ["reason"]

    def get_edit_handler(self):  # read-only trail: no edit screen
        return None


class ReviewGroup(ModelViewSetGroup):
    menu_label = gettext_lazy("审核")
    menu_icon = "doc-full"
    menu_order = 110
    items = (DocumentViewSet("review_documents"), AuditViewSet("review_audit"))


review_group = ReviewGroup()
for vs in review_group.registerables:
    scope.staff_only(vs)
scope.STAFF_ONLY_PREFIXES.update({"review", "merchants"})


@hooks.register("register_admin_viewset")
def register_review():
    return review_group


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


def decide(request, pk: int):
    doc = get_object_or_404(QualificationDocument.objects.select_related("tenant"), pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("decision") == "approve":
                actions.approve_document(document=doc, reviewer=request.user)
                messages.success(request, _("已通过：%(doc)s") % {"doc": doc})
            else:
                actions.reject_document(document=doc, reviewer=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("已驳回：%(doc)s") % {"doc": doc})
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("review_staff:merchant", pk=doc.tenant_id)
    link = reverse("review_file") + "?t=" + storage.link_token(doc.pk, doc.tenant.schema_name)
    return render(
        request,
        "review/decide.html",
        {"doc": doc, "form": form, "file_url": link, "page_title": str(doc)},
    )


def merchant(request, pk: int):
    tenant = get_object_or_404(Tenant.objects.exclude(schema_name="public"), pk=pk)
    docs = documents_by_kind(tenant)
    rows = [(kind, docs.get(kind)) for kind in required_kinds(tenant)]
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "suspend":
                actions.suspend_tenant(tenant=tenant, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("店铺已停用。"))
            else:
                actions.reinstate_tenant(tenant=tenant, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("店铺已恢复。"))
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            return redirect("review_staff:merchant", pk=tenant.pk)
    return render(
        request,
        "review/merchant.html",
        {
            "tenant": tenant,
            "profile": getattr(tenant, "profile", None),
            "rows": rows,
            "form": form,
            "audit": AuditEntry.objects.filter(tenant=tenant).select_related("actor")[:50],
            "page_title": tenant.name,
        },
    )


urls = (
    [path("documents/<int:pk>/decide/", decide, name="decide"), path("<int:pk>/", merchant, name="merchant")],
    "review_staff",
)


@hooks.register("register_admin_urls")
def register_review_urls():
    return [path("merchants/", include(urls))]
