"""Lease rent schedules at portfolio scale: 100,000 contracts.

Workload: 100,000 synthetic monthly equal-rent leases (seeded): financed 100,000-5,000,000
yuan, nominal rate 0-20 % in whole basis points, 12/24/36/48/60 rents, half in advance and
half in arrears, half with a 1 % buy-out price.

* schedules: every contract's full rent schedule (rent, interest and principal per payment,
  half up to the fen, the last payment taking the rest) by the shared core's bulk path,
  `anxin.lending.vectorised.lease_schedules` (numpy, interest in exact integer fen) —
  `schedules.contracts_per_s`;
* the Decimal engine (`anxin.leasing.finance.schedule` and both sides' accounts) on a sample,
  timed, and checked contract by contract against the bulk path.

Run: .venv/bin/python bench/leasing.py   (writes bench/results/leasing.json)
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

from anxin.leasing.finance import LeaseTerms, lessee_accounts, lessor_accounts, schedule
from anxin.lending.schedule import Timing
from anxin.lending.vectorised import lease_schedules
from machine import cpu_model  # bench/machine.py, beside this script

RESULTS = Path(__file__).resolve().parent / "results" / "leasing.json"
CONTRACTS = 100_000
DECIMAL_SAMPLE = 500
START = date(2026, 12, 1)


def book(seed: int = 16) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    financed = rng.integers(100_000_00, 5_000_000_00, CONTRACTS)
    rate = rng.integers(0, 2000, CONTRACTS)
    periods = rng.choice([12, 24, 36, 48, 60], CONTRACTS)
    residual = np.where(rng.random(CONTRACTS) < 0.5, 0, financed // 100)
    advance = rng.random(CONTRACTS) < 0.5
    return financed, rate, periods, residual, advance


def main() -> None:
    financed, rate, periods, residual, advance = book()
    began = time.perf_counter()
    bulk = lease_schedules(financed, rate, periods, residual, advance)
    bulk_s = time.perf_counter() - began
    assert (bulk.principal.sum(axis=1) == financed).all()

    sample = range(DECIMAL_SAMPLE)
    terms = [
        LeaseTerms(
            cost=Decimal(int(financed[i])) / 100,
            annual_rate=Decimal(int(rate[i])) / 10000,
            periods=int(periods[i]),
            start=START,
            residual=Decimal(int(residual[i])) / 100,
            timing=Timing.ADVANCE if advance[i] else Timing.ARREARS,
        )
        for i in sample
    ]
    began = time.perf_counter()
    plans = [schedule(t) for t in terms]
    decimal_s = time.perf_counter() - began
    began = time.perf_counter()
    for t, plan in zip(terms, plans, strict=True):
        lessor_accounts(t, plan)
        lessee_accounts(t, plan)
    accounts_s = time.perf_counter() - began
    level_differs = rows_differ = 0
    for i, plan in zip(sample, plans, strict=True):
        assert plan.level is not None
        if round(plan.level * 100) != int(bulk.instalment[i]):
            level_differs += 1
            continue
        interest = [round(r.interest * 100) for r in plan.instalments]
        rows_differ += interest != list(bulk.interest[i, : len(interest)])

    result = {
        "workload": {
            "contracts": CONTRACTS,
            "rents": "12/24/36/48/60 monthly, half in advance, half with a 1 % buy-out price",
        },
        "schedules": {
            "seconds": round(bulk_s, 3),
            "contracts_per_s": round(CONTRACTS / bulk_s),
            "payments": int(periods.sum() + (advance & (residual > 0)).sum()),
        },
        "decimal_engine": {
            "sample": DECIMAL_SAMPLE,
            "schedules_per_s": round(DECIMAL_SAMPLE / decimal_s),
            "accounts_per_s": round(DECIMAL_SAMPLE / accounts_s),
            "level_differs_by_a_fen": level_differs,
            "rows_differ_where_levels_agree": rows_differ,
        },
        "machine": {
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "note": "2 cores shared with other engineers' jobs; timings are noisy",
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
