from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connection, models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core.fields import PhoneNumberMixin


class User(PhoneNumberMixin, AbstractUser):
    """One model for people who log in, in the public schema (platform staff, merchant owners)
    and in each tenant schema (that merchant's console users).

    The phone number is encrypted at rest; ``phone_index`` (a keyed hash) finds it."""

    # In a tenant schema: the platform account this console user stands for (console links).
    platform_user_id = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["phone_index"],
                condition=~models.Q(phone_index=""),
                name="accounts_user_phone_unique",
                violation_error_code="phone_taken",
                violation_error_message=_("该手机号已被其他账号使用。"),
            )
        ]

    def validate_constraints(self, exclude=None):
        """The phone-unique constraint is on the hidden ``phone_index``: its (translated) message
        goes on the ``phone`` field the user typed."""
        from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

        from core import crypto

        exclude = set(exclude or ())
        if "phone" not in exclude:  # the index follows the number typed (as ``save`` sets it)
            exclude.discard("phone_index")
            if self.phone and crypto.is_valid_phone(self.phone):
                self.phone_index = crypto.blind_index(crypto.normalize_phone(self.phone))
            elif not self.phone:
                self.phone_index = ""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            other = [e for e in errors.get(NON_FIELD_ERRORS, []) if getattr(e, "code", None) != "phone_taken"]
            taken = [e for e in errors.get(NON_FIELD_ERRORS, []) if getattr(e, "code", None) == "phone_taken"]
            if not taken:
                raise
            if other:
                errors[NON_FIELD_ERRORS] = other
            else:
                errors.pop(NON_FIELD_ERRORS)
            errors.setdefault("phone", []).extend(taken)
            raise ValidationError(errors) from exc

    def _get_session_auth_hash(self, secret=None):
        """Sessions end when the password changes (Django's rule). A console user standing for a
        platform account has no password of its own, so its sessions also carry the platform
        account's password: a reset there ends every console session of that account too."""
        if not self.platform_user_id or connection.schema_name == "public":
            return super()._get_session_auth_hash(secret=secret)
        with connection.cursor() as cur:
            cur.execute("SELECT password, is_active FROM public.accounts_user WHERE id = %s", [self.platform_user_id])
            row = cur.fetchone()
        platform_secret = row[0] if row and row[1] else "!inactive"
        return salted_hmac(
            "saas_platform.accounts.User.console_session",
            f"{self.password}:{platform_secret}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()
