"""Forecast runs over the market's own history: weekly demand by crop and region (contracted
orders) and weekly supply by crop (quantities listed), each forecast with `forecast.forecast`
and stored with its chosen model and back-test, so pages read what was computed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.errors import PermissionDenied
from anxin.core.security import Principal
from anxin.core.unit import UnitOfWork
from anxin.market import forecast as fc
from anxin.market.models import ForecastRun, Listing, Order, OrderStatus
from anxin.market.service import CST, is_seller

# Spring Festival (春节) days; the weeks before it are the year's buying peak (年货).
SPRING_FESTIVAL = (
    date(2022, 2, 1),
    date(2023, 1, 22),
    date(2024, 2, 10),
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
    date(2029, 2, 13),
    date(2030, 2, 3),
)
FESTIVAL_WEEKS = 2
YEAR_WEEKS = 52
MIN_WEEKS = 16


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def festival(week: date) -> float:
    """1 for a week (starting Monday) among the `FESTIVAL_WEEKS` before a Spring Festival."""
    return float(
        any(
            timedelta(0) <= sf - week < timedelta(weeks=FESTIVAL_WEEKS) + timedelta(days=6)
            and week < sf
            for sf in SPRING_FESTIVAL
        )
    )


@dataclass(frozen=True)
class Weekly:
    key: str
    start: date
    values: list[float]


def _weekly(points: dict[str, dict[date, float]], last: date) -> list[Weekly]:
    out = []
    for key, by_week in sorted(points.items()):
        start = min(by_week)
        weeks = (last - start).days // 7 + 1
        values = [by_week.get(start + timedelta(weeks=i), 0.0) for i in range(weeks)]
        out.append(Weekly(key, start, values))
    return out


def history(session: Session, organisation_id: str, until: date) -> list[Weekly]:
    """Demand per crop and region, supply per crop, by week, up to the last whole week."""
    last = monday(until) - timedelta(weeks=1)
    points: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    rows = session.execute(
        select(Order.contracted_on, Order.quantity_kg, Listing.crop, Listing.region)
        .join(Listing, Listing.id == Order.listing_id)
        .where(
            Order.seller_organisation_id == organisation_id,
            Order.status.in_((OrderStatus.CONTRACTED, OrderStatus.SETTLED)),
            Order.contracted_on.is_not(None),
        )
    )
    for on, kg, crop, region in rows:
        if on is not None and monday(on) <= last:
            points[f"demand:{crop}:{region}"][monday(on)] += float(kg)
    listed = session.execute(
        select(Listing.created_at, Listing.quantity_kg, Listing.crop).where(
            Listing.seller_organisation_id == organisation_id
        )
    )
    for at, kg, crop in listed:
        week = monday(at.astimezone(CST).date())
        if week <= last:
            points[f"supply:{crop}"][week] += float(kg)
    return [w for w in _weekly(points, last) if len(w.values) >= MIN_WEEKS]


def series_of(weekly: Weekly, horizon: int) -> fc.Series:
    season = YEAR_WEEKS if len(weekly.values) >= 2 * YEAR_WEEKS + horizon else 1
    weeks = [weekly.start + timedelta(weeks=i) for i in range(len(weekly.values) + horizon)]
    return fc.Series(weekly.key, weekly.values, season, events=[festival(w) for w in weeks])


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None


def result_of(weekly: Weekly, result: fc.Forecast) -> dict[str, Any]:
    return {
        "starts": weekly.start.isoformat(),
        "history": result.history,
        "mean": result.mean,
        "intervals": {str(k): [lo, hi] for k, (lo, hi) in result.intervals.items()},
        "backtest": {
            m: {"mase": _finite(e.mase), "smape": e.smape} for m, e in result.backtest.items()
        },
        "beats_baseline": result.beats_baseline(),
    }


def run(
    *, uow: UnitOfWork, principal: Principal, horizon: int = 8, folds: int = 3, workers: int = 1
) -> list[ForecastRun]:
    """Forecast every series of the seller's organisation with enough history (in `workers`
    processes: the CLI's nightly run; requests keep one)."""
    if not is_seller(uow.session, principal):
        raise PermissionDenied("forecasts are the cooperative's")
    now = uow.now()
    runs = []
    weeklies = history(uow.session, principal.organisation_id, now.astimezone(CST).date())
    series = [series_of(weekly, horizon) for weekly in weeklies]
    results = fc.forecast_many(series, horizon=horizon, folds=folds, workers=workers)
    for weekly, result in zip(weeklies, results, strict=True):
        if isinstance(result, ValueError):
            continue  # too short for the folds asked: nothing to say about it yet
        row = ForecastRun(
            organisation_id=principal.organisation_id,
            key=weekly.key,
            chosen=result.chosen,
            result=result_of(weekly, result),
            created_at=now,
        )
        uow.session.add(row)
        runs.append(row)
    uow.session.flush()
    return runs


def latest(*, session: Session, principal: Principal) -> list[ForecastRun]:
    if not is_seller(session, principal):
        raise PermissionDenied("forecasts are the cooperative's")
    rows = session.scalars(
        select(ForecastRun)
        .where(ForecastRun.organisation_id == principal.organisation_id)
        .order_by(ForecastRun.key, ForecastRun.created_at.desc(), ForecastRun.id)
    )
    seen: dict[str, ForecastRun] = {}
    for row in rows:
        seen.setdefault(row.key, row)
    return list(seen.values())
