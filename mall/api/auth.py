"""Shopper sessions for the mini-program / H5 API: ``Authorization: Bearer <token>``.

The token is a signed (SECRET_KEY) pair of the customer id and the store's schema, valid
``SHOPPER_TOKEN_DAYS``; a token of one store is refused by every other store."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions, permissions

from mall.customers.models import Customer

SALT = "mall.api.shopper"


def issue_token(customer: Customer) -> str:
    return signing.dumps({"c": customer.pk, "s": connection.schema_name}, salt=SALT)


class ShopperTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode()
        if not header.startswith(f"{self.keyword} "):
            return None
        try:
            data = signing.loads(
                header[len(self.keyword) + 1 :], salt=SALT, max_age=settings.SHOPPER_TOKEN_DAYS * 86400
            )
        except signing.BadSignature as exc:
            raise exceptions.AuthenticationFailed(_("登录已失效，请重新登录。")) from exc
        if data.get("s") != connection.schema_name:
            raise exceptions.AuthenticationFailed(_("登录已失效，请重新登录。"))
        customer = Customer.objects.filter(pk=data.get("c")).first()
        if customer is None:
            raise exceptions.AuthenticationFailed(_("登录已失效，请重新登录。"))
        return customer, None

    def authenticate_header(self, request):
        return self.keyword


class IsShopper(permissions.BasePermission):
    message = gettext_lazy("请先登录。")

    def has_permission(self, request, view):
        return isinstance(request.user, Customer)
