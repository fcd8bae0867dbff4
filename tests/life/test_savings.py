"""Savings contracts under stochastic returns: lifelib's CashValue_ME_EX1 reproduced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anxin.life.savings import (
    SavingsBasis,
    SavingsPoints,
    lognormal_monthly_returns,
    monthly_discount,
    projection_months,
    pv_net_cash_flow,
)
from tests.life.savings_inputs import ex1_inputs


@pytest.mark.parametrize("table", ["model_point_1", "model_point_moneyness"])
def test_pv_net_cash_flow_matches_lifelib_ex1_scenario_by_scenario(
    tmp_path: Path, table: str
) -> None:
    import lifelib
    import modelx as mx

    lifelib.create("savings", str(tmp_path / "savings"))
    model = mx.read_model(str(tmp_path / "savings" / "CashValue_ME_EX1"))
    try:
        projection = model.Projection
        projection.scen_size = 20
        projection.model_point_table = getattr(projection, table)
        expected = np.asarray(projection.pv_net_cf())
        points, basis, discount = ex1_inputs(projection)
        mine = pv_net_cash_flow(points, basis, discount)
        np.testing.assert_allclose(mine, expected, rtol=1e-9)
        assert np.ptp(mine) > 0 or table == "model_point_1"
    finally:
        model.close()


def one_policy(sum_assured: float, returns: float, months: int = 121) -> float:
    points = SavingsPoints(
        policy_count=np.array([1.0]),
        sum_assured=np.array([sum_assured]),
        premium_pp=np.array([100_000.0]),
        single_premium=np.array([True]),
        load_prem_rate=np.array([0.0]),
        policy_term_years=np.array([10]),
        duration_mth=np.array([0]),
        av_pp_init=np.array([0.0]),
    )
    assert projection_months(points) == months
    flat = np.full((1, months), returns)
    zero = np.zeros((1, months))
    basis = SavingsBasis(
        returns=flat,
        mortality_mth=zero,
        lapse_annual=zero,
        surrender_charge=zero,
        commission_rate=0.0,
        expense_acq=0.0,
        expense_maint=0.0,
    )
    return float(pv_net_cash_flow(points, basis, np.ones(months))[0])


def test_an_account_above_its_guarantee_costs_the_insurer_nothing() -> None:
    """Without expenses, a contract whose account value beats the sum assured nets to zero."""
    assert one_policy(sum_assured=50_000.0, returns=0.002) == pytest.approx(0.0, abs=1e-6)


def test_a_guarantee_in_the_money_costs_its_shortfall_at_maturity() -> None:
    account_at_maturity = 100_000.0 * (1 - 0.001) ** 120
    cost = -one_policy(sum_assured=100_000.0, returns=-0.001)
    assert cost == pytest.approx(100_000.0 - account_at_maturity, rel=1e-12)


def test_returns_have_the_lognormal_mean() -> None:
    rng = np.random.default_rng(3)
    r = lognormal_monthly_returns(rng.standard_normal(400_000), mu=0.02, sigma=0.03)
    assert np.log1p(r).mean() * 12 == pytest.approx(0.02 - 0.5 * 0.03**2, abs=3e-4)


def test_the_discount_is_monthly_from_the_annual_rate_of_each_year() -> None:
    factors = monthly_discount(np.array([0.02, 0.05]), 24)
    assert factors[11] == pytest.approx(1.02 ** (-11 / 12))
    assert factors[12] == pytest.approx(1.05**-1)  # month 12 is in year 1: its rate, ^-12
    assert factors[13] == pytest.approx(1.05 ** (-13 / 12))
