"""Money is exact: `Decimal` yuan with two places, or integer fen; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator

CENT = Decimal("0.01")
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
    return amount.quantize(CENT, rounding=ROUNDING)


def to_fen(amount: Decimal) -> int:
    return int(to_money(amount) * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def _two_places(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("at most two decimal places (fen)")
    return to_money(value)


Money = Annotated[Decimal, AfterValidator(_two_places)]
"""A Pydantic field type for CNY amounts: exact, at most two places."""


def format_cny(amount: Decimal) -> str:
    return f"¥{to_money(amount):,.2f}"
