"""Portfolio valuation agrees with policy-by-policy values and is fast."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from anxin.life import portfolio as pf
from anxin.life.product import Policy
from anxin.life.tables import Sex


def test_vectorised_values_match_single_policies() -> None:
    book = pf.synthetic(2_000, seed=7)
    # put every policy exactly on an anniversary so the policy-level values apply
    book = pf.Portfolio(**{**book.__dict__, "duration": np.floor(book.duration)})
    result = pf.value(book)
    for k in range(0, 2_000, 97):
        policy = Policy(
            issue_age=int(book.issue_age[k]),
            sex=Sex.MALE if book.sex[k] == 0 else Sex.FEMALE,
            pay_term=int(book.pay_term[k]),
            sum_assured=Decimal(f"{book.sum_assured[k]:.2f}"),
            issue_date=date(2024, 9, 1)
            if book.pricing_rate[k] == 0.025
            else date(2023, 9, 1)
            if book.pricing_rate[k] == 0.03
            else date(2022, 9, 1),
        )
        t = int(book.duration[k])
        assert result.reserve[k] == pytest.approx(float(policy.reserve(t)), abs=0.01)
        assert result.cash_value[k] == pytest.approx(float(policy.cash_value(t)), abs=0.01)


def test_interpolation_between_anniversaries() -> None:
    book = pf.synthetic(500, seed=3)
    whole = pf.Portfolio(**{**book.__dict__, "duration": np.floor(book.duration)})
    nxt = pf.Portfolio(**{**book.__dict__, "duration": np.floor(book.duration) + 1})
    mid = pf.Portfolio(**{**book.__dict__, "duration": np.floor(book.duration) + 0.5})
    lo, hi, m = pf.value(whole), pf.value(nxt), pf.value(mid)
    assert np.all(m.cash_value >= np.minimum(lo.cash_value, hi.cash_value) - 1e-6)
    assert np.all(m.cash_value <= np.maximum(lo.cash_value, hi.cash_value) + 1e-6)
    assert np.all(m.reserve >= 0)


def test_csv_reading(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text(
        "policy_id,sex,issue_age,pay_term,sum_assured,issue_date,growth\n"
        "A1,M,30,10,100000.00,2024-09-01,\n"
        "A2,F,45,1,50000.00,2022-05-01,0.02\n"
    )
    book = pf.read_csv(path, date(2025, 9, 1))
    assert list(book.pricing_rate) == [0.025, 0.035]
    assert list(book.growth) == [0.025, 0.02]
    result = pf.value(book)
    assert np.all(result.reserve > 0)
    header = "policy_id,sex,issue_age,pay_term,sum_assured,issue_date\n"
    for bad, reason in (
        ("A1,M,30,31,1000,2024-09-01", "pay_term"),
        ("A1,M,90,10,1000,2024-09-01", "issue_age"),
        ("A1,M,30,10,-5,2024-09-01", "sum_assured"),
        ("A1,M,30,10,1000,2021-01-01", "pricing rate"),
    ):
        path.write_text(header + bad + "\n")
        with pytest.raises(ValueError, match=reason):
            pf.read_csv(path, date(2025, 9, 1))
    path.write_text("policy_id,sex\nA1,M\n")
    with pytest.raises(ValueError, match="missing columns"):
        pf.read_csv(path, date(2025, 9, 1))


def test_a_million_policies_are_valued_in_one_pass_with_progress() -> None:
    """Scale without a stopwatch: the speed is bench/life_vs_lifelib.py's business."""
    book = pf.synthetic(1_000_000)
    seen: list[int] = []
    result = pf.value(book, progress=seen.append)
    assert sum(seen) == 1_000_000
    assert np.all(np.isfinite(result.reserve)) and np.all(
        result.cash_value <= result.reserve + 1e-6
    )
