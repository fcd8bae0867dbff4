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
    """Project every model point month by month and return present values per point.

    The decrements depend on a point only through (age at entry, term), so each distinct
    pair is projected once (an exact grouping, not an approximation) and the sums of
    discounted in-force and death numbers are then scaled by each point's sum assured.
    """
    cells, inverse = np.unique(np.stack([age_at_entry, policy_term]), axis=1, return_inverse=True)
    inverse = inverse.reshape(-1)
    ages, terms = cells[0], cells[1]
    months = int(12 * terms.max()) + 1
    t = np.arange(months)
    year = t // 12
    disc_mth = (1.0 + basis.disc_rate_ann[year]) ** (1.0 / 12.0) - 1.0
    disc = (1.0 + disc_mth) ** (-t.astype(np.float64))
    inflation = (1.0 + basis.inflation_rate) ** (t / 12.0)
    maint = basis.expense_maint / 12.0 * inflation

    select = basis.mort_table.shape[1] - 1
    # convert the small table to monthly rates once, then gather
    q_table_mth = 1.0 - (1.0 - basis.mort_table) ** (1.0 / 12.0)
    last_row = basis.mort_table.shape[0] - 1
    lapse_mth = 1.0 - (1.0 - np.maximum(0.1 - 0.02 * np.arange(year[-1] + 1), 0.02)) ** (1.0 / 12.0)
    maturity = 12 * terms

    pols = np.ones(ages.size)
    pv_pols = np.zeros(ages.size)  # sum of in-force x discount
    pv_pols_first_year = np.zeros(ages.size)  # the same over the commission year
    pv_maint = np.zeros(ages.size)  # maintenance expense per policy in force
    pv_deaths = np.zeros(ages.size)  # deaths x discount, per unit sum assured
    for m in range(months):
        y = m // 12
        q = q_table_mth[np.minimum(ages + y - basis.min_age, last_row), min(y, select)]
        deaths = pols * q
        pv_pols += pols * disc[m]
        if y == 0:
            pv_pols_first_year += pols * disc[m]
        pv_maint += pols * maint[m] * disc[m]
        pv_deaths += deaths * disc[m]
        left = pols - (pols - deaths) * lapse_mth[y] - deaths
        pols = np.where(maturity == m + 1, 0.0, left)

    pv_claims = sum_assured * pv_deaths[inverse]
    annuity = pv_pols[inverse]
    premium_pp = np.around((1.0 + basis.loading_prem) * (pv_claims / annuity), 2)
    return TermResult(
        premium_pp=premium_pp,
        pv_premiums=premium_pp * annuity,
        pv_claims=pv_claims,
        pv_expenses=basis.expense_acq * disc[0] + pv_maint[inverse],
        pv_commissions=premium_pp * pv_pols_first_year[inverse],
    )
