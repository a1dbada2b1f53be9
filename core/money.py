"""Money is integer fen (分); rates are integer basis points (1 bp = 0.01 %).

No float ever touches an amount. Rounding rules are written once, here:
* ``bps_of`` rounds *down* to the fen: a commission is never more than its rate allows.
* ``allocate`` splits an amount by weights so that the parts add up to the whole exactly
  (largest remainder), e.g. a discount spread over order lines.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

BPS_DENOMINATOR = 10_000
FEN_PER_YUAN = 100
MAX_YUAN = Decimal(10) ** 15  # far beyond any real amount; keeps Decimal in range


class MoneyError(ValueError):
    pass


def bps_of(amount_fen: int, bps: int) -> int:
    """``amount × bps / 10000`` rounded down to a whole fen."""
    _check_int(amount_fen, "amount_fen")
    _check_int(bps, "bps")
    if amount_fen < 0 or bps < 0:
        raise MoneyError("amount and rate must not be negative")
    return amount_fen * bps // BPS_DENOMINATOR


def allocate(amount_fen: int, weights: list[int]) -> list[int]:
    """Split ``amount_fen`` in proportion to ``weights``; parts sum to ``amount_fen`` exactly."""
    _check_int(amount_fen, "amount_fen")
    if not weights or any(w < 0 for w in weights):
        raise MoneyError("weights must be a non-empty list of non-negative integers")
    total = sum(weights)
    if total == 0:
        parts = [0] * len(weights)
        parts[0] = amount_fen
        return parts
    parts = [amount_fen * w // total for w in weights]
    remainders = [(amount_fen * w % total, -i) for i, w in enumerate(weights)]
    short = amount_fen - sum(parts)
    for _, neg_i in sorted(remainders, reverse=True)[:short]:
        parts[-neg_i] += 1
    return parts


def parse_yuan(text: str | int | Decimal) -> int:
    """``"12.5"`` → 1250. Refuses more than two decimals and anything that is not a number."""
    try:
        value = Decimal(str(text).strip().replace(",", "").lstrip("¥￥"))
    except InvalidOperation as exc:
        raise MoneyError(f"not an amount: {text!r}") from exc
    if not value.is_finite() or abs(value) >= MAX_YUAN:
        raise MoneyError(f"not an amount: {text!r}")
    if value != value.quantize(Decimal("0.01")):
        raise MoneyError("at most two decimal places (fen)")
    return int((value * FEN_PER_YUAN).to_integral_value(rounding=ROUND_HALF_UP))


def parse_percent(text: str | int | Decimal) -> int:
    """``"10.5%"`` (or ``"10.5"``) → 1050 basis points. At most two decimals; no float."""
    try:
        value = Decimal(str(text).strip().rstrip("%％").strip())
    except InvalidOperation as exc:
        raise MoneyError(f"not a percentage: {text!r}") from exc
    if not value.is_finite() or abs(value) >= MAX_YUAN:
        raise MoneyError(f"not a percentage: {text!r}")
    if value != value.quantize(Decimal("0.01")):
        raise MoneyError("at most two decimal places (0.01 %)")
    return int(value * 100)


def yuan_text(amount_fen: int) -> str:
    """1234567 → ``12345.67``: the plain text a money input shows (no symbol, no separators)."""
    _check_int(amount_fen, "amount_fen")
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{yuan}.{fen:02d}"


def to_yuan(amount_fen: int) -> Decimal:
    _check_int(amount_fen, "amount_fen")
    return (Decimal(amount_fen) / FEN_PER_YUAN).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def format_yuan(amount_fen: int, symbol: str = "¥") -> str:
    """1234567 → ``¥12,345.67``; negative amounts keep their sign before the symbol."""
    _check_int(amount_fen, "amount_fen")
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{symbol}{yuan:,}.{fen:02d}"


def format_bps(bps: int) -> str:
    """1250 → ``12.5%``."""
    _check_int(bps, "bps")
    whole, frac = divmod(bps, 100)
    return f"{whole}%" if frac == 0 else f"{whole}.{frac:02d}".rstrip("0") + "%"


def _check_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(f"{name} must be an int, got {type(value).__name__}")
