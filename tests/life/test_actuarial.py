"""SULT validation at 5% against the published table, and identities of the maths."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from anxin.life import actuarial as act
from anxin.life.tables import cl2010, sult

DATA = Path(__file__).resolve().parents[1] / "data" / "sult_5pct.csv"
DECIMALS = {"lx": 1, "qx": 6, "ax": 4, "ax10": 4, "ax20": 4}


def published() -> dict[str, np.ndarray]:
    lines = [ln for ln in DATA.read_text().splitlines() if not ln.startswith("#")]
    rows = list(csv.DictReader(lines))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def assert_printed(computed: np.ndarray, printed: np.ndarray, decimals: int) -> None:
    # half a unit in the last printed digit, plus a hair for binary representation
    tolerance = 0.5 * 10.0**-decimals + 1e-12
    assert np.max(np.abs(computed - printed)) <= tolerance


def test_sult_reproduces_the_published_table_at_5_percent() -> None:
    pub = published()
    t = sult()
    x = pub["x"].astype(int)
    i = 0.05
    computed = {
        "lx": 100_000 * t.lx[x] / t.lx[20],
        "qx": t.q[x],
        "ax": act.annuity_due(t, x, i),
        "Ax": act.assurance(t, x, i),
        "A2x": act.assurance(t, x, i, moment=2),
        "ax10": act.annuity_due(t, x, i, n=10),
        "Ax10": act.endowment_assurance(t, x, i, 10),
        "ax20": act.annuity_due(t, x, i, n=20),
        "Ax20": act.endowment_assurance(t, x, i, 20),
        "E5": act.pure_endowment(t, x, i, 5),
        "E10": act.pure_endowment(t, x, i, 10),
        "E20": act.pure_endowment(t, x, i, 20),
    }
    for column, values in computed.items():
        assert_printed(values, pub[column], DECIMALS.get(column, 5))


def test_issue_example_values_at_40() -> None:
    t = sult()
    assert round(float(act.annuity_due(t, 40, 0.05)), 4) == 18.4578
    assert round(float(act.assurance(t, 40, 0.05)), 5) == 0.12106
    assert round(float(act.assurance(t, 40, 0.05, moment=2)), 5) == 0.02347


@pytest.mark.parametrize("i", [0.0, 0.025, 0.05, 0.12])
def test_identities_at_every_age_20_to_100(i: float) -> None:
    t = sult()
    x = np.arange(20, 101)
    a = act.annuity_due(t, x, i)
    big_a = act.assurance(t, x, i)
    d = i / (1 + i)
    assert np.allclose(big_a, 1 - d * a, rtol=0, atol=1e-12)
    # the recursions over attained age give the same values as the direct sums
    assert np.allclose(act.annuity_due_all_ages(t, i)[x], a, rtol=1e-12)
    assert np.allclose(act.increasing_assurance_all_ages(t, i, 0.0)[x], big_a, rtol=1e-12)
    # temporary annuity from whole-life values
    n = np.full(x.shape, 15)
    assert np.allclose(
        act.temporary_annuity_from_whole(t, act.annuity_due_all_ages(t, i), x, n, i),
        act.annuity_due(t, x, i, n=15),
        rtol=1e-12,
    )


def test_udd_fractional_survival_and_monthly_annuity() -> None:
    t = cl2010("CL1")
    # under UDD {}_s q_x = s q_x inside a year of age
    assert float(1 - act.survival(t, 40, 0.25)) == pytest.approx(0.25 * t.q[40], rel=1e-12)
    # ä^(12) is close to the textbook UDD approximation ä - 11/24
    i = 0.03
    exact = float(act.annuity_due(t, 50, i, m=12))
    approx = float(act.annuity_due(t, 50, i)) - 11 / 24
    assert exact == pytest.approx(approx, abs=5e-3)
    # a benefit at the end of the month of death is worth a little more than at year end
    assert act.assurance(t, 50, i, m=12) > act.assurance(t, 50, i)


def test_vectorised_over_interest_and_terms() -> None:
    t = cl2010("CL2")
    x = np.array([0, 30, 60, 104, 105])
    for i in (-0.01, 0.0, 0.035, 0.08):
        a = act.annuity_due(t, x, i)
        assert a.shape == x.shape
        assert a[-1] == pytest.approx(1.0)  # q_105 = 1: one payment only
    a_n = act.annuity_due(t, np.array([30, 30]), 0.03, n=np.array([0, 1]))
    assert list(a_n) == [0.0, 1.0]
    with pytest.raises(ValueError):
        act.annuity_due(t, 40.5, 0.03)
    with pytest.raises(ValueError):
        act.assurance(t, 40, -1.0)
