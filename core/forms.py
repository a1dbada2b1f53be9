"""Form helpers shared by every console screen: action errors, and the money and rate fields.

``YuanField`` is the one money input: people type yuan (``39.90``, ``¥1,234.50``), the form
cleans to integer fen with ``Decimal`` (never a float). ``PercentField`` is the one rate input:
``10.5%`` ↔ 1050 basis points. Model fields ``core.fields.MoneyField`` / ``RateField`` use them
as their form field, so every ModelForm (and Wagtail's ModelViewSet forms) gets them.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.money import MoneyError, format_bps, format_yuan, parse_percent, parse_yuan, yuan_text


def add_action_errors(form, exc: ValidationError) -> None:
    """Show an action's field-level ``ValidationError`` on the form that fed it (fields the form
    does not have become non-field errors)."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class YuanField(forms.CharField):
    default_error_messages = {
        "invalid": _("请输入金额（元），例如 39.90。"),
        "decimals": _("金额最多保留两位小数（精确到分）。"),
        "negative": _("金额不能为负数。"),
        "min_value": _("金额不能低于 %(limit)s。"),
        "max_value": _("金额不能超过 %(limit)s。"),
    }

    def __init__(self, *, min_fen: int | None = 0, max_fen: int | None = None, **kwargs):
        self.min_fen, self.max_fen = min_fen, max_fen
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", "0.00")

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return yuan_text(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            fen = parse_yuan(text)
        except MoneyError as exc:
            code = "decimals" if "decimal" in str(exc) else "invalid"
            raise ValidationError(self.error_messages[code], code=code) from exc
        if fen < 0 and (self.min_fen is None or self.min_fen >= 0):
            raise ValidationError(self.error_messages["negative"], code="negative")
        if self.min_fen is not None and fen < self.min_fen:
            raise ValidationError(
                self.error_messages["min_value"], code="min_value", params={"limit": format_yuan(self.min_fen)}
            )
        if self.max_fen is not None and fen > self.max_fen:
            raise ValidationError(
                self.error_messages["max_value"], code="max_value", params={"limit": format_yuan(self.max_fen)}
            )
        return fen

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class PercentField(forms.CharField):
    default_error_messages = {
        "invalid": _("请输入百分比，例如 10.5%。"),
        "decimals": _("百分比最多保留两位小数。"),
        "range": _("百分比须在 %(low)s 到 %(high)s 之间。"),
    }

    def __init__(self, *, min_bps: int = 0, max_bps: int = 10_000, **kwargs):
        self.min_bps, self.max_bps = min_bps, max_bps
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", "0%")

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return format_bps(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            bps = parse_percent(text)
        except MoneyError as exc:
            code = "decimals" if "decimal" in str(exc) else "invalid"
            raise ValidationError(self.error_messages[code], code=code) from exc
        if not self.min_bps <= bps <= self.max_bps:
            raise ValidationError(
                self.error_messages["range"],
                code="range",
                params={"low": format_bps(self.min_bps), "high": format_bps(self.max_bps)},
            )
        return bps

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs
