from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from saas_platform.accounts.actions import check_login_allowed, clear_login_failures, record_login_failure


def client_ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request else "unknown"


class PlatformAuthenticationForm(AuthenticationForm):
    """Django's login form with throttling per IP and a lock-out after repeated failures."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        check_login_allowed(username=username, ip=client_ip(self.request))
        try:
            cleaned = super().clean()
        except ValidationError:
            record_login_failure(username=username)
            raise
        clear_login_failures(username=username)
        return cleaned
