"""The one money input and the one rate input: what a merchant types, what is stored."""

from decimal import Decimal

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from core.forms import PercentField, YuanField
from core.money import format_bps, format_yuan, parse_percent, yuan_text


class PriceForm(forms.Form):
    price = YuanField(label="价格", min_fen=1)


class RateForm(forms.Form):
    rate = PercentField(label="佣金比例", max_bps=3000)


@pytest.mark.parametrize(
    ("typed", "fen"),
    [("39.90", 3990), ("39.9", 3990), ("0.01", 1), ("¥1,234.50", 123450), (" 12 ", 1200), ("100000000", 10**10)],
)
def test_yuan_typed_is_stored_as_exact_fen(typed, fen):
    form = PriceForm({"price": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["price"] == fen
    assert isinstance(form.cleaned_data["price"], int)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("39.905", "金额最多保留两位小数（精确到分）。"),
        ("-1", "金额不能为负数。"),
        ("abc", "请输入金额（元），例如 39.90。"),
        ("NaN", "请输入金额（元），例如 39.90。"),
        ("0", "金额不能低于 ¥0.01。"),
        ("", "必需字段"),  # Django's own zh-hans message
    ],
)
def test_bad_amounts_get_a_clear_chinese_error(typed, message):
    form = PriceForm({"price": typed})
    assert not form.is_valid()
    assert form.errors["price"] == [message]


def test_the_edit_form_shows_stored_fen_as_yuan():
    html = str(PriceForm(initial={"price": 3990})["price"])
    assert 'value="39.90"' in html
    assert 'inputmode="decimal"' in html


@given(st.integers(min_value=1, max_value=10**13))
def test_what_the_form_shows_cleans_back_to_the_same_fen(fen):
    shown = PriceForm(initial={"price": fen})["price"].value()
    form = PriceForm({"price": PriceForm.base_fields["price"].prepare_value(shown)})
    assert form.is_valid()
    assert form.cleaned_data["price"] == fen


@pytest.mark.parametrize(("typed", "bps"), [("10.5%", 1050), ("10.5", 1050), ("0.01%", 1), ("30%", 3000), ("0", 0)])
def test_rates_are_typed_as_percentages_and_stored_in_basis_points(typed, bps):
    form = RateForm({"rate": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["rate"] == bps


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("10.555%", "百分比最多保留两位小数。"),
        ("30.01%", "百分比须在 0% 到 30% 之间。"),
        ("ten", "请输入百分比，例如 10.5%。"),
    ],
)
def test_bad_rates_get_a_clear_chinese_error(typed, message):
    form = RateForm({"rate": typed})
    assert not form.is_valid()
    assert form.errors["rate"] == [message]


def test_display_helpers():
    assert format_yuan(3990) == "¥39.90"
    assert format_yuan(123456789) == "¥1,234,567.89"
    assert yuan_text(123456789) == "1234567.89"
    assert format_bps(1050) == "10.5%"
    assert str(RateForm(initial={"rate": 1050})["rate"]).count('value="10.5%"') == 1
    assert parse_percent(Decimal("12.34")) == 1234


def test_the_product_form_uses_the_money_field_and_the_constraint_has_a_translated_message():
    from django.forms import modelform_factory

    from mall.catalog.models import Product

    form_class = modelform_factory(Product, fields=["title", "price_fen", "stock"])
    assert isinstance(form_class.base_fields["price_fen"], YuanField)
    form = form_class({"title": "石榴", "price_fen": "0", "stock": "1"})
    assert not form.is_valid()
    assert form.errors["price_fen"] == ["金额不能低于 ¥0.01。"]
    (constraint,) = Product._meta.constraints
    assert str(constraint.violation_error_message) == "价格必须大于 0。"


def test_list_columns_show_yuan_and_percent():
    from core.columns import MoneyColumn, PercentColumn

    class Row:
        price_fen = 123450
        rate_bps = 1050
        missing = None

    assert MoneyColumn("price_fen").get_cell_context_data(Row(), {"row": None, "table": None})["value"] == "¥1,234.50"
    assert PercentColumn("rate_bps").get_cell_context_data(Row(), {"row": None, "table": None})["value"] == "10.5%"
    empty = MoneyColumn("missing")
    assert empty.get_cell_context_data(Row(), {"row": None, "table": None})["value"] == empty.empty_value_display
