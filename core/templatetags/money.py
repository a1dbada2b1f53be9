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
