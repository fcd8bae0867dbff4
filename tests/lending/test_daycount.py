"""Day counts: ISDA 2006 4.16 (d)-(f) on hand-checked dates."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from anxin.lending.daycount import DayCount, days_between, year_fraction

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


def test_actual_bases_count_calendar_days_over_their_year() -> None:
    start, end = date(2024, 1, 15), date(2024, 7, 15)  # 182 days, across 29 February
    assert year_fraction(start, end, DayCount.ACT_365F) == Fraction(182, 365)
    assert year_fraction(start, end, DayCount.ACT_360) == Fraction(182, 360)


def test_thirty_360_bond_basis_end_of_month_rules() -> None:
    b = DayCount.THIRTY_360
    # D1 = 31 becomes 30
    assert days_between(date(2024, 1, 31), date(2024, 2, 29), b) == 29
    # D2 = 31 becomes 30 only because D1 is 30 or 31
    assert days_between(date(2024, 1, 30), date(2024, 3, 31), b) == 60
    assert days_between(date(2024, 1, 31), date(2024, 3, 31), b) == 60
    # ... and stays 31 when D1 < 30 (this is where Bond Basis differs from 30E/360)
    assert days_between(date(2024, 1, 15), date(2024, 3, 31), b) == 76
    # February's end is not adjusted under Bond Basis
    assert days_between(date(2024, 2, 29), date(2024, 3, 31), b) == 32
    assert year_fraction(date(2023, 6, 30), date(2024, 6, 30), b) == 1


@given(dates, st.integers(1, 11), st.integers(1, 28))
def test_thirty_360_months_are_thirty_days_for_days_up_to_28(
    start: date, months: int, day: int
) -> None:
    first = start.replace(day=day)
    index = first.month - 1 + months
    later = first.replace(year=first.year + index // 12, month=index % 12 + 1)
    assert days_between(first, later, DayCount.THIRTY_360) == 30 * months


@given(dates, st.integers(0, 4000), st.integers(0, 4000))
def test_actual_counts_add_up_and_reverse(start: date, a: int, b: int) -> None:
    mid, end = start + timedelta(days=a), start + timedelta(days=a + b)
    for basis in (DayCount.ACT_365F, DayCount.ACT_360):
        assert days_between(start, mid, basis) + days_between(mid, end, basis) == a + b
        assert days_between(end, start, basis) == -(a + b)
