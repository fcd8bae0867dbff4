"""The numpy bulk path agrees with the Decimal engine, loan by loan, to the fen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np

from anxin.lending.rates import reg_z_apr
from anxin.lending.schedule import CashFlow, Terms, add_months, build
from anxin.lending.vectorised import annuity_rates, annuity_schedules

START = date(2024, 1, 31)


def test_schedules_match_the_decimal_engine_on_a_sample() -> None:
    rng = np.random.default_rng(15)
    count = 300
    principal = rng.integers(100_000, 50_000_000, count)  # fen: 1,000 to 500,000 yuan
    bp = rng.integers(0, 3600, count)
    periods = rng.integers(1, 61, count)
    bulk = annuity_schedules(principal, bp, periods)
    for i in range(count):
        terms = Terms(
            Decimal(int(principal[i])) / 100, Decimal(int(bp[i])) / 10000, int(periods[i]), START
        )
        rows = build(terms).instalments
        n = len(rows)
        fen = [int(r.interest * 100) for r in rows]
        assert bulk.interest[i, :n].tolist() == fen, i
        assert bulk.principal[i, :n].tolist() == [int(r.principal * 100) for r in rows], i
        assert not bulk.interest[i, n:].any()
    assert (bulk.principal.sum(axis=1) == principal).all()


def test_the_fineract_case_in_bulk() -> None:
    bulk = annuity_schedules(np.array([500_000]), np.array([1200]), np.array([18]))
    assert bulk.instalment.tolist() == [30491]
    assert bulk.total_interest.tolist() == [48841]


def test_bulk_rates_match_the_scalar_solver() -> None:
    advance = np.array([5000.0, 9800.0, 100_000.0, 1000.0])
    payment = np.array([230.0, 888.49, 1000.0, 1000.0])
    periods = np.array([24, 12, 360, 2])
    bulk = annuity_rates(advance, payment, periods)
    for i in range(len(advance)):
        pays = [
            CashFlow(add_months(START, k + 1), Decimal(repr(float(payment[i]))))
            for k in range(int(periods[i]))
        ]
        scalar = reg_z_apr([CashFlow(START, Decimal(repr(float(advance[i]))))], pays)
        assert abs(12 * bulk[i] - scalar) < 1e-9
