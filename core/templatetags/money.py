from django import template

from core.crypto import mask_phone
from core.money import format_bps, format_yuan

register = template.Library()


@register.filter
def yuan(amount_fen):
    return "" if amount_fen in (None, "") else format_yuan(int(amount_fen))


@register.filter
def bps(value):
    return "" if value in (None, "") else format_bps(int(value))


@register.filter
def masked(phone):
    return mask_phone(phone)


@register.filter
def shown(value):
    """A value as a person reads it: 是/否 for booleans, "—" for nothing, local time for datetimes."""
    from django.utils import formats, timezone
    from django.utils.translation import gettext

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if hasattr(value, "tzinfo") and hasattr(value, "hour") and timezone.is_aware(value):
        return formats.localize(timezone.localtime(value))
    return formats.localize(value)
