"""Account-value savings contracts projected monthly under stochastic investment returns.

This is the design of lifelib's ``savings`` library (CashValue_ME; lifelib.io, MIT licence)
rewritten as one vectorised pass over (model point × scenario) rows, so that anxin can
reproduce lifelib's stochastic example (CashValue_ME_EX1) figure for figure and value
guarantees of the same shape: a death or maturity benefit of max(sum assured, account value).

Timing within a month, per policy: premium in (less the premium load) → maintenance fee and
cost of insurance out → investment return on what is left; deaths and surrenders happen
mid-month and are paid the mid-month account value (the death benefit at least the sum
assured, surrenders less the surrender charge); maturities are paid at the start of the month
the term ends. The insurer's net cash flow is premiums + investment income − claims −
expenses − commissions − the change in the account value it holds, discounted with the
monthly factor (1 + j_t)^(−t), j_t the monthly equivalent of the annual rate of year t//12.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class SavingsPoints:
    """One row per (model point, scenario); arrays share their first dimension."""

    policy_count: FloatArray
    sum_assured: FloatArray
    premium_pp: FloatArray
    single_premium: BoolArray  # False: level premiums every month of the term
    load_prem_rate: FloatArray
    policy_term_years: IntArray  # whole life: the table's last age − the age at entry
    duration_mth: IntArray  # at the valuation date; 0 is new business this month
    av_pp_init: FloatArray


@dataclass(frozen=True)
class SavingsBasis:
    """Monthly rates per row and month (shape rows × months) and the company's loadings."""

    returns: FloatArray  # investment return of each month, per row's scenario
    mortality_mth: FloatArray
    lapse_annual: FloatArray
    surrender_charge: FloatArray  # rate applied to the mid-month account value paid out
    coi_rate: float = 0.0
    maint_fee_rate: float = 0.0
    commission_rate: float = 0.05
    expense_acq: float = 5000.0
    expense_maint: float = 500.0  # a year, paid monthly
    inflation: float = 0.01


def monthly_discount(annual_by_year: FloatArray, months: int) -> FloatArray:
    """(1 + j_t)^(−t) with j_t = (1 + i_{t//12})^(1/12) − 1, as the reference model does."""
    t = np.arange(months)
    j = (1 + annual_by_year[t // 12]) ** (1 / 12) - 1
    return np.asarray((1 + j) ** (-t.astype(np.float64)), dtype=np.float64)


def projection_months(points: SavingsPoints) -> int:
    return int(np.max(np.maximum(12 * points.policy_term_years - points.duration_mth + 1, 0)))


def pv_net_cash_flow(
    points: SavingsPoints, basis: SavingsBasis, discount: FloatArray
) -> FloatArray:
    """Present value of the insurer's net cash flow per row."""
    months = discount.size
    rows = points.policy_count.size
    in_force = np.where(points.duration_mth > 0, points.policy_count, 0.0)
    av_pp = points.av_pp_init.astype(np.float64).copy()
    pv = np.zeros(rows)
    term_mth = 12 * points.policy_term_years
    for t in range(months):
        duration = points.duration_mth + t
        maturing = np.where(duration == term_mth, in_force, 0.0)
        new_business = np.where(duration == 0, points.policy_count, 0.0)
        before_decrements = in_force - maturing + new_business
        premium_pp = (
            np.where(points.single_premium, duration == 0, duration < term_mth) * points.premium_pp
        )
        av_before_fee = av_pp + (1 - points.load_prem_rate) * premium_pp
        fee_pp = basis.maint_fee_rate * av_before_fee
        coi_pp = basis.coi_rate * np.maximum(points.sum_assured - av_before_fee, 0.0)
        av_before_inv = av_before_fee - fee_pp - coi_pp
        income_pp = basis.returns[:, t] * av_before_inv
        av_mid = av_before_inv + 0.5 * income_pp
        deaths = before_decrements * basis.mortality_mth[:, t]
        lapses = (before_decrements - deaths) * (1 - (1 - basis.lapse_annual[:, t]) ** (1 / 12))
        next_in_force = before_decrements - deaths - lapses
        next_av_pp = av_before_inv + income_pp
        premiums = premium_pp * before_decrements
        claims = (
            np.maximum(points.sum_assured, av_mid) * deaths
            + av_mid * lapses * (1 - basis.surrender_charge[:, t])
            + np.maximum(points.sum_assured, av_pp) * maturing
        )
        expenses = (
            basis.expense_acq * new_business
            + before_decrements * basis.expense_maint / 12 * (1 + basis.inflation) ** (t / 12)
        )
        investment_income = income_pp * next_in_force + 0.5 * income_pp * (deaths + lapses)
        av_change = next_av_pp * next_in_force - av_pp * in_force
        net = (
            premiums
            + investment_income
            - claims
            - expenses
            - basis.commission_rate * premiums
            - av_change
        )
        pv += net * discount[t]
        in_force, av_pp = next_in_force, next_av_pp
    return pv


def lognormal_monthly_returns(
    normals: FloatArray, mu: float = 0.02, sigma: float = 0.03
) -> FloatArray:
    """exp((μ − σ²/2)/12 + σ √(1/12) Z) − 1, the reference example's real-world returns."""
    dt = 1 / 12
    return np.asarray(np.expm1((mu - 0.5 * sigma**2) * dt + sigma * dt**0.5 * normals))
