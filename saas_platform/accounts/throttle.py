"""Login throttling for every login form (platform, /staff/login/, each store's /console/login/).

django-axes counts failures at the authentication-backend level (``AxesStandaloneBackend`` first
in ``AUTHENTICATION_BACKENDS``), in its tables in the public schema, so there is one counter per
account platform-wide. ``account_key`` is axes' username callable: it turns whatever was typed
into the account it names, so ``13800138002``, ``+86 138-0013-8002`` and ``m13800138002`` share a
counter, and a store's console user linked to a platform account shares that account's counter.
``LoginRateBackend`` keeps the per-IP limit on attempts (``LOGIN_LIMIT_PER_IP`` per 10 minutes).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.shortcuts import render
from django.utils.translation import gettext as _

from core import crypto, ratelimit

IP_WINDOW_SECONDS = 600


def _login_string(username: str) -> str:
    """The login string as an account would be found by it: a phone number bare, else lowercased."""
    username = (username or "").strip()
    if crypto.is_valid_phone(username):
        return crypto.normalize_phone(username)
    if username[:1] in ("m", "M") and crypto.is_valid_phone(username[1:]):  # sign-up's username: m + phone
        return crypto.normalize_phone(username[1:])
    return username.lower()


def _find_user(username: str):
    """The user ``PhoneOrUsernameBackend`` would check the password of, in the current schema."""
    from saas_platform.accounts.models import User

    username = (username or "").strip()
    if not username:
        return None
    if crypto.is_valid_phone(username):
        return User.objects.filter(phone_index=crypto.blind_index(crypto.normalize_phone(username))).first()
    user = User.objects.filter(username=username).first()
    if user is None:
        normalized = _login_string(username)
        if crypto.is_valid_phone(normalized):
            user = User.objects.filter(phone_index=crypto.blind_index(normalized)).first()
    return user


def account_key(request, credentials) -> str:
    """axes' ``AXES_USERNAME_CALLABLE``: the account a login attempt is counted against.

    * a platform account (public schema), or a console user standing for one: ``acct:<id>``;
    * a console user of one store only: ``<schema>:user:<id>``;
    * no such account: the normalised login string (so guesses are still counted)."""
    username = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) or ""
    if not username and request is not None:
        username = getattr(request, "POST", {}).get(settings.AXES_USERNAME_FORM_FIELD, "")
    schema = connection.schema_name
    user = _find_user(username)
    if user is not None:
        if schema == "public":
            return f"acct:{user.pk}"
        if user.platform_user_id:
            return f"acct:{user.platform_user_id}"
        return f"{schema}:user:{user.pk}"
    normalized = _login_string(username)
    if crypto.is_valid_phone(normalized):
        return f"phone:{crypto.blind_index(normalized)}"
    return f"{schema}:login:{normalized}"[:255]


def client_ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


class LoginRateBackend:
    """Second in ``AUTHENTICATION_BACKENDS``: at most ``LOGIN_LIMIT_PER_IP`` attempts per IP per
    10 minutes, on every login form. Authenticates nobody itself, and has no ``get_user`` (so
    Django never picks it as a session's backend, e.g. in ``Client.force_login``)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        if not ratelimit.hit(
            f"login:ip:{client_ip(request)}", limit=settings.LOGIN_LIMIT_PER_IP, window=IP_WINDOW_SECONDS
        ):
            request.login_throttled = True
            request.axes_locked_out = True  # the axes middleware answers with ``lockout_response``
            raise PermissionDenied("too many login attempts from this address")
        return None


def lockout_response(request, original_response=None, credentials=None):
    """axes' ``AXES_LOCKOUT_CALLABLE``: a translated page, 429, for every login form."""
    if getattr(request, "login_throttled", False):
        message = _("登录尝试过于频繁，请稍后再试。")
    else:
        message = _("密码错误次数过多，账号已锁定 %(min)s 分钟，可通过短信找回密码。") % {
            "min": settings.LOGIN_LOCKOUT_SECONDS // 60
        }
    return render(request, "errors/locked.html", {"message": message}, status=429)


def reset_account(*, user) -> None:
    """Clear the failure counter of a platform account (after a password reset)."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=f"acct:{user.pk}").delete()
