"""Unified social credit codes (GB 32100-2015) and resident ID numbers (GB 11643-1999)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.lending.identifiers import (
    USCC_CHARSET,
    InvalidIdentifier,
    parse_resident_id,
    parse_uscc,
    resident_id_check_digit,
    uscc_check_character,
)


def test_the_standards_own_examples_pass() -> None:
    # GB 32100-2015's example code and GB 11643-1999's example number
    code = parse_uscc("91350100M000100Y43")
    assert (code.registration_authority, code.entity_type, code.division) == ("9", "1", "350100")
    person = parse_resident_id("11010519491231002X")
    assert person.birth_date == date(1949, 12, 31)
    assert person.sex == "F" and person.address_code == "110105"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91350100M000100Y4", "18 characters, not 17"),
        ("91350100M000100Y4I", "not allowed"),
        ("9135A100M000100Y43", "administrative division"),
        ("91350100M000100Y44", "GB 32100 gives 3"),
    ],
)
def test_bad_credit_codes_say_why(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        parse_uscc(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1101051949123100", "18 characters"),
        ("11010519491231002Y", "digit or X"),
        ("99010519491231002X", "province"),
        ("11010519490231002X", "not a date"),
        ("110105194912310021", "GB 11643 gives X"),
    ],
)
def test_bad_id_numbers_say_why(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        parse_resident_id(value)


def test_a_birth_date_in_the_future_is_refused() -> None:
    body = "11010520300101002"
    number = body + resident_id_check_digit(body)
    assert parse_resident_id(number).birth_date == date(2030, 1, 1)
    with pytest.raises(InvalidIdentifier, match="not possible"):
        parse_resident_id(number, today=date(2026, 12, 7))


def test_lower_case_and_spaces_are_tolerated() -> None:
    assert parse_uscc(" 91350100m000100y43 ").code == "91350100M000100Y43"
    assert parse_resident_id("11010519491231002x").number.endswith("X")


uscc_bodies = st.builds(
    lambda head, division, org: head + division + org,
    st.text(USCC_CHARSET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_CHARSET, min_size=9, max_size=9),
)
id_bodies = st.builds(
    lambda province, rest, born, seq: f"{province}{rest}{born:%Y%m%d}{seq}",
    st.sampled_from(["11", "31", "44", "65", "81"]),
    st.text("0123456789", min_size=4, max_size=4),
    st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    st.text("0123456789", min_size=3, max_size=3),
)


@given(uscc_bodies, st.data())
def test_credit_code_with_its_check_passes_and_any_single_change_fails(
    body: str, data: st.DataObject
) -> None:
    code = body + uscc_check_character(body)
    assert parse_uscc(code).code == code
    at = data.draw(st.integers(0, 17))
    other = data.draw(st.sampled_from([c for c in USCC_CHARSET if c != code[at]]))
    with pytest.raises(InvalidIdentifier):
        parse_uscc(code[:at] + other + code[at + 1 :])


@given(id_bodies, st.data())
def test_id_with_its_check_passes_and_any_single_change_fails(
    body: str, data: st.DataObject
) -> None:
    number = body + resident_id_check_digit(body)
    assert parse_resident_id(number).number == number
    at = data.draw(st.integers(0, 17))
    other = data.draw(st.sampled_from([c for c in "0123456789X" if c != number[at]]))
    with pytest.raises(InvalidIdentifier):
        parse_resident_id(number[:at] + other + number[at + 1 :])
