"""The city's register of insured persons as CSV (pure): parse, validate, report bad rows.

Columns (header required, order free): ``id_number,name,sex,birth_date,district,address``
and optionally ``lat,lon`` (the home, WGS-84 degrees). A bad row is reported with its line
number and reason and skipped; the good rows go on. The resident identity number is checked
with its GB 11643-1999 check digit (ISO 7064 MOD 11-2) and must agree with the birth date.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from operator import mul

REQUIRED = ("id_number", "name", "sex", "birth_date", "district", "address")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"  # remainder mod 11 -> check character


def id_check_digit(first17: str) -> str:
    if len(first17) != len(_WEIGHTS):
        raise ValueError("the first 17 characters of an ID number are needed")
    # map/mul rather than a generator: millions of rows pass through here on an import.
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def id_number_problem(number: str) -> str | None:
    """Why an 18-character resident identity number is invalid, or None."""
    if len(number) != 18 or not number[:17].isdigit():
        return "must be 17 digits and a check character"
    if number[17] != id_check_digit(number[:17]):
        return "check digit does not match"
    return None


@dataclass(frozen=True)
class InsuredRow:
    line: int
    id_number: str
    name: str
    sex: str
    birth_date: date
    district: str
    address: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


class BadHeader(ValueError):
    pass


def parse(lines: Iterable[str]) -> Iterator[InsuredRow | BadRow]:
    """Rows in file order; line numbers count the header as line 1. Blank lines are skipped
    (as `csv.DictReader` does); a short row's missing fields are empty."""
    reader = csv.reader(iter(lines))
    header = next(reader, [])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadHeader(f"the header lacks {', '.join(missing)}")
    for fields in reader:
        if not fields:
            continue
        line = reader.line_num
        try:
            yield _row(line, dict(zip(header, fields, strict=False)))
        except ValueError as exc:
            yield BadRow(line, str(exc))


def _row(line: int, raw: Mapping[str, str | None]) -> InsuredRow:
    def text(name: str, limit: int) -> str:
        value = (raw.get(name) or "").strip()
        if not value:
            raise ValueError(f"{name}: missing")
        if len(value) > limit:
            raise ValueError(f"{name}: longer than {limit} characters")
        return value

    number = text("id_number", 18).upper()
    problem = id_number_problem(number)
    if problem:
        raise ValueError(f"id_number: {problem}")
    sex = text("sex", 1).upper()
    if sex not in ("F", "M"):
        raise ValueError("sex: must be F or M")
    try:
        born = date.fromisoformat(text("birth_date", 10))
    except ValueError as exc:
        raise ValueError("birth_date: not a date (YYYY-MM-DD)") from exc
    if born.isoformat().replace("-", "") != number[6:14]:
        raise ValueError("birth_date: does not match the id_number")
    lat, lon = _coordinate(raw, "lat", 90), _coordinate(raw, "lon", 180)
    if (lat is None) != (lon is None):
        raise ValueError("lat/lon: give both or neither")
    return InsuredRow(
        line, number, text("name", 100), sex, born, text("district", 40), text("address", 200),
        lat, lon,
    )  # fmt: skip


def _coordinate(raw: Mapping[str, str | None], name: str, bound: float) -> float | None:
    value = (raw.get(name) or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise ValueError(f"{name}: not a number") from exc
    if not -bound <= number <= bound:
        raise ValueError(f"{name}: out of range")
    return number
