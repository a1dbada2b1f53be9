"""Merchant console: the store owner's team screen (sub-accounts). Owner only
(``accounts.manage_team``); every change is an action of ``saas_platform.accounts.team``."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks

from core import console as scope
from core.forms import add_action_errors
from saas_platform.accounts import roles, team

scope.MERCHANT_ONLY_PREFIXES.add("team")

ROLE_CHOICES = [(r, roles.MERCHANT_ROLES[r][0]) for r in roles.MEMBER_ROLES]


class InviteForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("手机号"), max_length=20, error_messages={"required": gettext_lazy("请输入手机号。")}
    )
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=30, required=False)
    role = forms.ChoiceField(
        label=gettext_lazy("角色"), choices=ROLE_CHOICES, error_messages={"required": gettext_lazy("请选择角色。")}
    )


class MemberForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=ROLE_CHOICES, required=False)


@scope.require_perm(roles.MANAGE_TEAM)
def team_view(request):
    invite = InviteForm(request.POST if request.POST.get("do") == "invite" else None, prefix="invite")
    member_form = MemberForm(request.POST if request.POST.get("do") in ("role", "disable", "enable") else None)
    if request.method == "POST":
        do = request.POST.get("do")
        form = invite if do == "invite" else member_form
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                if do == "invite":
                    team.invite_member(phone=data["phone"], role=data["role"], name=data["name"])
                    messages.success(request, _("已邀请 %(phone)s。") % {"phone": data["phone"]})
                elif do == "role":
                    if not data.get("role"):
                        raise ValidationError({"role": _("请选择角色。")})
                    team.set_member_role(console_user_id=data["member"], role=data["role"])
                    messages.success(request, _("角色已更新。"))
                else:
                    team.set_member_active(console_user_id=data["member"], active=do == "enable")
                    messages.success(request, _("账号已停用。") if do == "disable" else _("账号已启用。"))
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                return redirect("team")
        elif not form.is_bound:
            return render(request, "errors/forbidden.html", {"reason": _("未知的操作。")}, status=400)
    return render(
        request,
        "accounts/team.html",
        {
            "page_title": _("店铺成员"),
            "rows": team.team(),
            "invite": invite,
            "member_form": member_form,
            "role_choices": ROLE_CHOICES,
        },
        status=400 if request.method == "POST" else 200,
    )


@hooks.register("register_admin_urls")
def team_urls():
    return [path("team/", team_view, name="team")]


@hooks.register("register_admin_menu_item")
def team_menu_item():
    return scope.PermissionMenuItem(
        gettext_lazy("店铺成员"), reverse("team"), icon_name="group", order=950, perm=roles.MANAGE_TEAM
    )
