"""Stochastic interest scenarios: a one-factor Hull–White model fitted to a yield curve.

dr = (θ(t) − a r) dt + σ dW, with θ chosen so that the model reproduces today's curve
exactly (Hull & White 1990; Brigo & Mercurio, *Interest Rate Models*, 2nd ed., §3.3).
We write r(t) = x(t) + α(t) with dx = −a x dt + σ dW, x(0) = 0 and
α(t) = f(0,t) + σ²/(2a²)(1 − e^{−at})², and simulate x together with its integral
∫x ds *exactly* on the grid (they are jointly Gaussian), so discount factors carry no
time-stepping bias: E[exp(−∫₀ᵀ r ds)] = P(0,T) holds exactly and a Monte Carlo estimate
misses it only by sampling error, which shrinks as 1/√n.

The curve is given by continuously compounded zero rates at knot maturities, interpolated
linearly in −ln P (piecewise-constant instantaneous forwards), flat beyond the last knot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class YieldCurve:
    """Zero rates (continuous compounding) at maturities in years, increasing from > 0."""

    maturities: tuple[float, ...]
    zero_rates: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.maturities) != len(self.zero_rates) or not self.maturities:
            raise ValueError("a curve needs one zero rate per maturity, at least one")
        m = np.asarray(self.maturities)
        if m[0] <= 0 or np.any(np.diff(m) <= 0):
            raise ValueError("maturities must be positive and strictly increasing")
        if any(not -0.5 < z < 1.0 for z in self.zero_rates):
            raise ValueError("zero rates must lie between −50 % and 100 %")

    @classmethod
    def flat(cls, rate: float) -> YieldCurve:
        return cls((1.0,), (rate,))

    @cached_property
    def _knots(self) -> tuple[FloatArray, FloatArray]:
        t = np.concatenate([[0.0], np.asarray(self.maturities, dtype=np.float64)])
        log_p = np.concatenate([[0.0], -t[1:] * np.asarray(self.zero_rates)])
        return t, log_p

    def _forward_per_segment(self) -> FloatArray:
        t, log_p = self._knots
        return np.asarray(-np.diff(log_p) / np.diff(t), dtype=np.float64)

    def discount(self, t: ArrayLike) -> FloatArray:
        """P(0,t)."""
        ta = np.asarray(t, dtype=np.float64)
        knots, log_p = self._knots
        inside = np.interp(ta, knots, log_p)
        last_forward = self._forward_per_segment()[-1]
        beyond = log_p[-1] - last_forward * (ta - knots[-1])
        return np.asarray(np.exp(np.where(ta > knots[-1], beyond, inside)), dtype=np.float64)

    def forward(self, t: ArrayLike) -> FloatArray:
        """Instantaneous forward f(0,t), right-continuous at the knots."""
        ta = np.asarray(t, dtype=np.float64)
        knots, _ = self._knots
        segment = np.clip(np.searchsorted(knots, ta, side="right") - 1, 0, len(knots) - 2)
        return np.asarray(self._forward_per_segment()[segment], dtype=np.float64)


ILLUSTRATIVE_CURVE = YieldCurve(
    (1, 2, 3, 5, 7, 10, 20, 30), (0.014, 0.015, 0.016, 0.0175, 0.0185, 0.019, 0.0215, 0.023)
)
"""An illustrative rising curve shaped like China's government bond curve in 2025 (1-year
about 1.4 %, 10-year about 1.9 %, 30-year about 2.3 %); give the day's curve for real work."""


def parse_curve(text: str) -> YieldCurve:
    """``"1:0.014,10:0.019,30:0.023"`` (years:zero rate, continuously compounded)."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item.strip()]
        points = [(float(m), float(r)) for m, r in pairs]
    except ValueError as exc:
        raise ValueError(
            "a curve is written years:rate,years:rate,… e.g. 1:0.014,10:0.019"
        ) from exc
    return YieldCurve(tuple(m for m, _ in points), tuple(r for _, r in points))


@dataclass(frozen=True)
class HullWhite:
    """Mean reversion ``a`` (per year, > 0) and volatility ``sigma`` of the short rate."""

    curve: YieldCurve
    a: float
    sigma: float

    def __post_init__(self) -> None:
        if not 0.0 < self.a <= 5.0:
            raise ValueError("mean reversion a must lie in (0, 5]")
        if not 0.0 <= self.sigma <= 0.5:
            raise ValueError("volatility sigma must lie in [0, 0.5]")

    def _b(self, tau: FloatArray | float) -> FloatArray:
        return np.asarray((1.0 - np.exp(-self.a * np.asarray(tau))) / self.a, dtype=np.float64)

    def _integral_variance(self, t: FloatArray | float) -> FloatArray:
        """Var ∫₀ᵗ x ds = σ²/a² [t − 2(1 − e^{−at})/a + (1 − e^{−2at})/(2a)]."""
        a, s2 = self.a, self.sigma**2
        ta = np.asarray(t, dtype=np.float64)
        return np.asarray(
            s2 / a**2 * (ta - 2 * (1 - np.exp(-a * ta)) / a + (1 - np.exp(-2 * a * ta)) / (2 * a)),
            dtype=np.float64,
        )

    def alpha(self, t: ArrayLike) -> FloatArray:
        ta = np.asarray(t, dtype=np.float64)
        return np.asarray(
            self.curve.forward(ta)
            + self.sigma**2 / (2 * self.a**2) * (1 - np.exp(-self.a * ta)) ** 2,
            dtype=np.float64,
        )

    def bond_price(self, t: float, maturity: ArrayLike, short_rate: ArrayLike) -> FloatArray:
        """P(t,T) given r(t) (Brigo & Mercurio eq. 3.39), broadcast over rates and maturities."""
        big_t = np.asarray(maturity, dtype=np.float64)
        r = np.asarray(short_rate, dtype=np.float64)
        b = self._b(big_t - t)
        p0t = self.curve.discount(t)
        p0_big_t = self.curve.discount(big_t)
        f = self.curve.forward(t)
        log_a = (
            np.log(p0_big_t / p0t)
            + b * f
            - self.sigma**2 / (4 * self.a) * (1 - np.exp(-2 * self.a * t)) * b**2
        )
        return np.asarray(np.exp(log_a - b * r), dtype=np.float64)

    def simulate(
        self, n: int, times: Sequence[float], seed: int, antithetic: bool = True
    ) -> Scenarios:
        """``n`` paths on the grid ``times`` (increasing, first > 0); same seed, same paths."""
        grid = np.asarray(times, dtype=np.float64)
        if n < 1:
            raise ValueError("at least one scenario")
        if grid.ndim != 1 or grid.size == 0 or grid[0] <= 0 or np.any(np.diff(grid) <= 0):
            raise ValueError("times must be positive and strictly increasing")
        steps = np.diff(np.concatenate([[0.0], grid]))
        shocks = _normal_pairs(n, grid.size, seed, antithetic)
        x = np.zeros((n, grid.size))
        integral_x = np.zeros((n, grid.size))
        x_prev = np.zeros(n)
        int_prev = np.zeros(n)
        for k, dt in enumerate(steps):
            chol = self._step_cholesky(float(dt))
            z1, z2 = shocks[:, k, 0], shocks[:, k, 1]
            e1 = chol[0, 0] * z1
            e2 = chol[1, 0] * z1 + chol[1, 1] * z2
            decay = np.exp(-self.a * dt)
            int_prev = int_prev + x_prev * (1 - decay) / self.a + e2
            x_prev = x_prev * decay + e1
            x[:, k] = x_prev
            integral_x[:, k] = int_prev
        half_var = 0.5 * self._integral_variance(grid)
        discount = self.curve.discount(grid) * np.exp(-half_var - integral_x)
        return Scenarios(times=grid, short_rate=x + self.alpha(grid), discount=discount, model=self)

    def _step_cholesky(self, dt: float) -> FloatArray:
        a, s2 = self.a, self.sigma**2
        e1, e2 = np.exp(-a * dt), np.exp(-2 * a * dt)
        var_x = s2 / (2 * a) * (1 - e2)
        var_i = s2 / a**2 * (dt - 2 * (1 - e1) / a + (1 - e2) / (2 * a))
        cov = s2 / (2 * a**2) * (1 - e1) ** 2
        cov_m = np.array([[var_x, cov], [cov, var_i]])
        # σ = 0 (or a tiny step) leaves a singular matrix: add a jitter far below any money.
        return np.asarray(np.linalg.cholesky(cov_m + np.eye(2) * 1e-300), dtype=np.float64)


def _normal_pairs(n: int, steps: int, seed: int, antithetic: bool) -> FloatArray:
    rng = np.random.default_rng(seed)
    if not antithetic:
        return np.asarray(rng.standard_normal((n, steps, 2)), dtype=np.float64)
    half = rng.standard_normal(((n + 1) // 2, steps, 2))
    return np.asarray(np.concatenate([half, -half])[:n], dtype=np.float64)


@dataclass(frozen=True)
class Scenarios:
    """Paths (rows) on a time grid (columns): the short rate and the bank-account discount
    factor D(t) = exp(−∫₀ᵗ r ds)."""

    times: FloatArray
    short_rate: FloatArray
    discount: FloatArray
    model: HullWhite

    @property
    def count(self) -> int:
        return int(self.discount.shape[0])

    def zero_rate(self, column: int, tenor: float) -> FloatArray:
        """The continuously compounded ``tenor``-year rate at grid time ``times[column]``."""
        t = float(self.times[column])
        price = self.model.bond_price(t, t + tenor, self.short_rate[:, column])
        return np.asarray(-np.log(price) / tenor, dtype=np.float64)

    def mean_discount(self) -> tuple[FloatArray, FloatArray]:
        """Monte Carlo estimate of P(0,t) per grid time and its standard error."""
        mean = self.discount.mean(axis=0)
        stderr = (
            self.discount.std(axis=0, ddof=1) / np.sqrt(self.count) if self.count > 1 else 0 * mean
        )
        return np.asarray(mean, dtype=np.float64), np.asarray(stderr, dtype=np.float64)
