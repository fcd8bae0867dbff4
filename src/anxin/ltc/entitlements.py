"""Entitlements by grade (pure): a city's rules as data with validity dates.

A rule says what a beneficiary of one grade receives in one city from `valid_from` (inclusive)
until `valid_to` (exclusive, open when None): a monthly cash subsidy, home-care visits per week
from a service menu, the co-payment share of a visit, and the fund's share of equipment rental.
Rules are versioned rows in the openIMIS manner: a change is a new rule that starts on its
effective date; the previous one is closed the day before, never edited. A month is paid with
the rules in force on each of its days, and a rule may not start inside a month already settled.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from anxin.core.money import to_money

from .assessment import Grade


@dataclass(frozen=True)
class ServiceItem:
    """One service of the city's menu with its price per visit."""

    code: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class EntitlementRule:
    city: str
    grade: Grade
    valid_from: date
    valid_to: date | None  # exclusive
    monthly_cash: Decimal
    visits_per_week: int
    services: frozenset[str]  # codes of the menu this grade may receive
    visit_copay_ratio: Decimal  # the beneficiary's share of a visit's price, 0..1
    rental_fund_ratio: Decimal  # the fund's share of equipment rental, 0..1

    def __post_init__(self) -> None:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        for name in ("visit_copay_ratio", "rental_fund_ratio"):
            ratio: Decimal = getattr(self, name)
            if not Decimal(0) <= ratio <= Decimal(1):
                raise ValueError(f"{name} must be between 0 and 1")
        if self.monthly_cash < 0 or self.visits_per_week < 0:
            raise ValueError("amounts and counts must not be negative")

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """'2026-11' -> Month(2026, 11); anything else is a ValueError."""
        try:
            year_text, month_text = text.split("-")
            month = cls(int(year_text), int(month_text))
        except ValueError as exc:
            raise ValueError(f"not a month (YYYY-MM): {text!r}") from exc
        if not 1 <= month.month <= 12 or not 2000 <= month.year <= 2999:
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return month

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def end(self) -> date:
        """The first day of the next month (exclusive end)."""
        return self.first + timedelta(days=self.days)

    def contains(self, day: date) -> bool:
        return self.first <= day < self.end

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class RuleConflict(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_new_rule(
    rules: Iterable[EntitlementRule], new: EntitlementRule, settled: Iterable[Month]
) -> None:
    """Refuse a rule that overlaps another of its city and grade or starts in a settled month.

    A change of rule is expressed by closing the current rule (`close_rule`) and adding the new
    one; the check keeps the history one rule per day.
    """
    for month in settled:
        if new.valid_from < month.end:
            raise RuleConflict("valid_from", f"month {month} is settled; a rule cannot reach back")
    for rule in rules:
        if rule.city != new.city or rule.grade != new.grade:
            continue
        starts_before_end = rule.valid_to is None or new.valid_from < rule.valid_to
        ends_after_start = new.valid_to is None or rule.valid_from < new.valid_to
        if starts_before_end and ends_after_start:
            raise RuleConflict("valid_from", f"overlaps the rule valid from {rule.valid_from}")


def rule_on(
    rules: Iterable[EntitlementRule], city: str, grade: Grade, day: date
) -> EntitlementRule | None:
    for rule in rules:
        if rule.city == city and rule.grade == grade and rule.covers(day):
            return rule
    return None


class RuleBook:
    """The rules indexed by city and grade, with the rule of each (city, grade, day) remembered:
    a month's settlement asks the same few hundred questions for every one of its visits."""

    def __init__(self, rules: Iterable[EntitlementRule]) -> None:
        self.rules = list(rules)
        self._by_key: dict[tuple[str, Grade], list[EntitlementRule]] = {}
        for rule in self.rules:
            self._by_key.setdefault((rule.city, rule.grade), []).append(rule)
        self._on: dict[tuple[str, Grade, date], EntitlementRule | None] = {}

    def on(self, city: str, grade: Grade, day: date) -> EntitlementRule | None:
        key = (city, grade, day)
        if key not in self._on:
            self._on[key] = rule_on(self._by_key.get((city, grade), ()), city, grade, day)
        return self._on[key]


def monthly_cash(
    rules: Sequence[EntitlementRule] | RuleBook,
    city: str,
    grade: Grade,
    month: Month,
    entitled_from: date | None = None,
    entitled_to: date | None = None,
) -> Decimal:
    """The month's cash subsidy: each day paid at the rule in force that day, pro rata.

    `entitled_from`/`entitled_to` (exclusive) bound the beneficiary's own entitlement (graded
    mid-month, died, moved away). Rounded once per rule segment, half up, to the fen.
    """
    book = rules if isinstance(rules, RuleBook) else RuleBook(rules)
    start = max(month.first, entitled_from or month.first)
    stop = min(month.end, entitled_to or month.end)
    days_by_rule: dict[EntitlementRule, int] = {}
    day = start
    while day < stop:
        rule = book.on(city, grade, day)
        if rule is not None:
            days_by_rule[rule] = days_by_rule.get(rule, 0) + 1
        day += timedelta(days=1)
    total = Decimal(0)
    for rule, days in days_by_rule.items():
        total += to_money(rule.monthly_cash * days / month.days)
    return total
