"""Platform host: sign-up, password reset, store creation. Thin: the actions decide."""

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.forms import add_action_errors
from saas_platform.accounts.actions import issue_console_link
from saas_platform.accounts.forms import client_ip
from saas_platform.onboarding import actions
from saas_platform.onboarding.forms import ResetForm, SignUpForm, StoreForm
from saas_platform.onboarding.models import SmsPurpose


def _code_form(request, form_class, template: str, purpose: str, submit):
    """A phone + SMS code form: the 获取验证码 button sends a code; the other submits through
    ``submit(cleaned_data)``, which returns the response. Action errors land on their fields."""
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "send_code" in request.POST:
                actions.send_code(phone=data["phone"], purpose=purpose, ip=client_ip(request))
                # The same answer whether or not the number is registered (no enumeration).
                messages.success(request, _("如果该号码可以接收短信，验证码已发送，请查收。"))
                return render(request, template, {"form": form_class(initial=data), "code_sent": True})
            return submit(data)
        except ValidationError as exc:
            add_action_errors(form, exc)
    return render(request, template, {"form": form})


def sign_up(request):
    def submit(data):
        user = actions.sign_up(
            phone=data["phone"],
            code=data["code"],
            password=data["password"],
            name=data["name"],
            agreed=data["agree"],
            ip=client_ip(request),
        )
        auth.login(request, user, backend="saas_platform.accounts.backends.PhoneOrUsernameBackend")
        return redirect("onboarding:new_store")

    return _code_form(request, SignUpForm, "onboarding/signup.html", SmsPurpose.SIGN_UP, submit)


def reset_password(request):
    def submit(data):
        actions.reset_password(phone=data["phone"], code=data["code"], password=data["password"], ip=client_ip(request))
        messages.success(request, _("密码已重置，请用新密码登录。"))
        return redirect("accounts:login")

    return _code_form(request, ResetForm, "onboarding/reset.html", SmsPurpose.RESET_PASSWORD, submit)


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
            add_action_errors(form, exc)
        else:
            return redirect(issue_console_link(user=request.user, tenant=tenant, next_path="/console/onboarding/"))
    return render(request, "onboarding/new_store.html", {"form": form})
