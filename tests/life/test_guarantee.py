"""The time value of the increasing whole-life guarantee (TVOG) under Hull–White scenarios."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.life.guarantee import (
    contract_flows,
    default_lapse_basis,
    market_rates,
    present_values,
    value_guarantee,
)
from anxin.life.product import Policy
from anxin.life.scenarios import HullWhite, YieldCurve
from anxin.life.tables import Sex

CURVE = YieldCurve(
    (1, 2, 3, 5, 7, 10, 20, 30), (0.014, 0.015, 0.016, 0.0175, 0.0185, 0.019, 0.0215, 0.023)
)
# Business written at each pricing rate: 3.5 % (2022), 3.0 % (2023), 2.5 % (from Sept 2024).
ISSUE_DATES = {0.035: date(2022, 6, 1), 0.030: date(2023, 9, 1), 0.025: date(2025, 1, 1)}


def policy(issue_date: date, age: int = 40, pay_term: int = 10) -> Policy:
    return Policy(
        issue_age=age,
        sex=Sex.MALE,
        pay_term=pay_term,
        sum_assured=Decimal(100_000),
        issue_date=issue_date,
    )


@pytest.mark.parametrize("rate", sorted(ISSUE_DATES))
def test_the_guarantee_has_a_positive_time_value(rate: float) -> None:
    total, _ = value_guarantee(
        [policy(ISSUE_DATES[rate])], HullWhite(CURVE, 0.1, 0.01), 1_000, seed=2
    )
    low, _ = total.interval95
    assert low > 0, total


def test_the_time_value_rises_with_the_guaranteed_rate_against_a_fixed_curve() -> None:
    """Common scenarios for every rate, so the differences are measured, not the noise."""
    policies = [policy(ISSUE_DATES[r]) for r in sorted(ISSUE_DATES)]
    _, (low, mid, high) = value_guarantee(
        policies, HullWhite(YieldCurve.flat(0.03), 0.1, 0.01), 2_000, seed=3
    )
    for cheaper, dearer in ((low, mid), (mid, high)):
        difference = dearer.samples - cheaper.samples
        half = difference.size // 2
        pairs = (difference[:half] + difference[half:]) / 2
        assert difference.mean() > 3 * pairs.std(ddof=1) / np.sqrt(half)


def test_without_dynamic_surrenders_or_without_volatility_there_is_no_time_value() -> None:
    static = replace(default_lapse_basis(), sensitivity=0.0)
    p = policy(ISSUE_DATES[0.030])
    total, _ = value_guarantee([p], HullWhite(CURVE, 0.1, 0.01), 200, seed=4, lapse=static)
    assert total.tvog == 0.0
    calm, _ = value_guarantee([p], HullWhite(CURVE, 0.1, 0.0), 200, seed=4)
    assert calm.tvog == pytest.approx(0.0, abs=1e-9)


def test_static_surrender_flows_average_to_the_deterministic_value() -> None:
    """The control variate's premise: fixed flows, bank-account discount: mean PV = curve PV."""
    p = policy(ISSUE_DATES[0.025], age=55, pay_term=5)
    flows = contract_flows(p)
    years = flows.premium.size
    grid = list(range(1, years + 1))
    lapse = default_lapse_basis()
    model = HullWhite(CURVE, 0.1, 0.012)
    paths = model.simulate(20_000, grid, seed=6, antithetic=False)
    certain = HullWhite(CURVE, 0.1, 0.0).simulate(1, grid, seed=6)
    fixed_market = market_rates(certain, lapse, years)
    deterministic = present_values(flows, certain.discount, fixed_market, lapse)[0]
    pv = present_values(
        flows, paths.discount, np.broadcast_to(fixed_market, (20_000, years)), lapse
    )
    assert abs(pv.mean() - deterministic) < 4.5 * pv.std(ddof=1) / np.sqrt(pv.size)


def test_the_portfolio_is_the_sum_of_its_policies() -> None:
    policies = [policy(d, age=a) for d, a in ((date(2022, 6, 1), 30), (date(2025, 1, 1), 60))]
    total, singles = value_guarantee(policies, HullWhite(CURVE, 0.1, 0.01), 100, seed=5)
    assert total.tvog == pytest.approx(sum(s.tvog for s in singles), rel=1e-12)
    assert total.deterministic_pv == pytest.approx(
        sum(s.deterministic_pv for s in singles), rel=1e-12
    )


@given(st.integers(1, 40), st.floats(-0.05, 0.10), st.sampled_from(sorted(ISSUE_DATES)))
def test_surrender_rates_stay_between_floor_and_cap_of_the_base(
    year: int, market: float, guaranteed: float
) -> None:
    basis = default_lapse_basis()
    rate = float(basis.rates(year, np.array([market]), guaranteed)[0])
    base = float(basis.base(year)[-1])
    assert base * basis.floor - 1e-15 <= rate <= min(base * basis.cap, 1.0) + 1e-15
    higher = float(basis.rates(year, np.array([market + 0.01]), guaranteed)[0])
    assert higher >= rate


@pytest.mark.parametrize(
    "change",
    [
        {"base_by_policy_year": ()},
        {"floor": 1.5},
        {"cap": 0.5},
        {"sensitivity": -1.0},
        {"market_tenor_years": 0.0},
    ],
)
def test_a_malformed_lapse_basis_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        replace(default_lapse_basis(), **change)  # type: ignore[arg-type]


def test_an_odd_number_of_scenarios_is_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        value_guarantee([policy(date(2023, 9, 1))], HullWhite(CURVE, 0.1, 0.01), 101, seed=1)
