"""IFRS 17 (general measurement model) for a group of increasing whole-life policies."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.life.ifrs17 import (
    AssumptionChange,
    BestEstimate,
    GroupResult,
    ModelPoint,
    measure_group,
    policy_flows,
    pv_moments,
    roll_forward_csv,
)
from anxin.life.product import Policy
from anxin.life.scenarios import ILLUSTRATIVE_CURVE, YieldCurve
from anxin.life.tables import Sex

BASIS = BestEstimate()


def point(age: int = 40, term: int = 10, count: int = 100, sex: Sex = Sex.MALE) -> ModelPoint:
    return ModelPoint(Policy(age, sex, term, Decimal(100_000), date(2025, 1, 1)), count)


def assert_foots(result: GroupResult) -> None:
    previous = None
    for p in result.periods:
        bel_lines = (p.premiums, p.acquisition_and_expenses, p.claims_and_surrenders)
        assert p.bel_opening + sum(bel_lines) + p.bel_interest + p.bel_changes == p.bel_closing
        assert p.ra_opening + p.ra_release_and_unwind + p.ra_changes == p.ra_closing
        assert p.csm_opening + p.csm_interest + p.csm_changes + p.csm_release == p.csm_closing
        assert p.loss_component_opening + p.loss_component_changes == p.loss_component_closing
        assert p.csm_closing >= 0 and p.loss_component_closing >= 0
        if previous is not None:
            assert (p.bel_opening, p.ra_opening, p.csm_opening) == (
                previous.bel_closing,
                previous.ra_closing,
                previous.csm_closing,
            )
        # the footing is not a plug: the BEL valued afresh is the opening rolled forward
        assert p.bel_rolled_forward == pytest.approx(p.bel_closing_valued, rel=1e-9, abs=1e-6)
        previous = p


points_strategy = st.lists(
    st.builds(
        point,
        age=st.integers(0, 70),
        term=st.sampled_from((1, 3, 5, 10, 20)),
        count=st.integers(1, 5_000),
        sex=st.sampled_from(list(Sex)),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=20, deadline=None)
@given(
    points_strategy,
    st.integers(1, 8),
    st.floats(0.3, 3.0),
    st.floats(0.0, 0.2),
    st.floats(0.0, 2_000.0),
)
def test_every_roll_forward_closes_to_the_fen(
    points: list[ModelPoint], change_year: int, mortality: float, surrender: float, expense: float
) -> None:
    changed = replace(
        BASIS,
        mortality_multiplier=mortality,
        surrender_by_policy_year=(surrender,),
        maintenance_per_policy=expense,
    )
    result = measure_group(
        points, ILLUSTRATIVE_CURVE, BASIS, 10, changes=(AssumptionChange(change_year, changed),)
    )
    assert_foots(result)


def test_a_profitable_group_has_a_csm_equal_to_minus_its_fulfilment_cash_flows() -> None:
    result = measure_group([point()], ILLUSTRATIVE_CURVE, BASIS, 1)
    assert result.initial_loss_component == 0
    assert result.initial_csm > 0
    assert result.initial_csm == -(result.initial_bel + result.initial_risk_adjustment)


def test_an_onerous_group_has_a_loss_component_and_no_csm() -> None:
    costly = replace(BASIS, maintenance_per_policy=20_000.0)
    result = measure_group([point()], ILLUSTRATIVE_CURVE, costly, 3)
    assert result.initial_csm == 0
    assert result.initial_loss_component == result.initial_bel + result.initial_risk_adjustment
    assert result.initial_loss_component > 0
    assert_foots(result)


@pytest.mark.parametrize("expense", [500.0, 20_000.0])  # fully reversed later; partly
def test_an_unfavourable_change_beyond_the_csm_goes_to_the_loss_component_then_reverses(
    expense: float,
) -> None:
    worse = replace(BASIS, maintenance_per_policy=expense)
    result = measure_group(
        [point()],
        ILLUSTRATIVE_CURVE,
        BASIS,
        6,
        changes=(AssumptionChange(2, worse), AssumptionChange(4, BASIS)),
    )
    hit, back = result.periods[1], result.periods[3]
    assert hit.csm_closing == 0 and hit.loss_component_changes > 0
    assert back.loss_component_changes < 0
    # a favourable change reverses the loss component first; only what is left grows the CSM
    if back.loss_component_closing > 0:
        assert back.csm_changes == 0 and back.csm_closing == 0
    else:
        assert back.csm_changes > 0
    assert_foots(result)


def test_the_csm_is_fully_released_by_the_end_of_coverage() -> None:
    p = point(age=70, term=1)
    years = p.policy.basis.table.max_age + 1 - 70
    result = measure_group([p], ILLUSTRATIVE_CURVE, BASIS, years)
    assert result.periods[-1].csm_closing == 0
    released = -sum(x.csm_release for x in result.periods)
    accreted = sum(x.csm_interest for x in result.periods)
    assert released == result.initial_csm + accreted


def test_the_risk_adjustment_grows_with_confidence_and_diversifies() -> None:
    def ra(count: int, level: float) -> Decimal:
        basis = replace(BASIS, ra_confidence=level)
        return measure_group(
            [point(count=count)], ILLUSTRATIVE_CURVE, basis, 1
        ).initial_risk_adjustment

    assert ra(100, 0.5) == 0
    assert ra(100, 0.6) < ra(100, 0.75) < ra(100, 0.9)
    # independent policies: four times as many, twice the risk adjustment
    assert float(ra(400, 0.75)) == pytest.approx(2 * float(ra(100, 0.75)), rel=1e-6)


def test_the_recursion_gives_the_mean_and_variance_a_simulation_of_policies_finds() -> None:
    p = point(age=60, term=5)
    years = 46
    flows = policy_flows(p, replace(BASIS, surrender_by_policy_year=(0.05,)), years)
    v = np.full(years, 1 / 1.02)
    mean, second = pv_moments(flows, v)
    rng = np.random.default_rng(1)
    n = 40_000
    pv = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    discount = 1.0
    for k in range(years):
        pv[alive] += discount * (flows.commission[k] + flows.expense[k] - flows.premium[k])
        u = rng.random(n)
        dies = alive & (u < flows.q[k])
        quits = alive & ~dies & (rng.random(n) < flows.surrender[k])
        pv[dies] += discount * v[k] * flows.death_benefit[k]
        pv[quits] += discount * v[k] * flows.cash_value[k]
        alive &= ~(dies | quits)
        discount *= v[k]
    stderr = pv.std(ddof=1) / np.sqrt(n)
    assert abs(pv.mean() - mean[0]) < 4.5 * stderr
    assert pv.var(ddof=1) == pytest.approx(second[0] - mean[0] ** 2, rel=0.05)


def test_the_roll_forward_is_exported_as_csv() -> None:
    result = measure_group([point()], YieldCurve.flat(0.02), BASIS, 5)
    lines = roll_forward_csv(result).splitlines()
    assert lines[0].startswith("year,bel_opening")
    assert len(lines) == 6
    assert "bel_closing_valued" not in lines[0]


@pytest.mark.parametrize("bad", [[], [point(count=0)]])
def test_an_empty_group_is_refused(bad: list[ModelPoint]) -> None:
    with pytest.raises(ValueError):
        measure_group(bad, ILLUSTRATIVE_CURVE, BASIS, 1)
