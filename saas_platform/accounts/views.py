from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from saas_platform.accounts.actions import issue_console_link, redeem_console_link
from saas_platform.accounts.forms import PlatformAuthenticationForm
from tenants.models import Tenant


def landing(request):
    return render(request, "platform/landing.html")


class PlatformLoginView(LoginView):
    template_name = "platform/login.html"
    authentication_form = PlatformAuthenticationForm
    redirect_authenticated_user = True


@login_required
def home(request):
    from django.db.models import Q

    stores = Tenant.objects.filter(
        Q(owner=request.user) | Q(members__user=request.user, members__is_active=True)
    ).distinct()
    if request.user.is_staff and not stores.exists():
        return redirect("/staff/")
    stores = stores.order_by("created")
    return render(request, "platform/home.html", {"stores": stores})


@login_required
@require_POST
def open_console(request, slug):
    tenant = get_object_or_404(Tenant, slug=slug)
    return redirect(issue_console_link(user=request.user, tenant=tenant))


def console_link(request):
    """Tenant host: turn a console link into a console session (403 if replayed, expired or
    meant for another store)."""
    try:
        user, next_path = redeem_console_link(token=request.GET.get("token", ""), tenant=connection.tenant)
    except PermissionDenied as exc:
        return HttpResponseForbidden(
            render(request, "errors/forbidden.html", {"reason": str(exc)}).content,
            content_type="text/html; charset=utf-8",
        )
    auth.login(request, user, backend="saas_platform.accounts.backends.PhoneOrUsernameBackend")
    return redirect(next_path)
