"""Bounded field types for numbers and dates that come from outside.

A request field typed `int` or `date` admits values no database or calendar sum can hold:
SQLite's INTEGER (and PostgreSQL's BIGINT) stop at 2**63 - 1, and `date.max + 1 day` raises.
Fields that reach the database or date arithmetic use these types, so such a value is a 422
naming the field rather than a 500 deep inside a query. Money has its own bounded type in
`core.money`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import AfterValidator, BeforeValidator

from anxin.core.errors import InvalidInput

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Int64 = Annotated[int, Ge(INT64_MIN), Le(INT64_MAX)]
"""An integer a 64-bit database column (SQLite INTEGER, PostgreSQL BIGINT) can hold."""

Count64 = Annotated[int, Ge(0), Le(INT64_MAX)]
"""A non-negative 64-bit integer: sequence numbers, sizes, indices."""

# Nobody living was born before 1900, and no policy, pledge or report in this product runs
# past 2199; both ends leave every date ± a few days (and years of a schedule) computable.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)
DATETIME_MIN = datetime(1900, 1, 1, tzinfo=UTC)
DATETIME_MAX = datetime(2200, 1, 1, tzinfo=UTC)


def _iso_date(value: object) -> object:
    # Pydantic's lax mode reads "0" or 0 as a Unix time (1970-01-01): no client means that.
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        raise ValueError("a date like 2026-11-28")
    return value


def _iso_datetime(value: object) -> object:
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        raise ValueError("a time like 2026-11-28T22:30:00+08:00")
    return value


def _date_in_window(value: date) -> date:
    if not DATE_MIN <= value <= DATE_MAX:
        raise ValueError(f"must lie between {DATE_MIN} and {DATE_MAX}")
    return value


def _datetime_in_window(value: datetime) -> datetime:
    # A naive value is left for the caller's own rule (most ask for a zone); compare as UTC.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not DATETIME_MIN <= aware < DATETIME_MAX:
        raise ValueError(f"must lie between {DATETIME_MIN.date()} and {DATETIME_MAX.date()}")
    return value


SaneDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_date_in_window)]
"""A calendar date between 1900-01-01 and 2199-12-31, written as a date (not a Unix time)."""

SaneDateTime = Annotated[
    datetime, BeforeValidator(_iso_datetime), AfterValidator(_datetime_in_window)
]
"""An instant from 1900 up to (not including) 2200."""


def check_date(value: date, field: str) -> date:
    """The same window for dates parsed by hand (console pages); raises InvalidInput."""
    try:
        return _date_in_window(value)
    except ValueError as exc:
        raise InvalidInput.field(field, str(exc)) from exc
