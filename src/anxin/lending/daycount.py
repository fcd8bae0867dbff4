"""Day-count conventions: the fraction of a year between two dates.

A year fraction is returned exactly, as a `Fraction` of days over the basis's denominator, so
interest can be computed as `amount * rate * days / denominator` with a single division (and a
single rounding) at the end.

* actual/365 (fixed): actual days / 365, leap years or not (ISDA 2006 4.16(d)).
* actual/360: actual days / 360 (ISDA 2006 4.16(e)).
* 30/360, US "Bond Basis" (ISDA 2006 4.16(f)):
  days = 360·(Y2−Y1) + 30·(M2−M1) + (D2−D1), where D1 = 31 becomes 30, and D2 = 31 becomes 30
  only when D1 (after that change) is 30 (i.e. D1 was 30 or 31).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from fractions import Fraction


class DayCount(StrEnum):
    ACT_365F = "act/365f"
    ACT_360 = "act/360"
    THIRTY_360 = "30/360"

    @property
    def denominator(self) -> int:
        return 365 if self is DayCount.ACT_365F else 360


def days_between(start: date, end: date, basis: DayCount) -> int:
    """The day count's numerator from `start` to `end` (negative if `end` is earlier)."""
    if basis is not DayCount.THIRTY_360:
        return (end - start).days
    d1 = 30 if start.day == 31 else start.day
    d2 = 30 if end.day == 31 and d1 == 30 else end.day
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def year_fraction(start: date, end: date, basis: DayCount) -> Fraction:
    return Fraction(days_between(start, end, basis), basis.denominator)
