"""Policy illustration rows, the surrender IRR and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from anxin.life.illustration import CSV_HEADER, illustrate, surrender_irr, to_csv
from anxin.life.product import Policy
from anxin.life.tables import Sex


def test_irr_of_a_single_premium_is_the_compound_rate() -> None:
    assert surrender_irr([100.0], 110.0) == pytest.approx(0.10, abs=1e-10)
    assert surrender_irr([100.0, 0.0, 0.0], 100.0 * 1.03**3) == pytest.approx(0.03, abs=1e-10)
    assert surrender_irr([100.0], 50.0) == pytest.approx(-0.5, abs=1e-10)
    assert surrender_irr([100.0], 0.0) is None


def test_irr_of_level_premiums_solves_the_accumulation() -> None:
    r = surrender_irr([1000.0] * 5, 5600.0)
    assert r is not None
    assert sum(1000.0 * (1 + r) ** (5 - k) for k in range(5)) == pytest.approx(5600.0)


def test_illustration_rows() -> None:
    policy = Policy(30, Sex.FEMALE, 10, Decimal("100000"), date(2025, 1, 1))
    rows = illustrate(policy, years=30)
    assert len(rows) == 30
    assert [r.policy_year for r in rows] == list(range(1, 31))
    assert rows[0].age == 30 and rows[-1].age == 59
    assert rows[0].premium == policy.gross_premium
    assert rows[9].cumulative_premium == policy.gross_premium * 10
    assert rows[10].premium == 0 and rows[10].cumulative_premium == rows[9].cumulative_premium
    assert rows[4].sum_assured == policy.effective_sum_assured(5)
    cash = [r.cash_value for r in rows]
    assert cash == sorted(cash)
    # the surrender return starts negative and turns positive as the cash value overtakes
    irr = [r.surrender_irr for r in rows]
    assert irr[0] is not None and irr[0] < 0
    assert irr[-1] is not None and 0 < irr[-1] < float(policy.pricing_rate)
    full = illustrate(policy)
    assert full[-1].age == 105


def test_csv_export() -> None:
    policy = Policy(40, Sex.MALE, 1, Decimal("50000"), date(2023, 3, 1))
    rows = illustrate(policy, years=5)
    text = to_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert tuple(parsed[0]) == CSV_HEADER
    assert len(parsed) == 6
    assert parsed[1][0] == "1" and Decimal(parsed[1][2]) == policy.gross_premium
