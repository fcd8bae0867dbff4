from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from anxin.core.clock import FrozenClock, ensure_utc, format_local
from anxin.core.money import Money, format_cny, from_fen, to_fen, to_money


def test_round_half_up_to_fen():
    assert to_money("2.345") == Decimal("2.35")
    assert to_money("-2.345") == Decimal("-2.35")
    assert to_money(3) == Decimal("3.00")


def test_float_and_nonsense_are_refused():
    with pytest.raises(TypeError):
        to_money(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        to_money("abc")
    with pytest.raises(ValueError):
        to_money("NaN")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_fen_round_trip(fen):
    assert to_fen(from_fen(fen)) == fen


def test_money_field_refuses_sub_fen_precision():
    class Price(BaseModel):
        amount: Money

    assert Price(amount=Decimal("1.20")).amount == Decimal("1.20")
    with pytest.raises(ValidationError, match="two decimal places"):
        Price(amount=Decimal("1.234"))


def test_format_cny():
    assert format_cny(Decimal("30000000")) == "¥30,000,000.00"


def test_clock_is_utc_and_refuses_naive_times():
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(seconds=90))
    assert clock.now() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        ensure_utc(datetime(2026, 1, 1))  # noqa: DTZ001
    assert format_local(datetime(2026, 1, 1, 16, 0, tzinfo=UTC)) == "2026-01-02 00:00:00"
