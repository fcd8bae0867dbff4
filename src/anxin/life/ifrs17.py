"""IFRS 17 general measurement model for a group of increasing whole-life policies.

One group (policies of one cohort, measured together), annual periods, best-estimate
assumptions as data, and the interest rates locked in at initial recognition (IFRS 17.B72(b)).

* Fulfilment cash flows (IFRS 17.33): premiums in; death benefits, surrenders (the
  guaranteed cash value), commissions and maintenance expenses out; expected present value at
  the locked-in forward rates, by backward recursion per policy in force.
* Risk adjustment (IFRS 17.37, B86–B92; disclosed confidence level, 17.119): the
  confidence-level method on the process risk of deaths and surrenders. Policies are
  independent, so the group's present value is a sum of independent policy values whose
  mean and variance come from the same recursion (first and second moments); with many
  policies the sum is close to normal and RA = z(level) × its standard deviation.
* CSM at initial recognition (17.38): −(FCF) when that is positive; otherwise the group is
  onerous and FCF is the loss component (17.47).
* Each year: interest accreted on the CSM at the locked-in rate (17.44(b)); changes in
  estimates for future service at locked-in rates adjust the CSM (17.44(c), B96(b)), an
  excess over the CSM going to (or reversing) the loss component (17.48, 17.50(b));
  the CSM is released by coverage units — in-force × the year's death benefit — over the
  units of this and every later year (17.44(e), B119).

Money is float inside; every figure shown is rounded to the fen and every roll-forward foots
(opening + movements = closing, to the fen: ``_foot``). The closing BEL is valued on its own
from the moments at the next year and agrees with the opening rolled forward by the year's
cash flows and interest (tested), so the footing is not a plug.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from anxin.life.product import Policy
from anxin.life.scenarios import YieldCurve

FloatArray = NDArray[np.float64]
FEN = Decimal("0.01")


@dataclass(frozen=True)
class BestEstimate:
    """Best-estimate assumptions (non-financial) for the group."""

    mortality_multiplier: float = 0.9  # of the pricing table
    surrender_by_policy_year: tuple[float, ...] = (0.02, 0.03, 0.04, 0.04, 0.05, 0.03, 0.02)
    maintenance_per_policy: float = 60.0  # yuan a year, paid at the start of the year
    expense_inflation: float = 0.02
    ra_confidence: float = 0.75

    def __post_init__(self) -> None:
        if not 0 < self.mortality_multiplier <= 5:
            raise ValueError("mortality multiplier must lie in (0, 5]")
        if not self.surrender_by_policy_year or any(
            not 0 <= s < 1 for s in self.surrender_by_policy_year
        ):
            raise ValueError("surrender rates must lie in [0, 1)")
        if self.maintenance_per_policy < 0 or not -0.5 < self.expense_inflation < 1:
            raise ValueError("expenses must be non-negative with a sane inflation")
        if not 0.5 <= self.ra_confidence < 1:
            raise ValueError("the risk adjustment's confidence level must lie in [0.5, 1)")


@dataclass(frozen=True)
class ModelPoint:
    policy: Policy
    count: int


@dataclass(frozen=True)
class PolicyFlows:
    """Per policy year 1..T of one model point, per policy in force at the year's start."""

    premium: FloatArray
    commission: FloatArray
    expense: FloatArray
    death_benefit: FloatArray
    cash_value: FloatArray
    q: FloatArray
    surrender: FloatArray


def policy_flows(point: ModelPoint, basis: BestEstimate, years: int) -> PolicyFlows:
    policy = point.policy
    table = policy.basis.table
    t = np.arange(1, years + 1)
    alive_years = table.max_age + 1 - policy.issue_age
    premium = np.where(t <= policy.pay_term, float(policy.gross_premium), 0.0)
    commission_rates = np.zeros(years)
    schedule = policy.expenses.schedule(policy.pay_term)
    commission_rates[: min(years, schedule.size)] = schedule[:years]
    q = np.ones(years)
    live = min(years, alive_years)
    q[:live] = np.minimum(
        table.qx(policy.issue_age + np.arange(live)) * basis.mortality_multiplier, 1.0
    )
    given = np.asarray(basis.surrender_by_policy_year)
    return PolicyFlows(
        premium=premium,
        commission=premium * commission_rates,
        expense=np.asarray(
            basis.maintenance_per_policy * (1 + basis.expense_inflation) ** (t - 1),
            dtype=np.float64,
        ),
        death_benefit=np.array([float(policy.death_benefit(int(y))) for y in t]),
        cash_value=np.array([float(policy.cash_value(int(y))) for y in t]),
        q=q,
        surrender=given[np.minimum(t - 1, given.size - 1)],
    )


def pv_moments(f: PolicyFlows, v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and second moment of the PV (outflows − inflows) at the start of each year, per
    policy in force then (index T: nothing left). Cash at the start is not discounted."""
    years = f.premium.size
    mean = np.zeros(years + 1)
    second = np.zeros(years + 1)
    for k in range(years - 1, -1, -1):
        now = f.commission[k] + f.expense[k] - f.premium[k]
        stay = (1 - f.q[k]) * (1 - f.surrender[k])
        leave_surrender = (1 - f.q[k]) * f.surrender[k]
        x1 = f.q[k] * f.death_benefit[k] + leave_surrender * f.cash_value[k] + stay * mean[k + 1]
        x2 = (
            f.q[k] * f.death_benefit[k] ** 2
            + leave_surrender * f.cash_value[k] ** 2
            + stay * second[k + 1]
        )
        mean[k] = now + v[k] * x1
        second[k] = now**2 + 2 * now * v[k] * x1 + v[k] ** 2 * x2
    return mean, second


@dataclass(frozen=True)
class Measurement:
    """The group at the start of a year (after that year's changes in estimates)."""

    bel: float  # PV of future outflows − inflows
    risk_adjustment: float


@dataclass(frozen=True)
class _Basis:
    """A best estimate's flows and moments for every model point (computed once)."""

    assumptions: BestEstimate
    flows: list[PolicyFlows]
    moments: list[tuple[FloatArray, FloatArray]]

    @classmethod
    def of(cls, points: list[ModelPoint], basis: BestEstimate, v: FloatArray) -> _Basis:
        flows = [policy_flows(p, basis, v.size) for p in points]
        return cls(basis, flows, [pv_moments(f, v) for f in flows])

    def measure(self, inforce: FloatArray, k: int) -> Measurement:
        z = NormalDist().inv_cdf(self.assumptions.ra_confidence)
        bel = 0.0
        variance = 0.0
        for n, (mean, second) in zip(inforce, self.moments, strict=True):
            bel += float(n * mean[k])
            variance += float(n * max(second[k] - mean[k] ** 2, 0.0))
        return Measurement(bel=bel, risk_adjustment=z * variance**0.5)

    def inforce_from(self, now: FloatArray, k: int) -> FloatArray:
        """Expected in-force per model point (rows) at the start of years k+1.., from ``now``."""
        counts = np.zeros((len(self.flows), self.flows[0].premium.size + 1))
        for row, f in enumerate(self.flows):
            counts[row, k] = now[row]
            counts[row, k + 1 :] = now[row] * np.cumprod(((1 - f.q) * (1 - f.surrender))[k:])
        return counts


@dataclass(frozen=True)
class Period:
    """One year's roll-forward (money rounded to the fen; lines sum to the closing)."""

    year: int
    bel_opening: Decimal
    premiums: Decimal
    acquisition_and_expenses: Decimal
    claims_and_surrenders: Decimal
    bel_interest: Decimal
    bel_changes: Decimal
    bel_closing: Decimal
    ra_opening: Decimal
    ra_release_and_unwind: Decimal
    ra_changes: Decimal
    ra_closing: Decimal
    csm_opening: Decimal
    csm_interest: Decimal
    csm_changes: Decimal
    csm_release: Decimal
    csm_closing: Decimal
    loss_component_opening: Decimal
    loss_component_changes: Decimal
    loss_component_closing: Decimal
    coverage_units: float
    bel_rolled_forward: float  # opening + movements, unrounded
    bel_closing_valued: float  # the closing BEL valued on its own, unrounded


@dataclass(frozen=True)
class AssumptionChange:
    """New best-estimate assumptions from the end of policy year ``after_year``."""

    after_year: int
    basis: BestEstimate


@dataclass(frozen=True)
class GroupResult:
    initial_bel: Decimal
    initial_risk_adjustment: Decimal
    initial_csm: Decimal
    initial_loss_component: Decimal
    periods: list[Period]


def _fen(x: float) -> Decimal:
    return Decimal(float(x)).quantize(FEN, rounding=ROUND_HALF_EVEN) + 0  # + 0: no "-0.00"


def measure_group(
    points: list[ModelPoint],
    curve: YieldCurve,
    basis: BestEstimate,
    years: int,
    changes: tuple[AssumptionChange, ...] = (),
) -> GroupResult:
    """Initial recognition and ``years`` annual roll-forwards; experience as expected."""
    if not points or any(p.count <= 0 for p in points):
        raise ValueError("a group needs model points with positive counts")
    horizon = max(p.policy.basis.table.max_age + 1 - p.policy.issue_age for p in points)
    if not 1 <= years <= horizon:
        raise ValueError(f"years must lie in 1..{horizon}")
    grid = np.arange(horizon + 1, dtype=np.float64)
    discount = curve.discount(grid)
    forward = discount[:-1] / discount[1:] - 1  # locked-in one-year rates
    v = 1 / (1 + forward)
    change_at = {c.after_year: c.basis for c in changes}

    current = _Basis.of(points, basis, v)
    inforce = current.inforce_from(np.array([float(p.count) for p in points]), 0)
    opening = current.measure(inforce[:, 0], 0)
    # At initial recognition the shown CSM (or loss) is minus the shown BEL + RA, to the fen.
    fcf = _fen(opening.bel) + _fen(opening.risk_adjustment)
    csm, loss = (float(-fcf), 0.0) if fcf < 0 else (0.0, float(fcf))
    initial = (_fen(opening.bel), _fen(opening.risk_adjustment), _fen(csm), _fen(loss))
    periods: list[Period] = []
    for k in range(years):
        year = _year_flows(current.flows, inforce, k)
        closing = current.measure(inforce[:, k + 1], k + 1)
        revalued = closing
        if (new_basis := change_at.get(k + 1)) is not None:
            current = _Basis.of(points, new_basis, v)
            inforce = current.inforce_from(inforce[:, k + 1], k + 1)
            revalued = current.measure(inforce[:, k + 1], k + 1)
        bel_change = revalued.bel - closing.bel
        ra_change = revalued.risk_adjustment - closing.risk_adjustment
        csm_interest = csm * forward[k]
        adjustment = -(bel_change + ra_change)  # favourable changes raise the CSM
        csm_before_release, loss_change = _adjust(csm + csm_interest, loss, adjustment)
        release = csm_before_release * year.units / year.future_units if year.future_units else 0.0
        periods.append(
            _present(
                year=k + 1,
                opening=opening,
                closing=revalued,
                flows=year,
                interest=(opening.bel + year.premiums - year.outgo_now) * forward[k],
                bel_change=bel_change,
                ra_change=ra_change,
                csm=(csm, csm_interest, csm_before_release - csm - csm_interest, release),
                loss=(loss, loss_change),
            )
        )
        csm = csm_before_release - release
        loss = loss + loss_change
        opening = revalued
    return GroupResult(*initial, periods=periods)


@dataclass(frozen=True)
class _YearFlows:
    premiums: float
    outgo_now: float  # commissions and maintenance at the start of the year
    paid_end: float  # death benefits and surrenders at the end of the year
    units: float
    future_units: float  # this year's and every later year's


def _year_flows(flows: list[PolicyFlows], inforce: FloatArray, k: int) -> _YearFlows:
    n = inforce[:, k]
    return _YearFlows(
        premiums=sum(float(n[i] * f.premium[k]) for i, f in enumerate(flows)),
        outgo_now=sum(float(n[i] * (f.commission[k] + f.expense[k])) for i, f in enumerate(flows)),
        paid_end=sum(
            float(
                n[i]
                * (f.q[k] * f.death_benefit[k] + (1 - f.q[k]) * f.surrender[k] * f.cash_value[k])
            )
            for i, f in enumerate(flows)
        ),
        units=sum(float(n[i] * f.death_benefit[k]) for i, f in enumerate(flows)),
        future_units=sum(
            float(inforce[i, k:-1] @ f.death_benefit[k:]) for i, f in enumerate(flows)
        ),
    )


def _adjust(csm: float, loss: float, adjustment: float) -> tuple[float, float]:
    """Apply a change for future service: returns (new CSM, change in the loss component)."""
    if adjustment >= 0:  # favourable: first reverse any loss component, then grow the CSM
        reversal = min(loss, adjustment)
        return csm + adjustment - reversal, -reversal
    shortfall = max(0.0, -adjustment - csm)  # unfavourable: absorbed by the CSM down to zero
    return max(csm + adjustment, 0.0), shortfall


def _foot(
    opening: float, lines: list[float], closing: float
) -> tuple[Decimal, list[Decimal], Decimal]:
    """Round to the fen so that the rounded lines foot: opening + Σ lines = closing exactly.

    Opening and closing are rounded on their own (so a year's closing is the next year's
    opening); the few fen of rounding difference go to the lines whose rounding moved them
    furthest the other way (largest remainder), never more than one fen per line.
    """
    first, last = _fen(opening), _fen(closing)
    rounded = [_fen(x) for x in lines]
    gap = int((last - first - sum(rounded, Decimal(0))) / FEN)
    if abs(gap) > len(lines):
        raise ArithmeticError("the roll-forward does not close: lines and balances disagree")
    step = FEN if gap > 0 else -FEN
    residual = [Decimal(float(x)) - r for x, r in zip(lines, rounded, strict=True)]
    order = sorted(range(len(lines)), key=lambda i: residual[i], reverse=gap > 0)
    for i in order[: abs(gap)]:
        rounded[i] += step
    return first, rounded, last


def _present(
    *,
    year: int,
    opening: Measurement,
    closing: Measurement,
    flows: _YearFlows,
    interest: float,
    bel_change: float,
    ra_change: float,
    csm: tuple[float, float, float, float],
    loss: tuple[float, float],
) -> Period:
    """One year's lines, each roll-forward footing to the fen."""
    bel_open, bel_lines, bel_close = _foot(
        opening.bel,
        [flows.premiums, -flows.outgo_now, -flows.paid_end, interest, bel_change],
        closing.bel,
    )
    ra_release = closing.risk_adjustment - opening.risk_adjustment - ra_change
    ra_open, (ra_release_fen, ra_change_fen), ra_close = _foot(
        opening.risk_adjustment, [ra_release, ra_change], closing.risk_adjustment
    )
    csm_open_value, csm_interest, csm_change, csm_release = csm
    csm_close_value = csm_open_value + csm_interest + csm_change - csm_release
    csm_open, csm_lines, csm_close = _foot(
        csm_open_value, [csm_interest, csm_change, -csm_release], csm_close_value
    )
    loss_open, (loss_change,), loss_close = _foot(loss[0], [loss[1]], loss[0] + loss[1])
    return Period(
        year=year,
        bel_opening=bel_open,
        premiums=bel_lines[0],
        acquisition_and_expenses=bel_lines[1],
        claims_and_surrenders=bel_lines[2],
        bel_interest=bel_lines[3],
        bel_changes=bel_lines[4],
        bel_closing=bel_close,
        ra_opening=ra_open,
        ra_release_and_unwind=ra_release_fen,
        ra_changes=ra_change_fen,
        ra_closing=ra_close,
        csm_opening=csm_open,
        csm_interest=csm_lines[0],
        csm_changes=csm_lines[1],
        csm_release=csm_lines[2],
        csm_closing=csm_close,
        loss_component_opening=loss_open,
        loss_component_changes=loss_change,
        loss_component_closing=loss_close,
        coverage_units=flows.units,
        bel_rolled_forward=bel_roll_forward(opening.bel, flows, interest, bel_change),
        bel_closing_valued=closing.bel,
    )


def bel_roll_forward(opening: float, flows: _YearFlows, interest: float, change: float) -> float:
    """The closing BEL from the opening and the year's movements (unrounded)."""
    return opening + flows.premiums - flows.outgo_now - flows.paid_end + interest + change


SHOWN_BEL = ("bel_opening", "bel_interest", "bel_changes", "bel_closing")


def roll_forward_csv(result: GroupResult) -> str:
    """The roll-forward table as CSV, one row per year."""
    out = io.StringIO()
    names = [n for n in Period.__dataclass_fields__ if not n.startswith("bel_") or n in SHOWN_BEL]
    writer = csv.writer(out)
    writer.writerow(names)
    for p in result.periods:
        writer.writerow([getattr(p, n) for n in names])
    return out.getvalue()
