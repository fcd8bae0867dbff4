"""Supply and demand forecasts: pure functions over numpy arrays, no database.

Three candidate models per series, from `statsforecast`: the seasonal-naive baseline, AutoETS
and AutoARIMA. Each is back-tested from rolling origins (fit on the history up to an origin,
forecast the next `horizon` points, move the origin on), scored per series with MASE (the mean
absolute error over that of the in-sample seasonal-naive forecast, Hyndman & Koehler 2006) and
sMAPE (0–200 %), and the model with the lowest mean MASE is chosen for that series; it is then
fitted on the whole history for the forecast and its prediction intervals.

Long seasons (weekly data with a yearly season, m = 52) are where the textbook models break:
AutoETS admits no season longer than 24 and fits a non-seasonal model, and a seasonal AutoARIMA
at m = 52 took 15 s per fit on this machine. So for m > 24 AutoARIMA is a *dynamic harmonic
regression*: ARIMA errors on Fourier terms of the season (K pairs) and on known events (the
Spring Festival weeks, which move by up to a month against the solar year and are exactly what a
lag-52 baseline misplaces). Events are passed as an indicator over history + horizon.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt
from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive
from threadpoolctl import threadpool_limits

from anxin.core.money import CENT, ROUNDING

Array = npt.NDArray[np.float64]
BASELINE = "SeasonalNaive"
MODELS: tuple[str, ...] = (BASELINE, "AutoETS", "AutoARIMA")
LEVELS: tuple[int, ...] = (80, 95)
LONG_SEASON = 24  # AutoETS's limit; past it AutoARIMA takes Fourier terms instead
FOURIER_PAIRS = 3


@dataclass(frozen=True)
class Series:
    """One history to forecast: equally spaced, oldest first, no gaps."""

    key: str
    values: Sequence[float]
    season_length: int
    events: Sequence[float] | None = None  # indicator over history + horizon (len n + h)

    def __post_init__(self) -> None:
        if self.season_length < 1:
            raise ValueError("the season length must be at least 1")
        if any(not math.isfinite(v) for v in self.values):
            raise ValueError(f"series {self.key}: values must be finite")


@dataclass(frozen=True)
class Errors:
    mase: float
    smape: float


@dataclass(frozen=True)
class Forecast:
    key: str
    chosen: str
    backtest: dict[str, Errors]  # model -> mean errors over the origins
    mean: list[float]
    intervals: dict[int, tuple[list[float], list[float]]]  # level -> (lo, hi)
    history: list[float] = field(default_factory=list)

    def beats_baseline(self) -> bool:
        return self.backtest[self.chosen].mase < self.backtest[BASELINE].mase


# --- errors -----------------------------------------------------------------------------


def mase(actual: Array, predicted: Array, train: Array, m: int) -> float:
    """MASE: mean |error| over the mean |y_t − y_{t−m}| of the training data (m = 1 when the
    training data is shorter than two seasons). A constant training series has no scale: its
    MASE is 0 for an exact forecast and infinite otherwise."""
    lag = m if len(train) > m else 1
    scale = float(np.mean(np.abs(train[lag:] - train[:-lag]))) if len(train) > lag else 0.0
    error = float(np.mean(np.abs(actual - predicted)))
    if scale == 0.0:
        return 0.0 if error == 0.0 else math.inf
    return error / scale


def smape(actual: Array, predicted: Array) -> float:
    """sMAPE in percent (0–200); a point where both are 0 counts as no error."""
    denominator = np.abs(actual) + np.abs(predicted)
    ratio = np.divide(
        2.0 * np.abs(actual - predicted),
        denominator,
        out=np.zeros_like(denominator),
        where=denominator != 0,
    )
    return float(100.0 * np.mean(ratio))


# --- models -----------------------------------------------------------------------------


def fourier(length: int, period: int, pairs: int = FOURIER_PAIRS, start: int = 0) -> Array:
    """sin/cos pairs of the season, for t = start … start + length − 1."""
    t = np.arange(start, start + length, dtype=np.float64)
    cols = []
    for k in range(1, pairs + 1):
        cols += [np.sin(2 * np.pi * k * t / period), np.cos(2 * np.pi * k * t / period)]
    return np.column_stack(cols)


def _regressors(series: Series, n: int, h: int) -> tuple[Array, Array] | None:
    m = series.season_length
    parts: list[Array] = []
    if m > LONG_SEASON:
        parts.append(fourier(n + h, m))
    if series.events is not None:
        events = np.asarray(series.events, dtype=np.float64)[: n + h]
        if events.any():
            parts.append(events.reshape(-1, 1))
    if not parts:
        return None
    x = np.column_stack(parts)
    return x[:n], x[n : n + h]


def _fit(model: str, series: Series, y: Array, h: int, levels: Sequence[int]) -> dict[str, Array]:
    m = series.season_length
    lv = list(levels) or None
    if model == BASELINE:
        return dict(SeasonalNaive(season_length=min(m, len(y))).forecast(y=y, h=h, level=lv))
    if model == "AutoETS":
        return dict(
            AutoETS(season_length=m if m <= LONG_SEASON else 1).forecast(y=y, h=h, level=lv)
        )
    if model == "AutoARIMA":
        x = _regressors(series, len(y), h)
        season = m if m <= LONG_SEASON and len(y) >= 2 * m else 1
        arima = AutoARIMA(season_length=season)
        if x is None:
            return dict(arima.forecast(y=y, h=h, level=lv))
        return dict(arima.forecast(y=y, h=h, X=x[0], X_future=x[1], level=lv))
    raise ValueError(f"unknown model {model}")


def origins(n: int, horizon: int, folds: int, minimum: int) -> list[int]:
    """The rolling origins: the last `folds` cut points, `horizon` apart, each leaving at
    least `minimum` points to fit and `horizon` to score."""
    cuts = [n - horizon * (k + 1) for k in range(folds)]
    return sorted(c for c in cuts if c >= minimum)


def backtest(
    series: Series, *, horizon: int, folds: int, models: Sequence[str] = MODELS
) -> dict[str, Errors]:
    y = np.asarray(series.values, dtype=np.float64)
    m = series.season_length
    cuts = origins(len(y), horizon, folds, minimum=max(2 * min(m, 52), 8))
    if not cuts:
        raise ValueError(f"series {series.key}: too short to back-test {folds} folds")
    out: dict[str, Errors] = {}
    for model in models:
        scores = []
        for cut in cuts:
            train, actual = y[:cut], y[cut : cut + horizon]
            predicted = _fit(model, series, train, horizon, ())["mean"]
            scores.append((mase(actual, predicted, train, m), smape(actual, predicted)))
        out[model] = Errors(
            mase=float(np.mean([s[0] for s in scores])),
            smape=float(np.mean([s[1] for s in scores])),
        )
    return out


def choose(errors: dict[str, Errors]) -> str:
    """The lowest mean MASE; on a tie the earlier model (the baseline first: a model must beat
    it, not match it)."""
    return min(errors, key=lambda name: (errors[name].mase, MODELS.index(name)))


def forecast(
    series: Series,
    *,
    horizon: int,
    folds: int = 3,
    levels: Sequence[int] = LEVELS,
    models: Sequence[str] = MODELS,
) -> Forecast:
    if horizon < 1 or folds < 1:
        raise ValueError("the horizon and the number of folds must be at least 1")
    errors = backtest(series, horizon=horizon, folds=folds, models=models)
    chosen = choose(errors)
    y = np.asarray(series.values, dtype=np.float64)
    fitted = _fit(chosen, series, y, horizon, levels)
    return Forecast(
        key=series.key,
        chosen=chosen,
        backtest=errors,
        mean=[float(v) for v in fitted["mean"]],
        intervals={
            level: (
                [float(v) for v in fitted[f"lo-{level}"]],
                [float(v) for v in fitted[f"hi-{level}"]],
            )
            for level in levels
        },
        history=[float(v) for v in y],
    )


def _forecast_or_error(series: Series, horizon: int, folds: int) -> Forecast | ValueError:
    try:
        return forecast(series, horizon=horizon, folds=folds)
    except ValueError as error:  # too short for the folds asked: the caller decides
        return error


def _one_thread() -> None:
    # Each worker owns one core: BLAS threads inside a worker would fight the other workers.
    threadpool_limits(limits=1)


def forecast_many(
    series: Sequence[Series], *, horizon: int, folds: int = 3, workers: int = 1
) -> Iterator[Forecast | ValueError]:
    """`forecast` over many series, in order, in `workers` processes (the series are
    independent and each costs seconds of CPU in AutoARIMA's search, so a nightly run over
    hundreds of them scales with cores). A series too short to back-test yields its
    ValueError instead of stopping the others."""
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if workers == 1 or len(series) < 2:
        for one in series:
            yield _forecast_or_error(one, horizon, folds)
        return
    # fork: the workers inherit the imported models instead of importing statsforecast
    # again; they only compute and return plain dataclasses.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
        yield from pool.map(
            _forecast_or_error,
            series,
            [horizon] * len(series),
            [folds] * len(series),
            chunksize=4,
        )


# --- planning ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceBand:
    low: Decimal
    reference: Decimal
    high: Decimal
    reasoning: str


def price_band(
    *,
    reference_price: Decimal,
    demand: Forecast,
    supply_total: float,
    elasticity: float,
    level: int = 80,
) -> PriceBand:
    """A price band from the demand forecast's quantiles against the supply expected.

    With constant-elasticity demand Q = A·p^(−ε), clearing the expected supply S at demand D
    moves the reference price by (D / S)^(1/ε). The band takes D at the interval's low and high
    quantiles (summed over the horizon), so a wider interval is a wider band.
    """
    if elasticity <= 0 or supply_total <= 0:
        raise ValueError("elasticity and supply must be positive")
    lo, hi = demand.intervals[level]
    mean_d = max(sum(demand.mean), 0.0)
    low_d, high_d = max(sum(lo), 0.0), max(sum(hi), 0.0)

    def at(d: float) -> Decimal:
        factor = (d / supply_total) ** (1.0 / elasticity) if d > 0 else 0.0
        return (reference_price * Decimal(repr(factor))).quantize(CENT, rounding=ROUNDING)

    reasoning = (
        f"demand over the horizon {mean_d:.0f} (≈{level}% between {low_d:.0f} and {high_d:.0f}) "
        f"against expected supply {supply_total:.0f}; price elasticity {elasticity}: "
        f"price × (demand / supply)^(1/{elasticity}) from the reference {reference_price}"
    )
    return PriceBand(at(low_d), at(mean_d), at(high_d), reasoning)


@dataclass(frozen=True)
class Suggestion:
    crop: str
    current_m2: float
    suggested_m2: float
    change_pct: float
    reasoning: str


def production_suggestion(
    *,
    crop: str,
    current_m2: float,
    yield_kg_per_m2: float,
    demand: Forecast,
    other_supply_kg: float = 0.0,
    max_change: float = 0.3,
) -> Suggestion:
    """Plant the area whose expected harvest meets the forecast demand left after other
    supply, moved at most `max_change` (a share of today's area) in one season: a cooperative
    cannot convert half its fields at once, and a forecast is not certain enough to ask it."""
    if current_m2 < 0 or yield_kg_per_m2 <= 0 or not 0 <= max_change <= 1:
        raise ValueError("area ≥ 0, yield > 0 and 0 ≤ max change ≤ 1")
    demand_kg = max(sum(demand.mean) - other_supply_kg, 0.0)
    needed = demand_kg / yield_kg_per_m2
    bounded = min(max(needed, current_m2 * (1 - max_change)), current_m2 * (1 + max_change))
    change = 0.0 if current_m2 == 0 else (bounded - current_m2) / current_m2 * 100
    verb = "plant more" if change > 0.5 else "plant less" if change < -0.5 else "keep"
    reasoning = (
        f"{verb}: forecast demand {demand_kg:.0f} kg ({demand.chosen}) at "
        f"{yield_kg_per_m2} kg/m² needs {needed:.0f} m² against {current_m2:.0f} m² planted; "
        f"change capped at ±{max_change * 100:.0f}%"
    )
    return Suggestion(crop, current_m2, round(bounded, 1), round(change, 1), reasoning)
