"""City rules by grade with validity dates: which rule pays which day, and what may change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.ltc.assessment import Grade
from anxin.ltc.entitlements import (
    EntitlementRule,
    Month,
    RuleConflict,
    check_new_rule,
    monthly_cash,
    rule_on,
)


def rule(
    cash: str, start: date, end: date | None = None, grade: Grade = Grade.MODERATE
) -> EntitlementRule:
    return EntitlementRule(
        city="nantong", grade=grade, valid_from=start, valid_to=end, monthly_cash=Decimal(cash),
        visits_per_week=2, services=frozenset({"bath", "haircut", "massage"}),
        visit_copay_ratio=Decimal("0.10"), rental_fund_ratio=Decimal("0.80"),
    )  # fmt: skip


OLD = rule("210.00", date(2026, 1, 1), date(2026, 11, 16))
NEW = rule("240.00", date(2026, 11, 16))


def test_the_rule_in_force_on_a_day() -> None:
    rules = [OLD, NEW]
    assert rule_on(rules, "nantong", Grade.MODERATE, date(2026, 11, 15)) is OLD
    assert rule_on(rules, "nantong", Grade.MODERATE, date(2026, 11, 16)) is NEW
    assert rule_on(rules, "nantong", Grade.MILD, date(2026, 11, 16)) is None
    assert rule_on(rules, "suzhou", Grade.MODERATE, date(2026, 11, 16)) is None


def test_a_change_applies_from_its_effective_date_pro_rata() -> None:
    # November has 30 days: 15 at 210 and 15 at 240.
    assert monthly_cash([OLD, NEW], "nantong", Grade.MODERATE, Month(2026, 11)) == Decimal("225.00")
    assert monthly_cash([OLD, NEW], "nantong", Grade.MODERATE, Month(2026, 10)) == Decimal("210.00")
    assert monthly_cash([OLD, NEW], "nantong", Grade.MODERATE, Month(2026, 12)) == Decimal("240.00")


def test_entitlement_that_starts_mid_month_is_paid_from_that_day() -> None:
    cash = monthly_cash([OLD], "nantong", Grade.MODERATE, Month(2026, 9), date(2026, 9, 21))
    assert cash == Decimal("70.00")  # 10 of 30 days


def test_a_rule_may_not_reach_into_a_settled_month() -> None:
    with pytest.raises(RuleConflict, match="2026-11 is settled"):
        check_new_rule([OLD], rule("250.00", date(2026, 11, 20)), settled=[Month(2026, 11)])
    check_new_rule([], rule("250.00", date(2026, 12, 1)), settled=[Month(2026, 11)])


def test_rules_of_one_city_and_grade_may_not_overlap() -> None:
    with pytest.raises(RuleConflict, match="overlaps"):
        check_new_rule([OLD], rule("250.00", date(2026, 11, 1)), settled=[])
    check_new_rule([OLD], rule("250.00", date(2026, 11, 16)), settled=[Month(2026, 10)])
    check_new_rule([OLD], rule("90.00", date(2026, 1, 1), grade=Grade.MILD), settled=[])


def test_month_parsing() -> None:
    assert Month.parse("2026-11") == Month(2026, 11) and str(Month(2026, 2)) == "2026-02"
    for bad in ("2026-13", "2026/11", "11-2026", ""):
        with pytest.raises(ValueError, match="not a month"):
            Month.parse(bad)


@given(st.integers(2000, 2100), st.integers(1, 12), st.integers(1, 31))
def test_a_change_inside_a_month_pays_between_the_two_rates(
    year: int, month: int, day: int
) -> None:
    m = Month(year, month)
    switch = date(year, month, min(day, m.days))
    rules = [rule("200.00", date(1999, 1, 1), switch), rule("300.00", switch)]
    cash = monthly_cash(rules, "nantong", Grade.MODERATE, m)
    assert Decimal("200.00") <= cash <= Decimal("300.00")
    assert cash.as_tuple().exponent == -2
