from django.contrib.auth.forms import AuthenticationForm

from saas_platform.accounts.throttle import client_ip

__all__ = ["PlatformAuthenticationForm", "client_ip"]


class PlatformAuthenticationForm(AuthenticationForm):
    """Django's login form. Throttling (per account, per IP) happens in the authentication
    backends, for this form and Wagtail's alike (saas_platform/accounts/throttle.py)."""
