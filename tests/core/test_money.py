import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import MoneyError, allocate, bps_of, format_bps, format_yuan, parse_yuan, to_yuan

amounts = st.integers(min_value=0, max_value=10**12)
rates = st.integers(min_value=0, max_value=10_000)


@given(amounts, rates)
def test_bps_of_never_exceeds_the_exact_share_and_misses_it_by_less_than_a_fen(amount, bps):
    share = bps_of(amount, bps)
    assert share * 10_000 <= amount * bps < (share + 1) * 10_000


@given(amounts, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50))
def test_allocate_sums_to_the_whole_and_each_part_is_within_a_fen_of_its_share(amount, weights):
    parts = allocate(amount, weights)
    assert sum(parts) == amount
    assert len(parts) == len(weights)
    total = sum(weights)
    if total:
        for part, w in zip(parts, weights, strict=True):
            assert abs(part * total - amount * w) < total


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_and_parse_round_trip(amount):
    assert parse_yuan(format_yuan(amount).replace("¥", "")) == amount


def test_examples():
    assert format_yuan(1234567) == "¥12,345.67"
    assert format_yuan(5) == "¥0.05"
    assert parse_yuan("12.5") == 1250
    assert parse_yuan("¥0.01") == 1
    assert to_yuan(199).as_tuple().exponent == -2
    assert format_bps(1250) == "12.5%"
    assert format_bps(800) == "8%"
    assert bps_of(9999, 1000) == 999


@pytest.mark.parametrize("bad", ["1.001", "abc", "", "NaN", "1e400"])
def test_parse_refuses_what_is_not_an_amount_in_fen(bad):
    with pytest.raises(MoneyError):
        parse_yuan(bad)


def test_floats_are_refused():
    with pytest.raises(MoneyError):
        bps_of(10.5, 100)
    with pytest.raises(MoneyError):
        format_yuan(1.0)
