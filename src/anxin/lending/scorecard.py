"""The application scorecard at decision time: pure, loaded from a versioned JSON artefact.

`training.py` writes the artefact offline; here an application's answers are mapped to the
German Credit features (`to_german`, the mapping the model card documents), scored attribute by
attribute, and the features that cost the most points become the reason codes. `psi` compares
new applications' scores with the training population's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MODEL_VERSION = "german-credit-2026.12-v1"
ANCHOR: Mapping[str, float] = {"points": 600.0, "odds": 50.0, "pdo": 20.0}
ARTEFACT = Path(__file__).parent / "data" / f"scorecard-{MODEL_VERSION}.json"
REASONS_SHOWN = 3


@dataclass(frozen=True)
class Feature:
    name: str  # the application's field
    german: str  # the German Credit column it is mapped to
    reason_zh: str
    reason_en: str


FEATURES: tuple[Feature, ...] = (
    Feature(
        "account_status",
        "status_of_existing_checking_account",
        "经营结算账户余额偏低或无账户",
        "Low, overdrawn or no business settlement account",
    ),
    Feature("term_months", "duration_in_month", "贷款期限较长", "Long loan term"),
    Feature("credit_history", "credit_history", "过往信用记录欠佳", "Weaker credit history"),
    Feature("purpose", "purpose", "贷款用途风险较高", "Higher-risk loan purpose"),
    Feature("savings", "savings_account_and_bonds", "储蓄或存款较少", "Little savings"),
    Feature("years_trading", "present_employment_since", "经营年限较短", "Few years trading"),
    Feature("property", "property", "可用于担保的财产较少", "Little property to fall back on"),
    Feature(
        "other_loans",
        "other_installment_plans",
        "在其他机构有分期负债",
        "Instalment debt elsewhere",
    ),
    Feature("housing", "housing", "住房非自有", "Does not own the home"),
    Feature(
        "guarantor",
        "other_debtors_or_guarantors",
        "无担保人或共同借款人",
        "No guarantor or co-applicant",
    ),
)
NUMERIC = frozenset({"term_months"})

# The application's answers (our codes) → the German Credit category they stand for.
# The DM bands are reinterpreted for a business in yuan; docs/lending.md states the limits.
CATEGORY_MAP: Mapping[str, Mapping[str, str]] = {
    "account_status": {
        "none": "no checking account",
        "overdrawn": "... < 0 DM",
        "low": "0 <= ... < 200 DM",  # average balance below one month's turnover
        "healthy": "... >= 200 DM / salary assignments for at least 1 year",
    },
    "credit_history": {
        "no_credit": "no credits taken/ all credits paid back duly",
        "all_repaid": "all credits at this bank paid back duly",
        "repaying_duly": "existing credits paid back duly till now",
        "past_delay": "delay in paying off in the past",
        "critical": "critical account/ other credits existing (not at this bank)",
    },
    "purpose": {
        "working_capital": "business",
        "equipment": "furniture/equipment",
        "vehicle": "car (new)",
        "renovation": "repairs",
        "other": "others",
    },
    "savings": {
        "none": "unknown/ no savings account",
        "under_10k": "... < 100 DM",
        "10k_50k": "100 <= ... < 500 DM",
        "50k_100k": "500 <= ... < 1000 DM",
        "over_100k": "... >= 1000 DM",
    },
    "property": {
        "real_estate": "real estate",
        "insurance_or_savings": "building society savings agreement/ life insurance",
        "vehicle_or_other": "car or other, not in attribute Savings account/bonds",
        "none": "unknown / no property",
    },
    "other_loans": {"none": "none", "bank": "bank", "other": "stores"},
    "housing": {"own": "own", "rent": "rent", "free": "for free"},
    "guarantor": {"none": "none", "co_applicant": "co-applicant", "guarantor": "guarantor"},
}


def years_trading_band(years: int) -> str:
    """Years the business has traded stand for the owner's years in employment."""
    if years < 1:
        return "... < 1 year"
    if years < 4:
        return "1 <= ... < 4 years"
    if years < 7:
        return "4 <= ... < 7 years"
    return "... >= 7 years"


def to_german(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The application's answers as the German Credit row the scorecard was trained on."""
    row: dict[str, Any] = {"duration_in_month": int(answers["term_months"])}
    row["present_employment_since"] = years_trading_band(int(answers["years_trading"]))
    for field, mapping in CATEGORY_MAP.items():
        german = next(f.german for f in FEATURES if f.name == field)
        row[german] = mapping[str(answers[field])]
    return row


@dataclass(frozen=True)
class Reason:
    feature: str
    points_lost: int
    zh: str
    en: str


@dataclass(frozen=True)
class Scored:
    score: int
    points: Mapping[str, int]  # feature → points earned
    reasons: tuple[Reason, ...]  # the features that cost the most points, worst first


@dataclass(frozen=True)
class _Bin:
    points: int
    categories: frozenset[str] | None
    lo: float | None
    below: float | None

    def holds(self, value: Any) -> bool:
        if self.categories is not None:
            return str(value) in self.categories
        v = float(value)
        return (self.lo is None or v >= self.lo) and (self.below is None or v < self.below)


@dataclass(frozen=True)
class Scorecard:
    version: str
    cutoff: int
    bins: Mapping[str, tuple[_Bin, ...]]  # German column → bins
    psi_edges: tuple[float, ...]
    psi_shares: tuple[float, ...]
    raw: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        bins = {
            f["german"]: tuple(
                _Bin(
                    int(b["points"]),
                    frozenset(b["categories"]) if "categories" in b else None,
                    b.get("from"),
                    b.get("below"),
                )
                for b in f["bins"]
            )
            for f in data["features"]
        }
        ref = data["psi_reference"]
        return cls(
            version=str(data["version"]),
            cutoff=int(data["cutoff"]),
            bins=bins,
            psi_edges=tuple(float(e) for e in ref["edges"]),
            psi_shares=tuple(float(s) for s in ref["shares"]),
            raw=data,
        )

    def score_german(self, row: Mapping[str, Any]) -> Scored:
        points: dict[str, int] = {}
        lost: list[Reason] = []
        for f in FEATURES:
            bins = self.bins[f.german]
            # An unseen category earns the feature's lowest points: never a silent bonus.
            hit = next(
                (b for b in bins if b.holds(row[f.german])), min(bins, key=lambda b: b.points)
            )
            points[f.name] = hit.points
            shortfall = max(b.points for b in bins) - hit.points
            if shortfall > 0:
                lost.append(Reason(f.name, shortfall, f.reason_zh, f.reason_en))
        lost.sort(key=lambda r: (-r.points_lost, r.feature))
        return Scored(sum(points.values()), points, tuple(lost[:REASONS_SHOWN]))

    def score(self, answers: Mapping[str, Any]) -> Scored:
        return self.score_german(to_german(answers))


@cache
def load(path: Path = ARTEFACT) -> Scorecard:
    return Scorecard.from_dict(json.loads(path.read_text(encoding="utf-8")))


PSI_FLOOR = 1e-4  # an empty bin would make the logarithm infinite


def psi(scores: Sequence[int], edges: Sequence[float], expected: Sequence[float]) -> float:
    """Population stability index, Σ (a − e)·ln(a / e) over the reference score bins.

    Conventional reading: below 0.10 stable, 0.10–0.25 watch, above 0.25 shifted.
    """
    if not scores:
        return 0.0
    counts = [0] * (len(edges) + 1)
    for s in scores:
        counts[sum(1 for e in edges if s >= e)] += 1
    total = 0.0
    for count, e in zip(counts, expected, strict=True):
        a = max(count / len(scores), PSI_FLOOR)
        e = max(e, PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total
