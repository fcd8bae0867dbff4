"""Finance-lease maths on the shared cash-flow core (`anxin.lending.schedule`): pure, Decimal.

A lease is a loan of the asset's cost less the down payment, repaid by rents, with the
residual value (or buy-out price) as the core's balloon. What this module adds is the lease's
own vocabulary and its two sets of accounts:

* **rent** from the rate (the core's level payment) and the **rate implicit in the lease** from
  a given rent (the per-period IRR of the lessor's flows on the period grid, times the periods
  in a year — the same nominal convention as the core's interest per period);
* **VAT per rent**, charged on top of the schedule's VAT-exclusive amounts: a direct lease of
  tangible movables is taxed on the whole rent (13 %), a sale-and-leaseback, which China taxes
  as a loan service, on its interest only (6 %) (财税〔2016〕36号);
* **the lessor's accounts**: gross investment (every lease payment), net investment (what was
  financed), and unearned finance income unwinding period by period (IFRS 16.67–75);
* **the lessee's accounts** (IFRS 16.26–33): the lease liability at the rate implicit, and the
  right-of-use asset (the liability, payments at or before commencement, initial direct costs)
  depreciated straight-line to zero over the lease term, or over the asset's useful life when
  the contract says the lessee will own it (IFRS 16.32: title passes, or a purchase option is
  reasonably certain to be exercised). A sale-and-leaseback whose transfer is
  not a sale (the seller-lessee buys the asset back) keeps the asset on the seller's books and
  records a financial liability instead (IFRS 16.103): no right-of-use asset.

Rents in advance are due at the start of each period; the residual is then paid one period
after the last rent, at the end of the term (the core's rule). In arrears the residual is paid
with the last rent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from anxin.core.money import CENT, ROUNDING
from anxin.lending import rates
from anxin.lending.schedule import (
    HALF_UP_FEN,
    MONTHLY,
    ZERO,
    Frequency,
    Instalment,
    Kind,
    Method,
    Schedule,
    Terms,
    Timing,
    build,
)


class LeaseKind(StrEnum):
    DIRECT = "direct"
    LEASEBACK = "sale_and_leaseback"


class RentMethod(StrEnum):
    EQUAL_RENT = "equal_rent"
    EQUAL_PRINCIPAL = "equal_principal"
    STEPPED = "stepped"
    SEASONAL = "seasonal"


# 财税〔2016〕36号: tangible movable property leasing 13 % (after the 2019 cut), loan services 6 %.
DEFAULT_VAT = {LeaseKind.DIRECT: Decimal("0.13"), LeaseKind.LEASEBACK: Decimal("0.06")}


@dataclass(frozen=True)
class LeaseTerms:
    """What a lease's rent schedule is built from. Rates are fractions (12 % = 0.12)."""

    cost: Decimal
    annual_rate: Decimal
    periods: int
    start: date
    down_payment: Decimal = ZERO
    residual: Decimal = ZERO
    timing: Timing = Timing.ARREARS
    method: RentMethod = RentMethod.EQUAL_RENT
    profile: tuple[Decimal, ...] | None = None
    frequency: Frequency = MONTHLY
    kind: LeaseKind = LeaseKind.DIRECT
    handling_fee: Decimal = ZERO
    vat_rate: Decimal | None = None
    # The asset's useful life in lease periods when the lessee will own it (IFRS 16.32); the
    # right-of-use asset is then depreciated over it instead of over the lease term.
    useful_life_periods: int | None = None

    def __post_init__(self) -> None:
        if not ZERO <= self.down_payment < self.cost:
            raise ValueError("the down payment must be at least zero and less than the cost")
        if self.method in (RentMethod.STEPPED, RentMethod.SEASONAL) and not self.profile:
            raise ValueError("stepped and seasonal rent need a profile of weights")
        if self.vat_rate is not None and not ZERO <= self.vat_rate < 1:
            raise ValueError("the VAT rate must be a fraction between 0 and 1")
        if self.useful_life_periods is not None and self.useful_life_periods < self.periods:
            # IFRS 16.32 lengthens depreciation to the useful life; a shorter life than the
            # term would be the ordinary "shorter of" rule, which a lease with title passing
            # does not use
            raise ValueError("the useful life must be at least the lease term")

    @property
    def financed(self) -> Decimal:
        """The lessor's net investment at commencement: the cost less the down payment."""
        return self.cost - self.down_payment

    def core_terms(self) -> Terms:
        """The shared core's terms (which check the rest: rate, periods, residual, profile)."""
        return Terms(
            principal=self.financed,
            annual_rate=self.annual_rate,
            periods=self.periods,
            start=self.start,
            method=(
                Method.EQUAL_PRINCIPAL
                if self.method is RentMethod.EQUAL_PRINCIPAL
                else Method.ANNUITY
            ),
            frequency=self.frequency,
            timing=self.timing,
            balloon=self.residual,
            profile=self.profile if self.method is not RentMethod.EQUAL_RENT else None,
            upfront_fee=self.handling_fee,
        )


def seasonal(high: Sequence[int], high_weight: Decimal, low_weight: Decimal) -> tuple[Decimal, ...]:
    """Twelve monthly weights from the first rent's month: `high` lists the rent numbers in a
    year (0–11) of the busy season."""
    return tuple(high_weight if m in set(high) else low_weight for m in range(12))


def schedule(terms: LeaseTerms) -> Schedule:
    return build(terms.core_terms())


def rent(terms: LeaseTerms) -> Decimal:
    """The level rent (before any profile weight) from the rate; the first principal share for
    equal principal."""
    level = schedule(terms).level
    assert level is not None  # both methods a lease uses have one
    return level


def implicit_rate(
    *,
    financed: Decimal,
    rent: Decimal,
    periods: int,
    timing: Timing = Timing.ARREARS,
    residual: Decimal = ZERO,
    per_year: int = 12,
    profile: Sequence[Decimal] | None = None,
) -> float:
    """The nominal annual rate at which the rents (× profile weights, cycled) and the residual
    are worth what was financed: the rate implicit in the lease, from the lessor's flows."""
    weights = list(profile or (Decimal(1),))
    flows = [Decimal(0)] * (periods + 1)
    flows[0] = -financed
    for k in range(periods):
        at = k if timing is Timing.ADVANCE else k + 1
        flows[at] += rent * weights[k % len(weights)]
    flows[periods] += residual
    if sum(flows) < 0:
        # the payments do not even repay what was financed: the rate would be negative
        raise rates.NoRateError("the payments are less than the amount financed")
    try:
        return rates.irr(flows) * per_year
    except (OverflowError, ZeroDivisionError):  # no root in the core's search range
        raise rates.NoRateError("no rate makes these payments repay the amount") from None


def vat_of(terms: LeaseTerms, principal: Decimal, interest: Decimal) -> Decimal:
    """VAT charged on one rent: on the whole rent (direct) or its interest (leaseback)."""
    if terms.vat_rate is None:
        return ZERO
    base = principal + interest if terms.kind is LeaseKind.DIRECT else interest
    return (base * terms.vat_rate).quantize(CENT, rounding=ROUNDING)


# --- the two sides' accounts ------------------------------------------------------------------


@dataclass(frozen=True)
class LessorRow:
    number: int
    due: date
    payment: Decimal  # rent or residual, VAT-exclusive
    finance_income: Decimal
    principal: Decimal
    vat: Decimal
    net_investment: Decimal  # after this payment
    unearned_income: Decimal  # finance income still to be earned after this payment
    residual: bool


@dataclass(frozen=True)
class LessorAccounts:
    gross_investment: Decimal
    net_investment: Decimal
    unearned_income: Decimal
    rows: tuple[LessorRow, ...]


def lessor_accounts(terms: LeaseTerms, plan: Schedule | None = None) -> LessorAccounts:
    plan = plan or schedule(terms)
    gross = plan.total_principal + plan.total_interest
    unearned = plan.total_interest
    rows = []
    for i in plan.instalments:
        unearned -= i.interest
        rows.append(
            LessorRow(
                number=i.number,
                due=i.due,
                payment=i.principal + i.interest,
                finance_income=i.interest,
                principal=i.principal,
                vat=vat_of(terms, i.principal, i.interest),
                net_investment=i.balance,
                unearned_income=unearned,
                residual=i.kind is Kind.RESIDUAL,
            )
        )
    return LessorAccounts(gross, terms.financed, plan.total_interest, tuple(rows))


@dataclass(frozen=True)
class LiabilityRow:
    number: int
    due: date
    opening: Decimal
    interest: Decimal
    payment: Decimal
    closing: Decimal


@dataclass(frozen=True)
class AssetRow:
    period: int
    ending: date
    opening: Decimal
    depreciation: Decimal
    closing: Decimal


@dataclass(frozen=True)
class LesseeAccounts:
    initial_liability: Decimal
    """The present value of the payments not made at commencement (IFRS 16.26)."""
    right_of_use: Decimal
    """Zero for a sale-and-leaseback that is not a sale (IFRS 16.103)."""
    liability: tuple[LiabilityRow, ...]
    asset: tuple[AssetRow, ...]


def lessee_accounts(terms: LeaseTerms, plan: Schedule | None = None) -> LesseeAccounts:
    plan = plan or schedule(terms)
    at_start = sum(
        (i.principal + i.interest for i in plan.instalments if i.due == terms.start), ZERO
    )
    liability = []
    balance = terms.financed
    for i in plan.instalments:
        liability.append(
            LiabilityRow(i.number, i.due, balance, i.interest, i.principal + i.interest, i.balance)
        )
        balance = i.balance
    initial = terms.financed - at_start
    if terms.kind is LeaseKind.LEASEBACK:
        return LesseeAccounts(initial, ZERO, tuple(liability), ())
    # IFRS 16.24: the liability, payments at or before commencement (the down payment and
    # a rent in advance), and the lessee's initial direct costs (the handling fee).
    right_of_use = initial + at_start + terms.down_payment + terms.handling_fee
    # IFRS 16.31–32: over the lease term, or the useful life when the lessee will own the asset
    life = terms.useful_life_periods or terms.periods
    share = HALF_UP_FEN.part(right_of_use / life)
    asset = []
    carrying = right_of_use
    for k in range(life):
        depreciation = carrying if k == life - 1 else share
        ending = terms.frequency.step(terms.start, k + 1)
        asset.append(AssetRow(k + 1, ending, carrying, depreciation, carrying - depreciation))
        carrying -= depreciation
    return LesseeAccounts(initial, right_of_use, tuple(liability), tuple(asset))


# --- early buy-out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuyOut:
    on: date
    outstanding_principal: Decimal
    interest: Decimal
    fee: Decimal
    penalty: Decimal = ZERO  # penalty interest owed on overdue rents
    credit: Decimal = ZERO  # already paid toward the next rent's interest and principal

    @property
    def total(self) -> Decimal:
        return self.outstanding_principal + self.interest + self.fee + self.penalty - self.credit


def buy_out(
    terms: LeaseTerms, paid: int, on: date, fee_rate: Decimal, plan: Schedule | None = None
) -> BuyOut:
    """The early buy-out price after `paid` rents: the principal still outstanding (residual
    included), the interest of every unpaid rent up to and including the one whose period
    `on` falls in (overdue rents' interest has accrued as well as the current period's), and
    the contract's fee as a fraction of that principal."""
    plan = plan or schedule(terms)
    rows = plan.instalments
    if not 0 <= paid < len(rows):
        raise ValueError("no rent is left to buy out")
    outstanding = rows[paid - 1].balance if paid else terms.financed
    current = _period_of(rows, paid, on)
    interest = sum((row.interest for row in rows[paid : current + 1]), ZERO)
    fee = (outstanding * fee_rate).quantize(CENT, rounding=ROUNDING)
    return BuyOut(on, outstanding, interest, fee)


def _period_of(rows: Sequence[Instalment], first: int, on: date) -> int:
    """The index of the first rent from `first` on that is due on or after `on`: the rent
    whose interest accrues over the period `on` falls in (the last rent once all are due)."""
    for index in range(first, len(rows)):
        if rows[index].due >= on:
            return index
    return len(rows) - 1
