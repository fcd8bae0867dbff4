"""Level-term assurance projected monthly: the peer of lifelib's BasicTerm_M model.

lifelib (https://lifelib.io, basiclife library) ships BasicTerm_M, a monthly projection of
level-premium term policies with select-and-ultimate mortality, lapses, expenses and a
spot-rate discount curve. This module expresses the same product in anxin's engine:
all model points are projected together, one numpy step per month, and the present value
of net cash flow matches lifelib's ``pv_net_cf`` point by point (see tests/life).

Assumptions as in BasicTerm_M: monthly rates from annual ones by 1 - (1-q)^(1/12);
lapse max(10% - 2% x duration, 2%); acquisition expense 300 at issue; maintenance 60 a
year inflating at 1%; commission 100% of first-year premiums; monthly premium 1.5 x the
net premium rounded to cents; discount factor at month t (1 + r_{t//12})^(-t/12).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class TermAssumptions:
    mort_table: FloatArray  # q by [attained age - min_age, min(duration, select_years)]
    min_age: int
    disc_rate_ann: FloatArray  # spot rate by policy year 0, 1, 2, ...
    loading_prem: float = 0.5
    expense_acq: float = 300.0
    expense_maint: float = 60.0
    inflation_rate: float = 0.01


@dataclass(frozen=True)
class TermResult:
    premium_pp: FloatArray
    pv_premiums: FloatArray
    pv_claims: FloatArray
    pv_expenses: FloatArray
    pv_commissions: FloatArray

    @property
    def pv_net_cf(self) -> FloatArray:
        result: FloatArray = (
            self.pv_premiums - self.pv_claims - self.pv_expenses - self.pv_commissions
        )
        return result


def project(
    age_at_entry: IntArray,
    policy_term: IntArray,
    sum_assured: FloatArray,
    basis: TermAssumptions,
) -> TermResult:
    """Project every model point month by month and return present values per point."""
    n = age_at_entry.size
    months = int(12 * policy_term.max()) + 1
    t = np.arange(months)
    year = t // 12
    disc_mth = (1.0 + basis.disc_rate_ann[year]) ** (1.0 / 12.0) - 1.0
    disc = (1.0 + disc_mth) ** (-t.astype(np.float64))

    select = basis.mort_table.shape[1] - 1
    # convert the small table to monthly rates once, then gather: same numbers, less work
    q_table_mth = 1.0 - (1.0 - basis.mort_table) ** (1.0 / 12.0)
    rows = age_at_entry[None, :] + year[:, None] - basis.min_age  # (months, points)
    q_mth = q_table_mth[rows, np.minimum(year, select)[:, None]]
    lapse_ann = np.maximum(0.1 - 0.02 * year, 0.02)
    lapse_mth = 1.0 - (1.0 - lapse_ann) ** (1.0 / 12.0)
    maturity = 12 * policy_term

    pols_if = np.empty((months, n))
    pols_death = np.empty((months, n))
    pols_if[0] = 1.0
    for m in range(months):
        pols_death[m] = pols_if[m] * q_mth[m]
        if m + 1 < months:
            lapse = (pols_if[m] - pols_death[m]) * lapse_mth[m]
            left = pols_if[m] - lapse - pols_death[m]
            pols_if[m + 1] = left - np.where(maturity == m + 1, left, 0.0)

    # same product order as lifelib: the (points, months) matrix times the factors
    pv_claims = (sum_assured[None, :] * pols_death).T @ disc
    pv_pols = pols_if.T @ disc
    premium_pp = np.around((1.0 + basis.loading_prem) * (pv_claims / pv_pols), 2)
    premiums = premium_pp[None, :] * pols_if
    pv_premiums = premiums.T @ disc
    first_year = (year == 0)[:, None]
    pv_commissions = (first_year * premiums).T @ disc
    inflation = (1.0 + basis.inflation_rate) ** (t / 12.0)
    expenses = (t == 0)[:, None] * basis.expense_acq * pols_if + pols_if * (
        basis.expense_maint / 12.0 * inflation
    )[:, None]
    pv_expenses = expenses.T @ disc
    return TermResult(
        premium_pp=premium_pp,
        pv_premiums=pv_premiums,
        pv_claims=pv_claims,
        pv_expenses=pv_expenses,
        pv_commissions=pv_commissions,
    )
