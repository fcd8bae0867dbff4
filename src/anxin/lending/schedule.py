"""Dated cash flows and repayment schedules, Decimal-exact.

One engine serves loans (issue 15) and leases (issue 16): a schedule is a sequence of payment
events on a period grid, each preceded by an interest accrual, and the engine solves the level
payment that takes the opening balance to the residual. What varies is set on `Terms`:

* method: equal instalment (annuity / equal rent), equal principal, interest-only with balloon,
  flat rate;
* timing: in arrears (end of each period) or in advance (start of each period: rent);
* profile: relative weights of the level payment per period, cycled (stepped or seasonal rent);
* balloon: principal left for the last payment (a residual value or buy-out price; in advance it
  is paid one period after the last rent);
* grace on principal (interest-only periods) and on interest (interest deferred to the first
  instalment after the grace, not capitalised: Fineract's "grace on interest payment");
* fees: upfront, and per instalment;
* interest per period: the nominal rate over the periods per year for a whole period (Fineract's
  "same as repayment period"; a broken period pro rata by its days), or by a day count.

Rounding (`RoundingRule`): every amount is quantised to the fen with round-half-up (四舍五入,
the rule of `core.money`); interest is computed as balance × rate × days / denominator with a
single division and a single rounding; the last instalment takes whatever principal is left, so
the principal column sums to the amount lent exactly. A total split into equal parts (equal
principal, flat interest) is cut *down* to the fen per part, so the last part is never
negative. An instalment may be rounded *up* to a multiple (1 yuan, 10 yuan) like Fineract's
"installment in multiples of"; the principal part absorbs the difference.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from anxin.core.money import CENT, ROUNDING
from anxin.lending.daycount import DayCount, days_between, year_fraction

ZERO = Decimal("0.00")
# Enough digits that a product of a balance (≤ 10^12 yuan) and a rate with its divisions is
# exact before the one rounding to the fen.
_PRECISION = 40


@dataclass(frozen=True)
class RoundingRule:
    """How computed amounts become money, with a name to show in disclosures and docs."""

    name: str = "half-up to the fen (四舍五入)"
    mode: str = ROUNDING
    instalment_multiple: Decimal | None = None
    multiple_mode: str = ROUND_CEILING

    def money(self, value: Decimal) -> Decimal:
        return value.quantize(CENT, rounding=self.mode)

    def part(self, value: Decimal) -> Decimal:
        """An equal part of a total (principal share, flat interest): cut down to the fen, so
        that the last part, which takes the rest, is never negative."""
        return value.quantize(CENT, rounding=ROUND_DOWN)

    def instalment(self, value: Decimal) -> Decimal:
        amount = self.money(value)
        if self.instalment_multiple is None:
            return amount
        steps = (amount / self.instalment_multiple).to_integral_value(rounding=self.multiple_mode)
        return (steps * self.instalment_multiple).quantize(CENT)


HALF_UP_FEN = RoundingRule()


@dataclass(frozen=True)
class Frequency:
    """A payment period: a whole number of months, or of days."""

    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if (self.months > 0) == (self.days > 0):
            raise ValueError("a frequency is a number of months or a number of days")
        if self.months and 12 % self.months:
            raise ValueError("a monthly frequency must divide the year (1, 2, 3, 4, 6, 12)")

    @property
    def per_year(self) -> int:
        return 12 // self.months if self.months else 365 // self.days

    def step(self, anchor: date, k: int, end_of_month: bool = True) -> date:
        """The k-th date from `anchor` (k may be negative), counted from the anchor each time
        so that a short month does not drag later dates (31 Jan → 28 Feb → 31 Mar)."""
        if self.days:
            return anchor + timedelta(days=k * self.days)
        return add_months(anchor, k * self.months, end_of_month)


MONTHLY = Frequency(months=1)
QUARTERLY = Frequency(months=3)
SEMIANNUAL = Frequency(months=6)
ANNUAL = Frequency(months=12)
WEEKLY = Frequency(days=7)
FORTNIGHTLY = Frequency(days=14)


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(day: date, months: int, end_of_month: bool = True) -> date:
    """`day` moved by whole months; a day past the target month's end becomes that end, and
    with `end_of_month` a month-end stays a month-end (30 Apr + 1 month = 31 May)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _last_day(year, month)
    if end_of_month and day.day == _last_day(day.year, day.month):
        return date(year, month, last)
    return date(year, month, min(day.day, last))


class Method(StrEnum):
    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal_principal"
    INTEREST_ONLY = "interest_only"
    FLAT = "flat"


class Timing(StrEnum):
    ARREARS = "arrears"
    ADVANCE = "advance"


class Kind(StrEnum):
    REGULAR = "regular"
    PREPAYMENT = "prepayment"
    RESIDUAL = "residual"


@dataclass(frozen=True)
class CashFlow:
    on: date
    amount: Decimal


@dataclass(frozen=True)
class Terms:
    """What a repayment schedule is built from. Rates are fractions: 12 % is Decimal("0.12")."""

    principal: Decimal
    annual_rate: Decimal
    periods: int
    start: date
    method: Method = Method.ANNUITY
    frequency: Frequency = MONTHLY
    timing: Timing = Timing.ARREARS
    day_count: DayCount | None = None
    first_due: date | None = None
    end_of_month: bool = True
    grace_principal: int = 0
    grace_interest: int = 0
    balloon: Decimal = ZERO
    profile: tuple[Decimal, ...] | None = None
    upfront_fee: Decimal = ZERO
    instalment_fee: Decimal = ZERO
    rounding: RoundingRule = HALF_UP_FEN

    def __post_init__(self) -> None:
        if self.principal <= 0 or self.periods < 1:
            raise ValueError("a schedule needs a positive principal and at least one period")
        if self.annual_rate < 0:
            raise ValueError("the rate must not be negative")
        if not 0 <= self.balloon < self.principal:
            raise ValueError("the balloon must be at least zero and less than the principal")
        if not 0 <= self.grace_interest <= self.grace_principal < self.periods:
            raise ValueError("need 0 ≤ grace on interest ≤ grace on principal < periods")
        if self.first_due is not None and self.first_due <= self.start:
            raise ValueError("the first due date must be after the start")
        if self.timing is Timing.ADVANCE:
            if self.method not in (Method.ANNUITY, Method.EQUAL_PRINCIPAL):
                raise ValueError("payments in advance are equal or equal-principal rents")
            if self.grace_principal:
                raise ValueError("grace periods apply to payments in arrears")
        if self.profile is not None and (
            not self.profile or any(w < 0 for w in self.profile) or sum(self.profile) <= 0
        ):
            raise ValueError("a payment profile needs non-negative weights, not all zero")

    @property
    def anchor(self) -> date:
        """The end of the first period: the first due date in arrears."""
        return self.first_due or self.frequency.step(self.start, 1, self.end_of_month)


@dataclass(frozen=True)
class Instalment:
    number: int
    due: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    balance: Decimal
    kind: Kind = Kind.REGULAR

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee


@dataclass(frozen=True)
class Schedule:
    terms: Terms
    instalments: tuple[Instalment, ...]
    level: Decimal | None = None
    """The level payment of an annuity (before profile weights), or the equal principal share."""
    grid_index: tuple[int, ...] = field(default=(), repr=False)
    """Each instalment's index on the terms' period grid (for prepayment and rescheduling)."""

    @property
    def total_principal(self) -> Decimal:
        return sum((i.principal for i in self.instalments), ZERO)

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.instalments), ZERO)

    @property
    def total_fees(self) -> Decimal:
        return self.terms.upfront_fee + sum((i.fee for i in self.instalments), ZERO)

    @property
    def total_repayable(self) -> Decimal:
        return self.total_principal + self.total_interest + self.total_fees

    def cash_flows(self) -> list[CashFlow]:
        """The lender's flows: the advance net of the upfront fee (negative), then each
        instalment. The borrower's are the same with the sign changed."""
        flows = [CashFlow(self.terms.start, self.terms.upfront_fee - self.terms.principal)]
        flows.extend(CashFlow(i.due, i.total) for i in self.instalments)
        return flows


# --- accrual ---------------------------------------------------------------------------------


def _accrual(terms: Terms, start: date, end: date, regular: tuple[date, date]) -> Fraction:
    """The fraction of a year over which interest accrues from `start` to `end`, which lie in
    the regular period `regular`."""
    if terms.day_count is not None:
        return year_fraction(start, end, terms.day_count)
    per_year = terms.frequency.per_year
    if (start, end) == regular:
        return Fraction(1, per_year)
    # A broken period: its share of the regular period by days (Fineract's rule).
    whole = days_between(regular[0], regular[1], DayCount.ACT_365F)
    return Fraction(days_between(start, end, DayCount.ACT_365F), whole * per_year)


def _interest(terms: Terms, balance: Decimal, rate: Decimal, years: Fraction) -> Decimal:
    with localcontext(prec=_PRECISION):
        exact = balance * rate * years.numerator / years.denominator
    return terms.rounding.money(exact)


def default_interest(
    overdue: Decimal,
    due: date,
    as_of: date,
    annual_rate: Decimal,
    basis: DayCount = DayCount.ACT_360,
    rounding: RoundingRule = HALF_UP_FEN,
) -> Decimal:
    """Penalty (default) interest on an amount overdue since `due`, to `as_of`.

    Chinese banks quote a daily rate as the annual rate / 360 (日利率 = 年利率 ÷ 360), hence the
    default basis; the penalty rate itself (often the contract rate plus 50 %) is the product's.
    """
    if as_of <= due or overdue <= 0:
        return ZERO
    with localcontext(prec=_PRECISION):
        exact = overdue * annual_rate * days_between(due, as_of, basis) / basis.denominator
    return rounding.money(exact)


# --- the engine ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    on: date
    years: Fraction  # accrual since the previous event (or the start)
    grid: int  # index on the period grid
    weight: Decimal  # share of the level payment; 0 in grace and for a separate residual
    principal_grace: bool
    interest_grace: bool
    residual: bool = False


def _events(terms: Terms, start: date, first: int, count: int) -> list[_Event]:
    """Payment events on the grid from index `first`, `count` periods, starting at `start`."""
    step = terms.frequency.step
    eom = terms.end_of_month
    anchor = terms.anchor
    ends = [step(anchor, k, eom) for k in range(first, first + count)]
    regular = [
        (step(anchor, k - 1, eom), step(anchor, k, eom)) for k in range(first, first + count)
    ]
    begins = [start, *ends[:-1]]
    years = [_accrual(terms, b, e, r) for b, e, r in zip(begins, ends, regular, strict=True)]
    profile = terms.profile or (Decimal(1),)
    events: list[_Event] = []
    for n in range(count):
        k = first + n
        in_grace = k < terms.grace_principal
        # the profile is cycled from the first amortising period of the whole grid
        weight = Decimal(0) if in_grace else profile[(k - terms.grace_principal) % len(profile)]
        if terms.timing is Timing.ARREARS:
            on, accrued = ends[n], years[n]
        else:
            on, accrued = begins[n], (years[n - 1] if n else Fraction(0))
        events.append(_Event(on, accrued, k, weight, in_grace, k < terms.grace_interest))
    if terms.timing is Timing.ADVANCE and terms.balloon > 0:
        events.append(
            _Event(ends[-1], years[-1], first + count, Decimal(0), False, False, residual=True)
        )
    return events


def _level_annuity(terms: Terms, balance: Decimal, events: Sequence[_Event]) -> Decimal:
    """L such that paying L × weight at each event takes `balance` to the balloon.

    Discount factors start after the principal grace: interest in grace is paid (or deferred
    without interest), so the balance entering amortisation is the opening balance.
    """
    with localcontext(prec=_PRECISION):
        factor = Decimal(1)
        weighted = Decimal(0)
        for event in events:
            if event.principal_grace:
                continue
            factor /= 1 + terms.annual_rate * event.years.numerator / event.years.denominator
            weighted += event.weight * factor
        return (balance - terms.balloon * factor) / weighted


def _build(
    terms: Terms,
    balance: Decimal,
    start: date,
    first: int,
    count: int,
    number: int,
    fixed: Decimal | None = None,
) -> tuple[list[Instalment], list[int], Decimal | None]:
    """Rows from `balance` at `start` over grid periods first..first+count-1.

    With `fixed` (the level of the schedule being prepaid), the level is kept and the rows stop
    as soon as the balance is repaid: a shorter term.
    """
    rule = terms.rounding
    rate = terms.annual_rate
    events = _events(terms, start, first, count)
    amortising = [e for e in events if not e.principal_grace and not e.residual]
    weights = sum((e.weight for e in amortising), Decimal(0))
    if weights == 0 and terms.method is not Method.INTEREST_ONLY:
        raise ValueError("the payment profile puts no weight on any amortising period")
    level: Decimal | None = None
    flat_interest: list[Decimal] = []
    if terms.method is Method.ANNUITY:
        level = (
            fixed if fixed is not None else rule.instalment(_level_annuity(terms, balance, events))
        )
    elif terms.method in (Method.EQUAL_PRINCIPAL, Method.FLAT):
        level = fixed if fixed is not None else rule.part((balance - terms.balloon) / weights)
    if terms.method is Method.FLAT:
        total = _interest(terms, balance, rate, sum((e.years for e in events), Fraction(0)))
        share = rule.part(total / len(events))
        flat_interest = [share] * (len(events) - 1) + [total - share * (len(events) - 1)]

    rows: list[Instalment] = []
    grid: list[int] = []
    deferred = ZERO
    last = len(events) - 1
    for n, event in enumerate(events):
        accrued = (
            flat_interest[n] if flat_interest else _interest(terms, balance, rate, event.years)
        )
        if event.interest_grace:
            deferred += accrued
            interest = ZERO
        else:
            interest, deferred = accrued + deferred, ZERO
        if event.principal_grace:
            principal = ZERO
        elif n == last:
            principal = balance  # the last payment absorbs every remainder
        else:
            principal = _principal(terms, level, event, accrued)
        principal = min(principal, balance)
        balance -= principal
        kind = Kind.RESIDUAL if event.residual else Kind.REGULAR
        fee = ZERO if event.residual else terms.instalment_fee
        rows.append(Instalment(number + n, event.on, principal, interest, fee, balance, kind))
        grid.append(event.grid)
        if fixed is not None and balance == 0:
            break
    return rows, grid, level


def _principal(terms: Terms, level: Decimal | None, event: _Event, accrued: Decimal) -> Decimal:
    rule = terms.rounding
    if terms.method is Method.INTEREST_ONLY:
        principal = ZERO
    elif terms.method is Method.ANNUITY:
        assert level is not None
        principal = rule.instalment(level * event.weight) - accrued
    else:
        assert level is not None
        principal = rule.part(level * event.weight)
    if rule.instalment_multiple is not None and terms.method is not Method.ANNUITY:
        principal = rule.instalment(principal + accrued) - accrued
    return principal


def build(terms: Terms) -> Schedule:
    """The repayment (or rent) schedule of `terms`."""
    rows, grid, level = _build(terms, terms.principal, terms.start, 0, terms.periods, 1)
    return Schedule(terms, tuple(rows), level, tuple(grid))


# --- changes to a running schedule -----------------------------------------------------------


class PrepaymentEffect(StrEnum):
    SHORTEN_TERM = "shorten_term"
    LOWER_INSTALMENT = "lower_instalment"


def _split(schedule: Schedule, on: date) -> tuple[list[Instalment], list[int], Decimal, date]:
    if schedule.terms.timing is not Timing.ARREARS:
        raise ValueError("prepayment and rescheduling are defined for payments in arrears")
    if on < schedule.terms.start:
        raise ValueError("the date is before the schedule starts")
    kept = [i for i in schedule.instalments if i.due <= on]
    grid = list(schedule.grid_index[: len(kept)])
    balance = kept[-1].balance if kept else schedule.terms.principal
    since = kept[-1].due if kept else schedule.terms.start
    if balance == 0:
        raise ValueError("the loan is already repaid at that date")
    return kept, grid, balance, since


@dataclass(frozen=True)
class Payoff:
    """What repays the loan in full on a date: the principal outstanding after the instalments
    due up to it, and the interest accrued on it since the last of them."""

    on: date
    principal: Decimal
    accrued: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.accrued


def _accrued(schedule: Schedule, on: date) -> tuple[list[Instalment], list[int], Decimal, Decimal]:
    terms = schedule.terms
    kept, grid, balance, since = _split(schedule, on)
    next_index = grid[-1] + 1 if grid else 0
    regular = (
        terms.frequency.step(terms.anchor, next_index - 1, terms.end_of_month),
        terms.frequency.step(terms.anchor, next_index, terms.end_of_month),
    )
    accrued = (
        _interest(terms, balance, terms.annual_rate, _accrual(terms, since, on, regular))
        if on > since
        else ZERO
    )
    return kept, grid, balance, accrued


def payoff(schedule: Schedule, on: date) -> Payoff:
    """The amount that closes the loan on `on`, the instalments due up to it being paid."""
    _, _, balance, accrued = _accrued(schedule, on)
    return Payoff(on, balance, accrued)


def prepay(schedule: Schedule, on: date, amount: Decimal, effect: PrepaymentEffect) -> Schedule:
    """A partial (or full) prepayment of `amount` on `on`.

    Instalments due on or before `on` stand as scheduled. The prepayment first pays the
    interest accrued since the last due date, then principal. After it, the remaining due dates
    keep their places: `SHORTEN_TERM` keeps the instalment and drops the last ones;
    `LOWER_INSTALMENT` keeps the number of instalments and re-solves a lower one.
    """
    terms = schedule.terms
    kept, grid, balance, accrued = _accrued(schedule, on)
    next_index = grid[-1] + 1 if grid else 0
    if amount <= accrued:
        raise ValueError("a prepayment must exceed the interest accrued to its date")
    principal = min(amount - accrued, balance)
    balance -= principal
    number = len(kept) + 1
    rows = [*kept, Instalment(number, on, principal, accrued, ZERO, balance, Kind.PREPAYMENT)]
    grid.append(next_index - 1)
    remaining = terms.periods - next_index
    level = schedule.level
    if balance > 0 and remaining > 0:
        fixed = level if effect is PrepaymentEffect.SHORTEN_TERM else None
        if terms.method is Method.INTEREST_ONLY or terms.grace_principal > next_index:
            fixed = None  # nothing level to keep: only the amount owed changes
        more, more_grid, level = _build(
            terms, balance, on, next_index, remaining, number + 1, fixed
        )
        rows += more
        grid += more_grid
    elif balance > 0:
        raise ValueError("no instalment is left to repay the remaining balance")
    return Schedule(terms, tuple(rows), level, tuple(grid))


def reschedule(
    schedule: Schedule,
    on: date,
    *,
    annual_rate: Decimal | None = None,
    periods: int | None = None,
    method: Method | None = None,
    grace: int = 0,
) -> Schedule:
    """From the due date (or start) `on`, the outstanding principal is re-amortised with a new
    rate, number of remaining periods or method; instalments due up to `on` stand. `grace`
    periods of interest only (a hardship's breathing space) open the new schedule."""
    terms = schedule.terms
    kept, grid, balance, since = _split(schedule, on)
    if since != on:
        raise ValueError("rescheduling starts on the start date or a due date")
    next_index = grid[-1] + 1 if grid else 0
    remaining = periods if periods is not None else terms.periods - next_index
    if remaining < 1:
        raise ValueError("rescheduling needs at least one period")
    if not 0 <= grace < remaining:
        raise ValueError("the grace must leave at least one period that repays principal")
    # Without new grace, any left of the old one stands, but never past the new last period.
    grace_principal = (
        next_index + grace if grace else min(terms.grace_principal, next_index + remaining - 1)
    )
    new = replace(
        terms,
        annual_rate=terms.annual_rate if annual_rate is None else annual_rate,
        method=method or terms.method,
        periods=next_index + remaining,
        balloon=terms.balloon if terms.balloon < balance else ZERO,
        grace_principal=grace_principal,
        grace_interest=min(terms.grace_interest, grace_principal),
    )
    more, more_grid, level = _build(new, balance, on, next_index, remaining, len(kept) + 1)
    return Schedule(new, tuple(kept + more), level, tuple(grid + more_grid))


def stepped(*steps: tuple[int, Decimal]) -> tuple[Decimal, ...]:
    """A profile from (number of periods, weight) steps: stepped((12, 1), (12, 1.5))."""
    return tuple(weight for count, weight in steps for _ in range(count))
