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


def test_lease_schedules_match_the_decimal_engine() -> None:
    """The bulk lease path (rent in advance or arrears, a residual) against `schedule.build`,
    contract by contract; the level may differ by a fen only where float error meets a half
    fen, so the rows are compared where the levels agree."""
    # imported here so that this test stays one block beside the loan tests
    from anxin.lending.schedule import Timing
    from anxin.lending.vectorised import lease_schedules

    rng = np.random.default_rng(16)
    count = 300
    principal = rng.integers(100_000_00, 5_000_000_00, count)
    rate = rng.integers(0, 2000, count)
    periods = rng.choice([12, 24, 36, 60], count)
    residual = np.where(rng.random(count) < 0.5, 0, principal // 100)
    advance = rng.random(count) < 0.5
    bulk = lease_schedules(principal, rate, periods, residual, advance)
    agreed = 0
    for i in range(count):
        plan = build(
            Terms(
                principal=Decimal(int(principal[i])) / 100,
                annual_rate=Decimal(int(rate[i])) / 10000,
                periods=int(periods[i]),
                start=date(2026, 1, 1),
                timing=Timing.ADVANCE if advance[i] else Timing.ARREARS,
                balloon=Decimal(int(residual[i])) / 100,
            )
        )
        assert plan.level is not None
        if int(plan.level * 100) != int(bulk.instalment[i]):
            assert abs(int(plan.level * 100) - int(bulk.instalment[i])) <= 1
            continue
        agreed += 1
        rows = plan.instalments
        assert [int(x.interest * 100) for x in rows] == list(bulk.interest[i, : len(rows)])
        assert [int(x.principal * 100) for x in rows] == list(bulk.principal[i, : len(rows)])
        assert bulk.principal[i].sum() == principal[i]
    assert agreed >= count * 0.95
