"""Parsing the city's register: the ID number's check digit, bad rows with line and reason."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from anxin.ltc.register import BadRow, InsuredRow, id_check_digit, id_number_problem, parse

HEADER = "id_number,name,sex,birth_date,district,address,lat,lon\n"


def make_id(region: str, born: str, seq: str) -> str:
    first17 = region + born + seq
    return first17 + id_check_digit(first17)


def test_a_known_valid_number() -> None:
    # The sample number of GB 11643-1999's annex: 11010519491231002X.
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("110105194912310021") == "check digit does not match"


@given(st.from_regex(r"\A[0-9]{17}\Z"))
def test_the_computed_check_digit_always_validates(first17: str) -> None:
    assert id_number_problem(first17 + id_check_digit(first17)) is None


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_kept() -> None:
    good = make_id("320602", "19550312", "002")
    text = HEADER + "\n".join(
        [
            f"{good},王秀兰,F,1955-03-12,崇川区,青年路 8 号,32.0146,120.8642",
            f"{good[:-1]}0,李,F,1955-03-12,崇川区,x,,",
            f"{make_id('320602', '19600101', '011')},张,M,1960-01-02,崇川区,x,,",
            f"{make_id('320602', '19600101', '011')},张,X,1960-01-01,崇川区,x,,",
            f"{make_id('320602', '19600101', '011')},,M,1960-01-01,崇川区,x,,",
            f"{make_id('320602', '19600101', '011')},张,M,1960-01-01,崇川区,x,32.0,",
        ]
    )
    rows = list(parse(text.splitlines(keepends=True)))
    assert isinstance(rows[0], InsuredRow) and rows[0].line == 2 and rows[0].lat == 32.0146
    assert [(r.line, r.reason) for r in rows if isinstance(r, BadRow)] == [
        (3, "id_number: check digit does not match"),
        (4, "birth_date: does not match the id_number"),
        (5, "sex: must be F or M"),
        (6, "name: missing"),
        (7, "lat/lon: give both or neither"),
    ]
