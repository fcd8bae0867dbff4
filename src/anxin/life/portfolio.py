"""Vectorised valuation of a whole portfolio of increasing whole-life policies.

Every value needed depends on the policy only through (sex, pricing rate, growth) — the
basis — and (issue age, premium term, duration). Each basis gives per-age vectors once
(:class:`anxin.life.product.Basis`); a policy's reserve is then a handful of gathers and
multiplications, so a million policies take a fraction of a second.

Between anniversaries the reserve is interpolated linearly between the reserve just after
the premium at the last anniversary (V_t + P) and the reserve at the next one (V_{t+1}),
the usual approximation for valuation dates inside a policy year.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from anxin.life.product import (
    MAX_ISSUE_AGE,
    PREMIUM_TERMS,
    PRICING_RATES,
    STANDARD_TERMS,
    basis_for,
    cash_value_share,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CHUNK = 250_000
REQUIRED_COLUMNS = ("policy_id", "sex", "issue_age", "pay_term", "sum_assured", "issue_date")


@dataclass(frozen=True)
class Portfolio:
    """Column arrays, one entry per policy. ``sex`` is 0 for male, 1 for female."""

    policy_id: NDArray[np.str_]
    sex: IntArray
    issue_age: IntArray
    pay_term: IntArray
    sum_assured: FloatArray  # SA_1 in yuan (float inside the vectorised maths only)
    pricing_rate: FloatArray
    growth: FloatArray
    duration: FloatArray  # years in force at the valuation date (may be fractional)

    def __len__(self) -> int:
        return int(self.sex.size)


@dataclass(frozen=True)
class Valuation:
    reserve: FloatArray
    cash_value: FloatArray

    @property
    def total_reserve(self) -> Decimal:
        return Decimal(float(self.reserve.sum())).quantize(Decimal("0.01"))

    @property
    def total_cash_value(self) -> Decimal:
        return Decimal(float(self.cash_value.sum())).quantize(Decimal("0.01"))


def rates_for_dates(ordinals: IntArray) -> FloatArray:
    """Pricing rate for each issue date (as proleptic ordinals), from the dated schedule."""
    steps = sorted(PRICING_RATES, key=lambda s: s.effective_from)
    starts = np.array([s.effective_from.toordinal() for s in steps], dtype=np.int64)
    rates = np.array([float(s.rate) for s in steps])
    idx = np.searchsorted(starts, ordinals, side="right") - 1
    if np.any(idx < 0):
        raise ValueError("an issue date precedes the first pricing rate")
    result: FloatArray = rates[idx]
    return result


def _value_group(
    table: str, i: float, g: float, x: IntArray, n: IntArray, dur: FloatArray
) -> tuple[FloatArray, FloatArray]:
    basis = basis_for(table, i, g)
    t = np.floor(dur).astype(np.int64)
    s = dur - t
    v_now = basis.reserve(x, n, t)
    v_next = basis.reserve(x, n, t + 1)
    premium = np.where(t < n, basis.net_premium(x, n), 0.0)
    reserve = (1.0 - s) * (v_now + premium) + s * v_next
    # exactly on an anniversary the premium then due is not yet paid
    reserve = np.where(s == 0.0, v_now, reserve)
    cash = (1.0 - s) * cash_value_share(t, n) * v_now + s * cash_value_share(t + 1, n) * v_next
    return reserve, cash


def value(
    portfolio: Portfolio, progress: Callable[[int], None] | None = None, chunk: int = CHUNK
) -> Valuation:
    """Reserves and cash values (yuan) of every policy in one vectorised pass per chunk."""
    size = len(portfolio)
    if np.any(~np.isin(portfolio.pay_term, PREMIUM_TERMS)):
        raise ValueError(f"premium terms must be whole years, 1..{PREMIUM_TERMS[-1]}")
    if np.any(portfolio.duration < 0):
        raise ValueError("durations must be non-negative")
    reserve = np.zeros(size)
    cash = np.zeros(size)
    for start in range(0, size, chunk):
        sl = slice(start, min(start + chunk, size))
        sex = portfolio.sex[sl]
        i = portfolio.pricing_rate[sl]
        g = portfolio.growth[sl]
        keys = np.stack([sex.astype(np.float64), i, g], axis=1)
        combos, which = np.unique(keys, axis=0, return_inverse=True)
        which = which.reshape(-1)
        for k, (sx, ik, gk) in enumerate(combos):
            rows = np.nonzero(which == k)[0]
            table = "CL1" if int(sx) == 0 else "CL2"
            r, c = _value_group(
                table,
                float(ik),
                float(gk),
                portfolio.issue_age[sl][rows],
                portfolio.pay_term[sl][rows],
                portfolio.duration[sl][rows],
            )
            reserve[start + rows] = r
            cash[start + rows] = c
        reserve[sl] *= portfolio.sum_assured[sl]
        cash[sl] *= portfolio.sum_assured[sl]
        if progress is not None:
            progress(sl.stop - sl.start)
    return Valuation(reserve=reserve, cash_value=cash)


def _years_between(issue: IntArray, valuation: date) -> FloatArray:
    # durations in years on an actual/365.25 basis, enough for interpolation inside a year
    days = valuation.toordinal() - issue
    if np.any(days < 0):
        raise ValueError("a policy is issued after the valuation date")
    result: FloatArray = days / 365.25
    return result


def from_rows(rows: Iterable[Mapping[str, str]], valuation_date: date) -> Portfolio:
    """Build a portfolio from CSV-like rows (see REQUIRED_COLUMNS; ``growth`` optional)."""
    ids: list[str] = []
    sex: list[int] = []
    age: list[int] = []
    term: list[int] = []
    sa: list[float] = []
    issued: list[int] = []
    growth: list[float] = []
    for line, row in enumerate(rows, start=2):
        try:
            ids.append(row["policy_id"])
            code = row["sex"].strip().upper()
            if code not in ("M", "F"):
                raise ValueError(f"sex must be M or F, not {code!r}")
            sex.append(0 if code == "M" else 1)
            age.append(int(row["issue_age"]))
            if not 0 <= age[-1] <= MAX_ISSUE_AGE:
                raise ValueError(f"issue_age must lie in 0..{MAX_ISSUE_AGE}")
            term.append(int(row["pay_term"]))
            if term[-1] not in PREMIUM_TERMS:
                raise ValueError(f"pay_term must be whole years, 1..{PREMIUM_TERMS[-1]}")
            amount = Decimal(row["sum_assured"])
            if not amount.is_finite() or amount <= 0:
                raise ValueError("sum_assured must be a positive amount")
            sa.append(float(amount))
            issued.append(date.fromisoformat(row["issue_date"]).toordinal())
            g = (row.get("growth") or "").strip()
            growth.append(float(g) if g else np.nan)
        except (KeyError, ValueError, ArithmeticError) as exc:
            raise ValueError(f"line {line}: {exc}") from exc
    issue = np.array(issued, dtype=np.int64)
    rates = rates_for_dates(issue)
    g_arr = np.array(growth)
    g_arr = np.where(np.isnan(g_arr), rates, g_arr)
    if np.any(g_arr < 0) or np.any(g_arr > rates + 1e-12):
        raise ValueError("growth must lie between 0 and the pricing rate")
    return Portfolio(
        policy_id=np.array(ids),
        sex=np.array(sex, dtype=np.int64),
        issue_age=np.array(age, dtype=np.int64),
        pay_term=np.array(term, dtype=np.int64),
        sum_assured=np.array(sa),
        pricing_rate=rates,
        growth=g_arr,
        duration=_years_between(issue, valuation_date),
    )


def read_csv(path: Path, valuation_date: date) -> Portfolio:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path.name}: missing columns {', '.join(missing)}")
        return from_rows(reader, valuation_date)


def synthetic(size: int, seed: int = 20240901, valuation_date: date | None = None) -> Portfolio:
    """A reproducible random portfolio for benchmarks and tests."""
    rng = np.random.default_rng(seed)
    when = valuation_date or date(2025, 12, 31)
    first = date(2022, 1, 1).toordinal()
    issue = rng.integers(first, when.toordinal() + 1, size=size)
    rates = rates_for_dates(issue)
    return Portfolio(
        policy_id=np.char.add("P", np.arange(size).astype(str)),
        sex=rng.integers(0, 2, size=size),
        issue_age=rng.integers(0, 66, size=size),
        pay_term=rng.choice(np.array(STANDARD_TERMS), size=size),
        sum_assured=np.round(rng.uniform(10_000, 1_000_000, size=size), 2),
        pricing_rate=rates,
        growth=rates,
        duration=_years_between(issue, when),
    )
