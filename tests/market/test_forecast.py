"""The forecasting core on series whose answer is known, and the error measures' laws."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin.market import forecast as fc
from tests.property_budget import examples

SEASON = [10.0, 30.0, 20.0, 5.0]


def test_a_pure_seasonal_series_is_forecast_exactly_by_the_seasonal_naive_baseline() -> None:
    series = fc.Series("seasonal", SEASON * 8, season_length=4)
    result = fc.forecast(series, horizon=4, folds=3, levels=(80,))
    naive = result.backtest[fc.BASELINE]
    assert naive.mase == 0.0 and naive.smape == 0.0
    # A tie with the baseline keeps the baseline: the others must beat it, not match it.
    assert result.chosen == fc.BASELINE
    assert result.mean == pytest.approx(SEASON)
    assert not result.beats_baseline()


def test_a_linear_trend_is_learnt_and_beats_the_naive_baseline() -> None:
    values = [5.0 + 2.0 * t for t in range(30)]
    result = fc.forecast(fc.Series("trend", values, season_length=1), horizon=4, folds=2)
    # Naive repeats the last value: errors 2, 4, 6, 8 (mean 5) over a scale of 2 → MASE 2.5.
    assert result.backtest[fc.BASELINE].mase == pytest.approx(2.5)
    assert result.chosen != fc.BASELINE and result.beats_baseline()
    assert result.mean == pytest.approx([65.0, 67.0, 69.0, 71.0], abs=0.5)
    lo, hi = result.intervals[95]
    assert all(a <= m <= b for a, m, b in zip(lo, result.mean, hi, strict=True))
    lo80, hi80 = result.intervals[80]
    assert all(
        a95 <= a80 and b80 <= b95 for a95, a80, b80, b95 in zip(lo, lo80, hi80, hi, strict=True)
    )


def test_many_series_in_two_processes_give_the_one_process_answers_in_order() -> None:
    """The nightly run forecasts series in worker processes: same forecasts, same order, and
    a series too short to back-test yields its error in its place without stopping the rest."""
    many = [
        fc.Series("seasonal", SEASON * 8, season_length=4),
        fc.Series("short", [1.0, 2.0, 3.0], season_length=1),
        fc.Series("trend", [5.0 + 2.0 * t for t in range(30)], season_length=1),
    ]
    alone = list(fc.forecast_many(many, horizon=4, folds=2, workers=1))
    pooled = list(fc.forecast_many(many, horizon=4, folds=2, workers=2))
    assert isinstance(alone[1], ValueError) and isinstance(pooled[1], ValueError)
    for one, other in ((alone[0], pooled[0]), (alone[2], pooled[2])):
        assert isinstance(one, fc.Forecast) and isinstance(other, fc.Forecast)
        assert (one.key, one.chosen) == (other.key, other.chosen)
        assert one.mean == pytest.approx(other.mean)
        assert one.backtest == other.backtest
    with pytest.raises(ValueError, match="workers"):
        list(fc.forecast_many(many, horizon=4, workers=0))


def test_known_error_values() -> None:
    train = np.array([1.0, 2.0, 3.0, 4.0])
    assert fc.mase(np.array([5.0, 6.0]), np.array([4.0, 4.0]), train, 1) == pytest.approx(1.5)
    assert fc.smape(np.array([100.0]), np.array([50.0])) == pytest.approx(200 * 50 / 150)
    assert fc.smape(np.array([0.0]), np.array([0.0])) == 0.0
    flat = np.array([3.0, 3.0, 3.0])
    assert fc.mase(np.array([3.0]), np.array([3.0]), flat, 1) == 0.0
    assert fc.mase(np.array([3.0]), np.array([4.0]), flat, 1) == float("inf")


def test_origins_leave_room_to_fit_and_to_score() -> None:
    assert fc.origins(20, 4, 3, minimum=8) == [8, 12, 16]
    assert fc.origins(20, 4, 5, minimum=8) == [8, 12, 16]
    with pytest.raises(ValueError, match="too short"):
        fc.backtest(fc.Series("short", [1.0] * 9, 4), horizon=4, folds=2)


def test_bad_series_are_refused() -> None:
    with pytest.raises(ValueError):
        fc.Series("nan", [1.0, float("nan")], 1)
    with pytest.raises(ValueError):
        fc.Series("m0", [1.0], 0)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@examples(100)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=20))
def test_smape_is_bounded_and_symmetric(pairs: list[tuple[float, float]]) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    value = fc.smape(a, b)
    assert 0.0 <= value <= 200.0 + 1e-9
    assert value == pytest.approx(fc.smape(b, a))


@examples(100)
@given(
    st.lists(finite, min_size=3, max_size=20),
    st.lists(finite, min_size=1, max_size=5),
    st.floats(min_value=0.01, max_value=1000),
)
def test_mase_is_scale_free_and_zero_only_for_a_perfect_forecast(
    train: list[float], actual: list[float], factor: float
) -> None:
    t, a = np.array(train), np.array(actual)
    p = a + 1.0
    base = fc.mase(a, p, t, 1)
    scaled = fc.mase(a * factor, p * factor, t * factor, 1)
    assert base == pytest.approx(scaled, rel=1e-6) or (base == scaled == float("inf"))
    assert fc.mase(a, a, t, 1) == 0.0


def _fixed(mean: list[float], lo: list[float], hi: list[float]) -> fc.Forecast:
    return fc.Forecast("d", "AutoETS", {}, mean, {80: (lo, hi)})


def test_price_band_follows_the_demand_quantiles() -> None:
    demand = _fixed([100.0, 100.0], [80.0, 80.0], [125.0, 125.0])
    band = fc.price_band(
        reference_price=Decimal("6.00"), demand=demand, supply_total=200.0, elasticity=1.0
    )
    # Demand equals supply at the mean: the reference price; the band scales linearly (ε = 1).
    assert (band.low, band.reference, band.high) == (
        Decimal("4.80"),
        Decimal("6.00"),
        Decimal("7.50"),
    )
    assert "elasticity" in band.reasoning


def test_production_suggestion_is_capped_and_explained() -> None:
    demand = _fixed([5000.0, 5000.0], [0, 0], [0, 0])
    more = fc.production_suggestion(
        crop="rice", current_m2=6670, yield_kg_per_m2=0.7, demand=demand, max_change=0.3
    )
    assert more.suggested_m2 == pytest.approx(6670 * 1.3) and more.change_pct == 30.0
    assert more.reasoning.startswith("plant more")
    less = fc.production_suggestion(
        crop="rice", current_m2=6670, yield_kg_per_m2=0.7, demand=_fixed([3000.0], [0], [0])
    )
    assert less.suggested_m2 == pytest.approx(3000 / 0.7) or less.change_pct == -30.0
    assert less.reasoning.startswith("plant less")
