"""Shared pieces of the distribution console screens (``console_*.py``): the store's own name
for promoters, the confirmation every action button carries, and the page-again-with-errors
helper (house rule 12: screens show state read-only and change it through actions)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import connection
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy

DEFAULT_NAME = "推广员"


def promoter_name() -> str:
    """The store's word for promoters (推广员, 创客, 推客, 合伙人): every screen says it."""
    if connection.schema_name == "public":
        return DEFAULT_NAME
    from mall.promoters.models import DistributionSettings

    return DistributionSettings.current().promoter_name or DEFAULT_NAME


class ConfirmForm(forms.Form):
    """Every action button names the object the merchant is looking at (its invite code, or a
    withdrawal's number): a stale page or a stray POST changes nothing."""

    confirm = forms.CharField(widget=forms.HiddenInput, error_messages={"required": gettext_lazy("请从详情页操作。")})

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = str(expected)
        self.fields["confirm"].initial = self.expected

    def clean_confirm(self):
        value = self.cleaned_data["confirm"]
        if value != self.expected:
            raise forms.ValidationError(gettext_lazy("页面已过期，请刷新后再操作。"))
        return value


class ReasonForm(ConfirmForm):
    reason = forms.CharField(
        label=gettext_lazy("原因"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("请填写原因。")},
    )


def page_again(view, request, form_key: str, form, **kwargs):
    """The detail page again (read-only, GET), with the failed action form's errors (400)."""
    request.method = "GET"
    response = view(request, **kwargs)
    if isinstance(response, TemplateResponse):
        response.context_data[form_key] = form
        response.context_data["action_errors"] = True
        response.status_code = 400
    return response


def flash_errors(request, form) -> None:
    for errors in form.errors.values():
        for e in errors:
            messages.error(request, e)
