"""Platform host: sign-up, password reset, store creation. Thin: the actions decide."""

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from saas_platform.accounts.actions import issue_console_link
from saas_platform.accounts.forms import client_ip
from saas_platform.onboarding import actions
from saas_platform.onboarding.forms import ResetForm, SignUpForm, StoreForm
from saas_platform.onboarding.models import SmsPurpose


def _apply_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def sign_up(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "send_code" in request.POST:
                actions.send_code(phone=data["phone"], purpose=SmsPurpose.SIGN_UP, ip=client_ip(request))
                messages.success(request, _("验证码已发送，请查收短信。"))
                return render(request, "onboarding/signup.html", {"form": SignUpForm(initial=data), "code_sent": True})
            if not data["agree"]:
                raise ValidationError({"agree": _("请先阅读并同意服务协议。")})
            user = actions.sign_up(phone=data["phone"], code=data["code"], password=data["password"], name=data["name"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            auth.login(request, user, backend="saas_platform.accounts.backends.PhoneOrUsernameBackend")
            return redirect("onboarding:new_store")
    return render(request, "onboarding/signup.html", {"form": form})


def reset_password(request):
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "send_code" in request.POST:
                actions.send_code(phone=data["phone"], purpose=SmsPurpose.RESET_PASSWORD, ip=client_ip(request))
                messages.success(request, _("验证码已发送，请查收短信。"))
                return render(request, "onboarding/reset.html", {"form": ResetForm(initial=data), "code_sent": True})
            actions.reset_password(phone=data["phone"], code=data["code"], password=data["password"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("密码已重置，请用新密码登录。"))
            return redirect("accounts:login")
    return render(request, "onboarding/reset.html", {"form": form})


@login_required
def new_store(request):
    form = StoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenant = actions.create_store(
                owner=request.user,
                slug=data["slug"],
                name=data["name"],
                industry=data["industry"],
                categories=data["categories"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect(issue_console_link(user=request.user, tenant=tenant, next_path="/console/onboarding/"))
    return render(request, "onboarding/new_store.html", {"form": form})
