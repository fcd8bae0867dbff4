"""Money is exact: `Decimal` yuan with two places, or integer fen; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AfterValidator

CENT = Decimal("0.01")
# One trillion yuan (一万亿) bounds any single amount a client may send: far above a loan, a
# price or a sum assured this product handles, and small enough that sums of thousands of them
# still fit Numeric(18, 2) and quantise exactly within Decimal's 28 digits.
MONEY_MAX = Decimal("1000000000000")
# 四舍五入 (round half up) is the customary rule for CNY amounts shown to customers.
ROUNDING = ROUND_HALF_UP


def to_money(value: Decimal | int | str) -> Decimal:
    """Quantise to fen with round-half-up. Floats are refused: they are already inexact."""
    if isinstance(value, float):
        raise TypeError("money must not be built from float")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not a money amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a finite money amount: {value!r}")
    try:
        return amount.quantize(CENT, rounding=ROUNDING)
    except InvalidOperation as exc:  # more digits than the decimal context holds
        raise ValueError(f"money amount too large: {value!r}") from exc


def to_fen(amount: Decimal) -> int:
    return int(to_money(amount) * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def _two_places(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("at most two decimal places (fen)")
    return to_money(value)


Money = Annotated[Decimal, Ge(-MONEY_MAX), Le(MONEY_MAX), AfterValidator(_two_places)]
"""A Pydantic field type for CNY amounts a client sends: finite, exact, at most two places, and
within ±MONEY_MAX (anything larger is a 422, not an overflow in the maths or the database)."""

MoneyAmount = Annotated[Decimal, AfterValidator(to_money)]
"""A computed CNY amount in a response: quantised to fen, not bounded (a schedule of a large
sum assured may exceed MONEY_MAX in later years)."""


def format_cny(amount: Decimal) -> str:
    return f"¥{to_money(amount):,.2f}"
