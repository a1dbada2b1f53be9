"""Console scope (shared kernel). Wagtail's hooks are global, but the staff console (/staff/, public schema) and the
merchant console (/console/, a tenant schema) show different things. Each admin viewset
says which side it belongs to; menus are filtered and the other side's URLs answer 404."""

from django.db import connection

STAFF_ONLY_PREFIXES: set[str] = set()
MERCHANT_ONLY_PREFIXES: set[str] = set()


def on_staff_side() -> bool:
    return connection.schema_name == "public"


def staff_only(viewset):
    STAFF_ONLY_PREFIXES.add(viewset.url_prefix)
    return viewset


def merchant_only(viewset):
    MERCHANT_ONLY_PREFIXES.add(viewset.url_prefix)
    return viewset


def hidden_prefixes() -> set[str]:
    return MERCHANT_ONLY_PREFIXES if on_staff_side() else STAFF_ONLY_PREFIXES
