"""The packaged scorecard artefact and the pure scoring, reasons and PSI."""

from __future__ import annotations

import math
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from anxin.lending import scorecard
from anxin.lending.scorecard import ANCHOR, CATEGORY_MAP, FEATURES

answers = st.fixed_dictionaries(
    {
        "term_months": st.integers(1, 72),
        "years_trading": st.integers(0, 40),
        **{field: st.sampled_from(sorted(codes)) for field, codes in CATEGORY_MAP.items()},
    }
)


def test_the_artefact_names_its_version_anchor_and_cross_validated_metrics():
    card = scorecard.load()
    raw = card.raw
    assert raw["version"] == scorecard.MODEL_VERSION == card.version
    assert raw["anchor"] == dict(ANCHOR)
    # factor = PDO / ln 2; 600 points at odds 50:1.
    assert math.isclose(raw["factor"], 20 / math.log(2), rel_tol=1e-6)
    assert math.isclose(raw["offset"] + raw["factor"] * math.log(50), 600, rel_tol=1e-6)
    m = raw["metrics"]
    assert m["folds"] == 5 and 0.72 < m["auc"] < 0.85
    assert math.isclose(m["gini"], 2 * m["auc"] - 1, abs_tol=1e-4)
    assert 0.3 < m["ks"] < 0.7
    assert {f["name"] for f in raw["features"]} == {f.name for f in FEATURES}
    assert math.isclose(sum(card.psi_shares), 1, abs_tol=1e-5)


@given(answers)
def test_a_score_is_the_sum_of_its_points_and_the_reasons_are_the_costliest(a):
    card = scorecard.load()
    scored = card.score(a)
    assert scored.score == sum(scored.points.values())
    best = {f.name: max(b.points for b in card.bins[f.german]) for f in FEATURES}
    shortfalls = sorted(
        (best[k] - v for k, v in scored.points.items() if best[k] > v), reverse=True
    )
    assert [r.points_lost for r in scored.reasons] == shortfalls[: scorecard.REASONS_SHOWN]
    # No reasons only for the best answer on every feature.
    assert (scored.reasons == ()) == (scored.score == sum(best.values()))


@given(answers, st.integers(1, 30))
def test_a_longer_term_never_scores_higher(a, extra):
    card = scorecard.load()
    longer = {**a, "term_months": a["term_months"] + extra}
    assert card.score(longer).points["term_months"] <= card.score(a).points["term_months"]


def test_psi_is_zero_on_the_reference_and_grows_with_a_shift():
    card = scorecard.load()
    edges = card.psi_edges
    # One score per reference bin in proportion: a population like the training one.
    mids = [
        edges[0] - 5,
        *[(lo + hi) / 2 for lo, hi in pairwise(edges)],
        edges[-1] + 5,
    ]
    same = [
        m
        for m, share in zip(mids, card.psi_shares, strict=True)
        for _ in range(round(share * 1000))
    ]
    assert scorecard.psi(same, edges, card.psi_shares) < 0.01
    shifted = [m for m in same if m > edges[4]]
    assert scorecard.psi(shifted, edges, card.psi_shares) > 0.25
    assert scorecard.psi([], edges, card.psi_shares) == 0.0
