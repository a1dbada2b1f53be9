from django.contrib.auth.backends import ModelBackend

from core import crypto
from saas_platform.accounts.models import User


class PhoneOrUsernameBackend(ModelBackend):
    """Log in with a mobile number (looked up through its blind index) or a username."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and crypto.is_valid_phone(username):
            user = User.objects.filter(phone_index=crypto.blind_index(crypto.normalize_phone(username))).first()
            if user and user.check_password(password) and self.user_can_authenticate(user):
                return user
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
