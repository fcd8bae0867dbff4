"""anxin's savings inputs read from a loaded lifelib CashValue_ME_EX1 model (test and bench)."""

from __future__ import annotations

from typing import Any

import numpy as np

from anxin.life.savings import (
    SavingsBasis,
    SavingsPoints,
    lognormal_monthly_returns,
    monthly_discount,
)


def ex1_inputs(projection: Any) -> tuple[SavingsPoints, SavingsBasis, np.ndarray]:
    """Rows are (model point, scenario) in lifelib's order; the scenarios are its own normals."""
    table = projection.model_point_table_ext()
    scenarios = int(projection.scen_size)
    months = int(projection.max_proj_len())

    def per_row(column: str) -> np.ndarray:
        return np.repeat(table[column].to_numpy(), scenarios)

    whole_life = per_row("is_wl").astype(bool)
    last_age = int(projection.mort_table_last_age())
    term = np.where(whole_life, last_age - per_row("age_at_entry"), per_row("policy_term"))
    points = SavingsPoints(
        policy_count=per_row("policy_count").astype(np.float64),
        sum_assured=per_row("sum_assured").astype(np.float64),
        premium_pp=per_row("premium_pp").astype(np.float64),
        single_premium=per_row("premium_type") == "SINGLE",
        load_prem_rate=per_row("load_prem_rate").astype(np.float64),
        policy_term_years=term.astype(np.int64),
        duration_mth=per_row("duration_mth").astype(np.int64),
        av_pp_init=per_row("av_pp_init").astype(np.float64),
    )
    normals = np.asarray(projection.std_norm_rand()).reshape(scenarios, -1)[:, :months]
    zero = np.zeros((len(table) * scenarios, months))
    basis = SavingsBasis(
        returns=lognormal_monthly_returns(np.tile(normals, (len(table), 1))),
        mortality_mth=zero,  # the example sets mortality and lapses to zero
        lapse_annual=zero,
        surrender_charge=zero,
    )
    return points, basis, monthly_discount(np.asarray(projection.disc_rate_ann), months)
