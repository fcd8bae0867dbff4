"""The increasing whole-life product (增额终身寿险): pricing, reserves, cash values.

The product pays a death benefit for life. Its effective sum assured grows each policy
year at a fixed rate g: SA_t = SA_1 (1+g)^(t-1) in policy year t = 1, 2, ...
Premiums are single or level over 3, 5, 10 or 20 years.

Method (all per unit of first-year sum assured, then scaled; money rounded at the edge):
* Net premium by the equivalence principle on the pricing basis (CL(2010-2013) non-pension
  table one for the insured's sex, the pricing rate of the issue date): the guaranteed
  benefit SA_t paid at the end of the year of death.
  If g equals the pricing rate i, sum_t v^t (1+i)^(t-1) {}_{t-1|}q_x = 1/(1+i): the single
  net premium is SA_1/(1+i) whatever the table (the invariant tested in tests/life).
* Gross premium: PV(gross premiums x (1 - loading - commission_t)) = PV(benefits), with
  an explicit expense loading and a commission schedule by policy year.
* Net-premium reserve V_t (prospective, end of policy year t, before the next premium),
  floored at zero as statutory reserves are.
* Cash value: the regulatory minimum r_t x V_t with r_t = k + t (1-k) / min(20, n) for
  t < min(20, n) and 1 afterwards, n the premium term (原中国保监会《普通型人身保险精算规定》,
  现金价值 section); k = 100% for single premium and 80% for level premiums.
* Death benefit: during the premium term the largest of SA_t, premiums paid and the cash
  value; after it, the largest of the cash value, SA_t and premiums paid x an attained-age
  factor of 160% (18-40), 140% (41-60), 120% (61+) (原中国保监会《关于进一步完善人身保险
  精算制度有关事项的通知》保监发〔2016〕76号, minimum death-benefit ratios).
* Pricing rates are dated: 3.5% from 2022, 3.0% from 2023, 2.5% from 1 September 2024
  (国家金融监督管理总局《关于健全人身保险产品定价机制的通知》金发〔2024〕18号).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_DOWN, Decimal
from functools import cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from anxin.core.money import CENT, to_money
from anxin.life.actuarial import (
    annuity_due,
    annuity_due_all_ages,
    increasing_assurance_all_ages,
    temporary_annuity_from_whole,
)
from anxin.life.tables import MortalityTable, Sex, cl_table

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TABLE_CODES: tuple[str, ...] = ("CL1", "CL2", "CL3", "CL4", "CL5", "CL6", "SULT")

STANDARD_TERMS: tuple[int, ...] = (1, 3, 5, 10, 20)
"""The terms the commission schedule is written for (and the synthetic book samples)."""
PREMIUM_TERMS: tuple[int, ...] = tuple(range(1, 31))
"""Allowed premium terms: any whole number of years up to 30; 1 means a single premium."""
PAYMENT_MODES: tuple[int, ...] = (1, 2, 4, 12)
"""Premium instalments a year: annual, half-yearly, quarterly, monthly."""
RATE_LIMIT = Decimal("0.08")
"""A chosen pricing rate must lie in (0, 8 %]; the dated regulatory rates are far below."""

MAX_ISSUE_AGE = 70
MIN_ISSUE_AGE = 0
LOAN_SHARE = Decimal("0.80")
"""Policy loans are limited to 80% of the cash value net of loans outstanding."""


@dataclass(frozen=True)
class PricingRate:
    effective_from: date
    rate: Decimal


PRICING_RATES: tuple[PricingRate, ...] = (
    PricingRate(date(2022, 1, 1), Decimal("0.035")),
    PricingRate(date(2023, 1, 1), Decimal("0.030")),
    PricingRate(date(2024, 9, 1), Decimal("0.025")),
)


def pricing_rate_on(issue_date: date, schedule: Sequence[PricingRate] = PRICING_RATES) -> Decimal:
    """The pricing interest rate for a policy issued on ``issue_date``."""
    rate: Decimal | None = None
    for step in sorted(schedule, key=lambda s: s.effective_from):
        if step.effective_from <= issue_date:
            rate = step.rate
    if rate is None:
        raise ValueError(f"no pricing rate is defined for issue date {issue_date.isoformat()}")
    return rate


@dataclass(frozen=True)
class ExpenseBasis:
    """Loading (share of every gross premium) and commission (share, by policy year)."""

    loading: float = 0.05
    commission: Mapping[int, tuple[float, ...]] = field(
        default_factory=lambda: {
            1: (0.03,),
            3: (0.10, 0.05, 0.03),
            5: (0.15, 0.08, 0.05, 0.03, 0.02),
            10: (0.25, 0.15, 0.08, 0.05, 0.03) + (0.02,) * 5,
            20: (0.30, 0.20, 0.10, 0.08, 0.05) + (0.02,) * 15,
        }
    )

    def schedule(self, pay_term: int) -> FloatArray:
        """Commission share for policy years 1..pay_term (missing years pay none).

        A term without its own schedule pays that of the longest written term not longer
        than it (a 7-year term pays as a 5-year one), so agents are never paid more for an
        unusual term than for the standard one below it."""
        rates = np.zeros(pay_term)
        written = [n for n in self.commission if n <= pay_term]
        given = self.commission.get(pay_term) or (self.commission[max(written)] if written else ())
        rates[: min(len(given), pay_term)] = given[:pay_term]
        if np.any(rates + self.loading >= 1.0) or self.loading < 0 or np.any(rates < 0):
            raise ValueError("loading plus commission must stay in [0, 1)")
        return rates


DEFAULT_EXPENSES = ExpenseBasis()


def cash_value_k(pay_term: int) -> float:
    """k of the minimum cash value formula: 100% for single premium, 80% otherwise."""
    return 1.0 if pay_term == 1 else 0.8


def cash_value_share(t: ArrayLike, pay_term: ArrayLike) -> FloatArray:
    """r_t = k + t (1-k) / min(20, n) for t < min(20, n), else 1 (t = completed years)."""
    ta = np.asarray(t, dtype=np.float64)
    n = np.asarray(pay_term, dtype=np.int64)
    k = np.where(n == 1, 1.0, 0.8)
    span = np.minimum(20, n).astype(np.float64)
    share: FloatArray = np.where(ta < span, k + ta * (1.0 - k) / span, 1.0)
    return share


def death_benefit_factor(attained_age: ArrayLike) -> FloatArray:
    """Minimum ratio of death benefit to premiums paid by attained age (保监发〔2016〕76号)."""
    age = np.asarray(attained_age)
    factor: FloatArray = np.select(
        [age < 18, age <= 40, age <= 60], [1.0, 1.6, 1.4], default=1.2
    ).astype(np.float64)
    return factor


class Basis:
    """Per-unit values on one pricing basis (table, interest i, growth g), all ages at once."""

    def __init__(self, table: MortalityTable, i: float, g: float) -> None:
        self.table = table
        self.i = float(i)
        self.g = float(g)
        self.v = 1.0 / (1.0 + self.i)
        self.a_whole = annuity_due_all_ages(table, self.i)
        self.b_whole = increasing_assurance_all_ages(table, self.i, self.g)

    def annuity(self, age: IntArray, n: IntArray, m: int = 1) -> FloatArray:
        """ä^(m)_{age:n}: 1 a year paid in m instalments of 1/m (UDD between ages)."""
        if m == 1:
            return temporary_annuity_from_whole(self.table, self.a_whole, age, n, self.i)
        a = np.asarray(age, dtype=np.int64)
        inside = a <= self.table.max_age
        values = annuity_due(self.table, np.where(inside, a, 0), self.i, np.asarray(n), m)
        result: FloatArray = np.where(inside, values, 0.0)
        return result

    def benefit_pv(self, age: IntArray) -> FloatArray:
        """PV at ``age`` of benefits 1, (1+g), (1+g)^2, ... (first-year SA of 1)."""
        top = self.table.max_age + 1
        result: FloatArray = self.b_whole[np.minimum(age, top)]
        return result

    def net_premium(self, issue_age: ArrayLike, pay_term: ArrayLike, m: int = 1) -> FloatArray:
        """Annual net premium per unit SA_1 (the single premium when pay_term is 1), paid in
        m instalments a year."""
        x = np.asarray(issue_age, dtype=np.int64)
        n = np.asarray(pay_term, dtype=np.int64)
        result: FloatArray = self.benefit_pv(x) / self.annuity(x, n, m)
        return result

    def gross_premium(
        self,
        issue_age: int,
        pay_term: int,
        expenses: ExpenseBasis = DEFAULT_EXPENSES,
        m: int = 1,
    ) -> float:
        """Annual gross premium per unit SA_1 from the expense-loaded equivalence principle,
        paid in m instalments a year (each policy year's instalments bear that year's
        loading and commission)."""
        kept = 1.0 - expenses.loading - expenses.schedule(pay_term)
        k = np.arange(pay_term)
        lx = self.table.lx
        top = self.table.max_age + 1
        surv = lx[np.minimum(issue_age + k, top)] / lx[issue_age]
        within_year = self.annuity(issue_age + k, np.ones(pay_term, dtype=np.int64), m)
        loaded_annuity = float(np.sum(self.v**k * surv * kept * within_year))
        return float(self.benefit_pv(np.array(issue_age))) / loaded_annuity

    def reserve(
        self, issue_age: ArrayLike, pay_term: ArrayLike, t: ArrayLike, m: int = 1
    ) -> FloatArray:
        """Net-premium reserve per unit SA_1 at the end of policy year t (t = 0, 1, ...)."""
        x = np.asarray(issue_age, dtype=np.int64)
        n = np.asarray(pay_term, dtype=np.int64)
        ta = np.asarray(t, dtype=np.int64)
        premium = self.net_premium(x, n, m)
        attained = x + ta
        future_benefits = (1.0 + self.g) ** ta.astype(np.float64) * self.benefit_pv(attained)
        future_premiums = premium * self.annuity(attained, np.maximum(n - ta, 0), m)
        value: FloatArray = np.maximum(future_benefits - future_premiums, 0.0)
        return value

    def cash_value(
        self, issue_age: ArrayLike, pay_term: ArrayLike, t: ArrayLike, m: int = 1
    ) -> FloatArray:
        """Regulatory minimum cash value per unit SA_1 at the end of policy year t."""
        reserve = self.reserve(issue_age, pay_term, t, m)
        value: FloatArray = cash_value_share(t, pay_term) * reserve
        return value


@cache
def basis_for(table_name: str, i: float, g: float) -> Basis:
    """Bases are cached: a portfolio uses a handful of (table, rate, growth) combinations."""
    from anxin.life.tables import table_by_name

    return Basis(table_by_name(table_name), i, g)


def _table_code(sex: Sex | str) -> str:
    return cl_table(sex).name.split("(")[0]


@dataclass(frozen=True)
class Policy:
    """Terms of one increasing whole-life policy (money in exact yuan)."""

    issue_age: int
    sex: Sex
    pay_term: int
    sum_assured: Decimal  # SA_1, first-year effective sum assured
    issue_date: date
    growth: Decimal | None = None  # None: equal to the pricing rate, the usual design
    expenses: ExpenseBasis = DEFAULT_EXPENSES
    table: str | None = None  # CL1..CL6 or SULT; None: CL non-pension table one by sex
    rate: Decimal | None = None  # None: the regulatory pricing rate of the issue date
    mode: int = 1  # premium instalments a year: 1, 2, 4 or 12 (a single premium is one)

    def __post_init__(self) -> None:
        if self.pay_term not in PREMIUM_TERMS:
            raise ValueError(
                f"premium term must be a whole number of years, 1..{PREMIUM_TERMS[-1]}"
            )
        if self.table is not None and self.table.upper() not in TABLE_CODES:
            raise ValueError(f"table must be one of {', '.join(TABLE_CODES)}")
        if self.mode not in PAYMENT_MODES or (self.pay_term == 1 and self.mode != 1):
            raise ValueError("payment mode must be 1, 2, 4 or 12 a year (1 for a single premium)")
        if self.rate is not None and not Decimal(0) < self.rate <= RATE_LIMIT:
            raise ValueError(f"a chosen pricing rate must lie in (0, {RATE_LIMIT}]")
        if not MIN_ISSUE_AGE <= self.issue_age <= MAX_ISSUE_AGE:
            raise ValueError(f"issue age must lie in {MIN_ISSUE_AGE}..{MAX_ISSUE_AGE}")
        if self.sum_assured <= 0:
            raise ValueError("sum assured must be positive")
        if self.growth is not None and not Decimal(0) <= self.growth <= self.pricing_rate:
            # a growth above the pricing rate is not allowed for this product line
            raise ValueError("growth must lie between 0 and the pricing rate")

    @property
    def pricing_rate(self) -> Decimal:
        return self.rate if self.rate is not None else pricing_rate_on(self.issue_date)

    @property
    def g(self) -> Decimal:
        return self.pricing_rate if self.growth is None else self.growth

    @property
    def basis(self) -> Basis:
        code = self.table.upper() if self.table else _table_code(self.sex)
        return basis_for(code, float(self.pricing_rate), float(self.g))

    def effective_sum_assured(self, year: int) -> Decimal:
        """SA_t for policy year t >= 1."""
        if year < 1:
            raise ValueError("policy years start at 1")
        return to_money(self.sum_assured * (1 + self.g) ** (year - 1))

    @property
    def net_premium(self) -> Decimal:
        unit = float(self.basis.net_premium(self.issue_age, self.pay_term, self.mode))
        return to_money(self.sum_assured * Decimal(unit))

    @property
    def gross_premium(self) -> Decimal:
        unit = self.basis.gross_premium(self.issue_age, self.pay_term, self.expenses, self.mode)
        return to_money(self.sum_assured * Decimal(unit))

    @property
    def instalment(self) -> Decimal:
        """One instalment of the gross premium (the annual premium over the mode)."""
        return to_money(self.gross_premium / self.mode)

    def premiums_paid(self, year: int) -> Decimal:
        """Gross premiums paid up to and including policy year ``year``."""
        return self.gross_premium * min(max(year, 0), self.pay_term)

    def reserve(self, t: int) -> Decimal:
        unit = float(self.basis.reserve(self.issue_age, self.pay_term, t, self.mode))
        return to_money(self.sum_assured * Decimal(unit))

    def cash_value(self, t: int) -> Decimal:
        unit = float(self.basis.cash_value(self.issue_age, self.pay_term, t, self.mode))
        return to_money(self.sum_assured * Decimal(unit))

    def death_benefit(self, year: int) -> Decimal:
        """Death benefit for a death in policy year ``year`` (paid at the year end)."""
        sa = self.effective_sum_assured(year)
        paid = self.premiums_paid(year)
        cv = self.cash_value(year)
        if year <= self.pay_term:
            return max(sa, paid, cv)
        factor = Decimal(str(float(death_benefit_factor(self.issue_age + year - 1))))
        return max(cv, sa, to_money(paid * factor))

    def surrender_value(self, t: int, loan_balance: Decimal = Decimal(0)) -> Decimal:
        """Cash paid on surrender at the end of policy year t, net of any policy loan."""
        return max(self.cash_value(t) - loan_balance, Decimal(0))

    def max_loan(self, t: int, loan_balance: Decimal = Decimal(0)) -> Decimal:
        """New loan available at the end of year t: 80% of the cash value less loans."""
        room = self.cash_value(t) * LOAN_SHARE - loan_balance
        return max(room.quantize(CENT, rounding=ROUND_DOWN), Decimal(0))

    def partial_withdrawal(self, t: int, amount: Decimal) -> tuple[Policy, Decimal]:
        """Withdraw part of the cash value at the end of year t (t >= 1).

        The first-year sum assured (and so every later SA, premium and cash value) is reduced
        in the proportion withdrawn: SA_1' = SA_1 (1 - amount / CV_t).
        """
        if t < 1:
            raise ValueError("partial withdrawal is possible from the first policy anniversary")
        cv = self.cash_value(t)
        if amount <= 0 or amount >= cv:
            raise ValueError("withdrawal must be positive and less than the cash value")
        keep = 1 - amount / cv
        reduced = to_money(self.sum_assured * keep)
        if reduced <= 0:
            raise ValueError("withdrawal would leave no sum assured; surrender instead")
        return replace(self, sum_assured=reduced), to_money(amount)


def sum_assured_for_premium(
    issue_age: int,
    sex: Sex,
    pay_term: int,
    gross_premium: Decimal,
    issue_date: date,
    growth: Decimal | None = None,
    expenses: ExpenseBasis = DEFAULT_EXPENSES,
    table: str | None = None,
    rate: Decimal | None = None,
    mode: int = 1,
) -> Decimal:
    """The first-year sum assured a given annual gross premium buys (rounded down to fen)."""
    probe = Policy(
        issue_age, sex, pay_term, Decimal(1), issue_date, growth, expenses, table, rate, mode
    )
    unit = probe.basis.gross_premium(issue_age, pay_term, expenses, mode)
    return (gross_premium / Decimal(unit)).quantize(CENT, rounding=ROUND_DOWN)


def loan_balance(principal: Decimal, annual_rate: Decimal, years: Decimal | int) -> Decimal:
    """Loan with compound interest at an effective annual rate (unpaid interest capitalised)."""
    if principal < 0 or annual_rate < 0 or years < 0:
        raise ValueError("principal, rate and years must be non-negative")
    return to_money(principal * (1 + annual_rate) ** Decimal(years))
