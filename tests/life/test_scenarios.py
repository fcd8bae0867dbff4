"""Hull–White scenarios: the curve they are fitted to, martingale and calibration properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.life.scenarios import HullWhite, YieldCurve

# A rising curve shaped like China's government bond curve in late 2026 (1y ≈ 1.4 %,
# 30y ≈ 2.3 %, continuously compounded), flat beyond 30 years.
CURVE = YieldCurve(
    (1, 2, 3, 5, 7, 10, 20, 30), (0.014, 0.015, 0.016, 0.0175, 0.0185, 0.019, 0.0215, 0.023)
)
YEARS = list(range(1, 41))


@st.composite
def curves(draw: st.DrawFn) -> YieldCurve:
    gaps = draw(st.lists(st.floats(0.25, 10), min_size=1, max_size=8))
    maturities = tuple(float(m) for m in np.cumsum(gaps))
    rates = tuple(draw(st.floats(-0.01, 0.08)) for _ in maturities)
    return YieldCurve(maturities, rates)


@given(curves())
def test_the_curve_reproduces_its_own_zero_rates_and_forwards_integrate_to_it(
    curve: YieldCurve,
) -> None:
    m = np.asarray(curve.maturities)
    np.testing.assert_allclose(
        -np.log(curve.discount(m)) / m, curve.zero_rates, rtol=1e-12, atol=1e-15
    )
    # −ln P(0,T) = ∫₀ᵀ f(0,s) ds, by the midpoint rule on a grid that contains every knot.
    edges = np.unique(np.concatenate([np.linspace(0, m[-1] + 5, 400), m]))
    mids = (edges[:-1] + edges[1:]) / 2
    integral = np.cumsum(curve.forward(mids) * np.diff(edges))
    np.testing.assert_allclose(integral, -np.log(curve.discount(edges[1:])), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("maturities", "rates"),
    [((), ()), ((1, 1), (0.01, 0.02)), ((0, 1), (0.01, 0.02)), ((1,), (2.0,))],
)
def test_a_malformed_curve_is_refused(
    maturities: tuple[float, ...], rates: tuple[float, ...]
) -> None:
    with pytest.raises(ValueError):
        YieldCurve(maturities, rates)


def test_without_volatility_every_path_is_the_forward_curve() -> None:
    model = HullWhite(CURVE, a=0.1, sigma=0.0)
    paths = model.simulate(5, YEARS, seed=1)
    np.testing.assert_allclose(
        paths.discount, np.broadcast_to(CURVE.discount(YEARS), (5, 40)), rtol=1e-12
    )
    np.testing.assert_allclose(paths.short_rate[0], CURVE.forward(YEARS), rtol=1e-12)


def test_the_same_seed_gives_the_same_paths_and_another_seed_other_paths() -> None:
    model = HullWhite(CURVE, a=0.1, sigma=0.01)
    first, again, other = (model.simulate(50, YEARS, seed=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(first.discount, again.discount)
    assert not np.allclose(first.discount, other.discount)


@pytest.mark.parametrize(("a", "sigma"), [(0.05, 0.01), (0.3, 0.02)])
def test_discounted_bonds_reproduce_the_curve_within_monte_carlo_error(
    a: float, sigma: float
) -> None:
    """Calibration: the mean bank-account discount factor is P(0,t) at every year."""
    paths = HullWhite(CURVE, a=a, sigma=sigma).simulate(20_000, YEARS, seed=11, antithetic=False)
    mean, stderr = paths.mean_discount()
    z = (mean - CURVE.discount(YEARS)) / stderr
    assert np.max(np.abs(z)) < 4.5, z


def test_the_monte_carlo_error_shrinks_as_one_over_root_n() -> None:
    model = HullWhite(CURVE, a=0.1, sigma=0.015)
    small = model.simulate(2_000, YEARS, seed=3, antithetic=False).mean_discount()[1]
    large = model.simulate(32_000, YEARS, seed=4, antithetic=False).mean_discount()[1]
    np.testing.assert_allclose(large / small, 0.25, rtol=0.1)


def test_a_bond_bought_later_is_a_martingale_under_the_bank_account() -> None:
    """E[D(t) P(t,T)] = P(0,T): the closed-form bond price agrees with the simulated paths."""
    model = HullWhite(CURVE, a=0.08, sigma=0.012)
    paths = model.simulate(20_000, YEARS, seed=5, antithetic=False)
    for column, tenor in ((4, 10.0), (9, 20.0), (19, 5.0)):
        t = paths.times[column]
        values = paths.discount[:, column] * model.bond_price(
            t, t + tenor, paths.short_rate[:, column]
        )
        stderr = values.std(ddof=1) / np.sqrt(values.size)
        assert abs(values.mean() - CURVE.discount(t + tenor)) < 4.5 * stderr


def test_the_log_discount_has_the_analytical_variance() -> None:
    """Exact joint simulation of x and ∫x: Var ln D(T) = σ²/a² [T − 2B(T) + (1−e^{−2aT})/(2a)]."""
    a, sigma = 0.1, 0.02
    paths = HullWhite(CURVE, a=a, sigma=sigma).simulate(40_000, YEARS, seed=9, antithetic=False)
    t = paths.times
    expected = (
        sigma**2 / a**2 * (t - 2 * (1 - np.exp(-a * t)) / a + (1 - np.exp(-2 * a * t)) / (2 * a))
    )
    np.testing.assert_allclose(np.log(paths.discount).var(axis=0, ddof=1), expected, rtol=0.04)


def test_the_short_rate_is_centred_on_alpha() -> None:
    a, sigma = 0.1, 0.01
    model = HullWhite(CURVE, a=a, sigma=sigma)
    paths = model.simulate(20_000, YEARS, seed=13, antithetic=False)
    stderr = paths.short_rate.std(axis=0, ddof=1) / np.sqrt(paths.count)
    assert np.max(np.abs(paths.short_rate.mean(axis=0) - model.alpha(YEARS)) / stderr) < 4.5


@settings(max_examples=25, deadline=None)
@given(st.floats(0.0, 0.08), st.floats(0.5, 30.0))
def test_a_bond_at_time_zero_is_the_curve_itself(rate: float, tenor: float) -> None:
    model = HullWhite(YieldCurve.flat(rate), a=0.1, sigma=0.01)
    np.testing.assert_allclose(
        model.bond_price(0.0, tenor, rate), np.exp(-rate * tenor), rtol=1e-12
    )


@pytest.mark.parametrize(("a", "sigma"), [(0.0, 0.01), (0.1, -0.01), (6.0, 0.01)])
def test_parameters_outside_their_range_are_refused(a: float, sigma: float) -> None:
    with pytest.raises(ValueError):
        HullWhite(CURVE, a=a, sigma=sigma)
