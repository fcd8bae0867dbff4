"""IRR, XIRR and the two annualised rates a borrower is shown.

**Which rate the borrower's page leads with: the annualised rate of 中国人民银行公告〔2021〕
第3号.** The borrower is in China, and that rule requires every lender to state, prominently in
marketing and in the contract, an annualised rate computed on all the loan's costs (interest
and every fee directly related to the loan) against the principal actually in use; it is the
figure the borrower can compare across Chinese lenders. Its IRR method (the compound method
the rule names) is implemented here: the per-period IRR of the borrower's cash flows times the
number of periods in a year. The US Regulation Z APR (Appendix J, actuarial method) is shown
beside it, second: it is the same idea in the most widely documented form, and for a regular
schedule the two agree; they differ only when a first period is odd, where Appendix J charges
the fraction of a unit period as simple interest and the IRR method compounds it.

Rates are solved in binary floating point (they are not money): Newton's method from a
reasonable guess, falling back to bisection on a bracket where the function changes sign
whenever Newton leaves the bracket or fails to converge. **Tolerance**: the periodic rate is
returned when a Newton step is below 1e-12, or the bisection bracket is narrower than 1e-12;
an annual rate is then good to about 1e-11, far inside Regulation Z's own tolerance (1/8 of a
percentage point, § 1026.22(a)(2)).

Sources: 12 CFR 1026 (Regulation Z), Appendix J (b)(1) general rule, (b)(4) unit period,
(b)(5) counting full and fractional unit periods, (b)(8) the general equation;
中国人民银行公告〔2021〕第3号 (关于金融机构明示贷款年化利率的公告).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from anxin.lending.schedule import MONTHLY, CashFlow, Frequency, Schedule

TOLERANCE = 1e-12
_MAX_NEWTON = 50
_MAX_BISECTION = 200


class NoRateError(ValueError):
    """The flows have no rate: they do not change sign, or no root lies in the search range."""


def _solve(npv: Callable[[float], tuple[float, float]], guess: float) -> float:
    """A root of `npv` (which returns value and derivative) greater than −1."""
    rate = guess
    for _ in range(_MAX_NEWTON):
        value, slope = npv(rate)
        if slope == 0 or not math.isfinite(value):
            break
        step = value / slope
        rate -= step
        if rate <= -1 or not math.isfinite(rate):
            break
        if abs(step) < TOLERANCE:
            return rate
    return _bisect(npv)


def _bisect(npv: Callable[[float], tuple[float, float]]) -> float:
    lo, hi = -1 + 1e-9, 1.0
    f_lo, f_hi = npv(lo)[0], npv(hi)[0]
    while f_lo * f_hi > 0 and hi < 1e6:
        hi *= 4
        f_hi = npv(hi)[0]
    if f_lo * f_hi > 0:
        raise NoRateError("the cash flows do not change sign over the rates searched")
    for _ in range(_MAX_BISECTION):
        mid = (lo + hi) / 2
        f_mid = npv(mid)[0]
        if f_lo * f_mid <= 0:
            hi = mid
        else:
            lo, f_lo = mid, f_mid
        if hi - lo < TOLERANCE:
            break
    return (lo + hi) / 2


def _compound(
    amounts: Sequence[float], times: Sequence[float]
) -> Callable[[float], tuple[float, float]]:
    def npv(rate: float) -> tuple[float, float]:
        value = slope = 0.0
        for a, t in zip(amounts, times, strict=True):
            discounted = a * (1 + rate) ** -t
            value += discounted
            slope -= t * discounted / (1 + rate)
        return value, slope

    return npv


def _check_signs(amounts: Sequence[float]) -> None:
    if not (any(a > 0 for a in amounts) and any(a < 0 for a in amounts)):
        raise NoRateError("the cash flows need at least one inflow and one outflow")


def irr(amounts: Sequence[Decimal | float], guess: float = 0.01) -> float:
    """The per-period rate at which the amounts (one per period, the first at time 0) have a
    net present value of zero."""
    values = [float(a) for a in amounts]
    _check_signs(values)
    return _solve(_compound(values, range(len(values))), guess)


def xirr(flows: Sequence[CashFlow], guess: float = 0.1) -> float:
    """The effective annual rate of dated flows, times measured actual/365 from the first
    date (the convention of spreadsheet XIRR)."""
    values = [float(f.amount) for f in flows]
    _check_signs(values)
    first = min(f.on for f in flows)
    times = [(f.on - first).days / 365 for f in flows]
    return _solve(_compound(values, times), guess)


# --- Regulation Z, Appendix J ----------------------------------------------------------------


def unit_periods(start: date, on: date, unit: Frequency) -> tuple[int, UnitFraction]:
    """Full unit periods `t` and the fraction `f` from `start` to `on` (Appendix J (b)(5)):
    full periods are counted back from `on`; what is left at the start is the fraction, its
    days divided by 30 per month of a month-based unit (all months equal), or by the unit's
    days."""
    if on < start:
        raise ValueError("a flow before the start of the term")
    t = 0
    while unit.step(on, -(t + 1)) >= start:
        t += 1
    days = (unit.step(on, -t) - start).days
    per_unit = 30 * unit.months if unit.months else unit.days
    return t, UnitFraction(days, per_unit)


@dataclass(frozen=True)
class UnitFraction:
    """days / days-per-unit, kept as integers for display (e.g. 14/30)."""

    days: int
    per_unit: int

    def __float__(self) -> float:
        return self.days / self.per_unit


def reg_z_apr(
    advances: Sequence[CashFlow], payments: Sequence[CashFlow], unit: Frequency = MONTHLY
) -> float:
    """The annual percentage rate by the actuarial method of Regulation Z, Appendix J.

    Solves the general equation (b)(8), Σ A_k / ((1 + f_k i)(1 + i)^t_k) = Σ P_j / ((1 + f_j i)
    (1 + i)^t_j), for the unit-period rate i, times measured from the first advance, and returns
    i × unit periods per year (b)(1). Amounts are positive on both sides.
    """
    start = min(a.on for a in advances)
    amounts: list[float] = []
    whole: list[int] = []
    part: list[float] = []
    for sign, flows in ((-1.0, advances), (1.0, payments)):
        for flow in flows:
            t, f = unit_periods(start, flow.on, unit)
            amounts.append(sign * float(flow.amount))
            whole.append(t)
            part.append(float(f))
    _check_signs(amounts)

    def npv(i: float) -> tuple[float, float]:
        value = slope = 0.0
        for a, t, f in zip(amounts, whole, part, strict=True):
            discounted = a / ((1 + f * i) * (1 + i) ** t)
            value += discounted
            slope -= discounted * (f / (1 + f * i) + t / (1 + i))
        return value, slope

    return _solve(npv, 0.01) * unit.per_year


def china_annualised_rate(flows: Sequence[CashFlow], unit: Frequency = MONTHLY) -> float:
    """The annualised rate of 中国人民银行公告〔2021〕第3号 by its IRR method: the borrower's
    flows (what is received, net of any fee taken at the start, against every repayment, fee
    included), the per-period IRR, times the periods in a year. Flows off the period grid are
    placed at t + f unit periods (the same counting as Appendix J) and compounded."""
    start = min(f.on for f in flows)
    amounts = [float(f.amount) for f in flows]
    _check_signs(amounts)
    times = []
    for flow in flows:
        t, f = unit_periods(start, flow.on, unit)
        times.append(t + float(f))
    return _solve(_compound(amounts, times), 0.01) * unit.per_year


@dataclass(frozen=True)
class DisclosedRates:
    annualised: float
    """中国人民银行公告〔2021〕第3号, IRR method: leads the borrower's page."""
    apr: float
    """Regulation Z, Appendix J, actuarial method: shown beside it."""


def disclosed_rates(schedule: Schedule) -> DisclosedRates:
    """Both rates of a schedule, with every fee in it (upfront and per instalment)."""
    flows = schedule.cash_flows()
    unit = schedule.terms.frequency
    advance = [CashFlow(flows[0].on, -flows[0].amount)]
    payments = flows[1:]
    return DisclosedRates(
        annualised=china_annualised_rate(flows, unit),
        apr=reg_z_apr(advance, payments, unit),
    )


def as_percent(rate: float, places: int = 2) -> Decimal:
    """A rate as a percentage for display, rounded half up: 0.096857 → Decimal('9.69')."""
    return Decimal(repr(rate * 100)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
