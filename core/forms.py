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


class _ExactNumberField(forms.CharField):
    """Typed as text and parsed exactly (Decimal, never float) into integer units: fen or bp."""

    placeholder = ""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", self.placeholder)

    def format(self, value: int) -> str:
        raise NotImplementedError

    def parse(self, text: str) -> int:
        raise NotImplementedError

    def check(self, value: int) -> None:
        """Raise ValidationError when ``value`` is out of the field's bounds."""

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return self.format(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            number = self.parse(text)
        except MoneyError as exc:
            code = "decimals" if "decimal" in str(exc) else "invalid"
            raise ValidationError(self.error_messages[code], code=code) from exc
        self.check(number)
        return number

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class YuanField(_ExactNumberField):
    default_error_messages = {
        "invalid": _("请输入金额（元），例如 39.90。"),
        "decimals": _("金额最多保留两位小数（精确到分）。"),
        "negative": _("金额不能为负数。"),
        "min_value": _("金额不能低于 %(limit)s。"),
        "max_value": _("金额不能超过 %(limit)s。"),
    }
    placeholder = "0.00"

    def __init__(self, *, min_fen: int | None = 0, max_fen: int | None = None, **kwargs):
        self.min_fen, self.max_fen = min_fen, max_fen
        super().__init__(**kwargs)

    def format(self, value: int) -> str:
        return yuan_text(value)

    def parse(self, text: str) -> int:
        return parse_yuan(text)

    def check(self, fen: int) -> None:
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


class PercentField(_ExactNumberField):
    default_error_messages = {
        "invalid": _("请输入百分比，例如 10.5%。"),
        "decimals": _("百分比最多保留两位小数。"),
        "range": _("百分比须在 %(low)s 到 %(high)s 之间。"),
    }
    placeholder = "0%"

    def __init__(self, *, min_bps: int = 0, max_bps: int = 10_000, **kwargs):
        self.min_bps, self.max_bps = min_bps, max_bps
        super().__init__(**kwargs)

    def format(self, value: int) -> str:
        return format_bps(value)

    def parse(self, text: str) -> int:
        return parse_percent(text)

    def check(self, bps: int) -> None:
        if not self.min_bps <= bps <= self.max_bps:
            raise ValidationError(
                self.error_messages["range"],
                code="range",
                params={"low": format_bps(self.min_bps), "high": format_bps(self.max_bps)},
            )
