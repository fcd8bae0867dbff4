"""anxin's life engine side by side with lifelib, timed in one run.

Workload 1: lifelib's BasicTerm_M (basiclife library) with its 10,000 sample model points,
monthly projection of level-term policies to the present value of net cash flow. Both
engines read the same inputs (taken from the lifelib model once it is loaded); the
numbers must agree point by point (relative error < 1e-9) before any time is reported.

Workload 2: lifelib's stochastic savings example CashValue_ME_EX1 (savings library): one
single-premium model point with a maturity guarantee max(sum assured, account value), 10,000
lognormal return scenarios from lifelib's own seeded normals, monthly, PV of net cash flow per
scenario; anxin.life.savings on the same inputs, scenario by scenario (relative error < 1e-9).

Workload 3: reserves and cash values of 1,000,000 synthetic increasing whole-life
policies (anxin only; lifelib has no such product).

Run:  .venv/bin/python bench/life_vs_lifelib.py   (writes bench/results/life.json)
Needs the dev extra (lifelib, modelx, pandas); without openpyxl the Excel inputs are read by
tests/life/basic_term_inputs.py instead of modelx (same numbers, checked by a test).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.life helpers

from anxin.life import portfolio
from anxin.life.level_term import TermAssumptions, project
from machine import cpu_model  # bench/machine.py, beside this script

RESULTS = Path(__file__).resolve().parent / "results" / "life.json"
REPEATS = 5
SAVINGS_REPEATS = 3  # lifelib takes tens of seconds per run of the savings example


def machine() -> dict[str, object]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "note": "2 cores shared with other engineers' jobs; timings are noisy",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "lifelib": metadata.version("lifelib"),
        "modelx": metadata.version("modelx"),
    }


def main() -> None:
    import lifelib
    import modelx as mx

    with tempfile.TemporaryDirectory() as tmp:
        lifelib.create("basiclife", str(Path(tmp) / "basiclife"))
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = mx.read_model(str(Path(tmp) / "basiclife" / "BasicTerm_M"))
        proj = model.Projection
        if proj.model_point_table is None:
            from tests.life import basic_term_inputs

            points, mort, disc = basic_term_inputs.load(Path(tmp) / "basiclife" / "BasicTerm_M")
            proj.model_point_table, proj.mort_table, proj.disc_rate_ann = points, mort, disc
        load_s = time.perf_counter() - started

        # lifelib: first run, then repeats after clearing modelx's cache
        lifelib_runs = []
        for _ in range(REPEATS):
            model.clear_all()
            started = time.perf_counter()
            theirs = np.asarray(proj.pv_net_cf(), dtype=np.float64)
            lifelib_runs.append(time.perf_counter() - started)

        points = proj.model_point_table
        mort = proj.mort_table
        basis = TermAssumptions(
            mort_table=mort.to_numpy(dtype=np.float64),
            min_age=int(mort.index[0]),
            disc_rate_ann=proj.disc_rate_ann.to_numpy(dtype=np.float64),
        )
        args = (
            points["age_at_entry"].to_numpy(np.int64),
            points["policy_term"].to_numpy(np.int64),
            points["sum_assured"].to_numpy(np.float64),
        )
        anxin_runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            ours = project(*args, basis)
            anxin_runs.append(time.perf_counter() - started)
        model.close()

    rel = np.abs(ours.pv_net_cf - theirs) / np.abs(theirs)
    if rel.max() >= 1e-9:
        raise SystemExit(f"results disagree: max relative error {rel.max():.3e}")

    savings = savings_me_ex1()

    book = portfolio.synthetic(1_000_000)
    wl_runs = []
    for _ in range(3):
        started = time.perf_counter()
        valued = portfolio.value(book)
        wl_runs.append(time.perf_counter() - started)

    result = {
        "machine": machine(),
        "basic_term_m": {
            "workload": "lifelib basiclife BasicTerm_M, 10,000 model points, monthly "
            "projection up to 241 months, PV of net cash flow per point",
            "comparison": "same inputs for both; lifelib timed after model.clear_all(), "
            "model load (Excel inputs) excluded and reported separately",
            "lifelib_model_load_s": round(load_s, 4),
            "lifelib_first_s": round(lifelib_runs[0], 4),
            "lifelib_median_s": round(statistics.median(lifelib_runs), 4),
            "anxin_first_s": round(anxin_runs[0], 4),
            "anxin_median_s": round(statistics.median(anxin_runs), 4),
            "speedup_median": round(
                statistics.median(lifelib_runs) / statistics.median(anxin_runs), 1
            ),
            "speedup_first_run": round(lifelib_runs[0] / anxin_runs[0], 1),
            "max_relative_error": float(rel.max()),
            "points": int(rel.size),
        },
        "savings_me_ex1": savings,
        "increasing_whole_life_portfolio": {
            "workload": "1,000,000 synthetic policies (sex, issue age 0-65, premium term "
            "1/3/5/10/20, issued 2022-01-01..2025-12-31 on the dated pricing rates), "
            "net-premium reserve and cash value at 2025-12-31",
            "anxin_first_s": round(wl_runs[0], 4),
            "anxin_median_s": round(statistics.median(wl_runs), 4),
            "total_reserve_yuan": str(valued.total_reserve),
            "total_cash_value_yuan": str(valued.total_cash_value),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


def savings_me_ex1() -> dict[str, object]:
    """lifelib CashValue_ME_EX1 at its own 10,000 scenarios against anxin.life.savings."""
    import lifelib
    import modelx as mx
    from tests.life.savings_inputs import ex1_inputs

    from anxin.life.savings import pv_net_cash_flow

    with tempfile.TemporaryDirectory() as tmp:
        lifelib.create("savings", str(Path(tmp) / "savings"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = mx.read_model(str(Path(tmp) / "savings" / "CashValue_ME_EX1"))
        proj = model.Projection
        lifelib_runs = []
        for _ in range(SAVINGS_REPEATS):
            model.clear_all()
            started = time.perf_counter()
            theirs = np.asarray(proj.pv_net_cf(), dtype=np.float64)
            lifelib_runs.append(time.perf_counter() - started)
        points, basis, discount = ex1_inputs(proj)
        scenarios = int(proj.scen_size)
        model.close()
    anxin_runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        ours = pv_net_cash_flow(points, basis, discount)
        anxin_runs.append(time.perf_counter() - started)
    rel = np.abs(ours - theirs) / np.abs(theirs)
    if rel.max() >= 1e-9:
        raise SystemExit(f"savings results disagree: max relative error {rel.max():.3e}")
    return {
        "workload": "lifelib savings CashValue_ME_EX1: 1 model point x "
        f"{scenarios:,} return scenarios (lifelib's seeded normals), monthly to 121 months, "
        "PV of net cash flow per scenario",
        "comparison": "same inputs and scenarios; lifelib timed after model.clear_all(), "
        "input preparation for anxin excluded",
        "lifelib_median_s": round(statistics.median(lifelib_runs), 4),
        "anxin_median_s": round(statistics.median(anxin_runs), 5),
        "speedup_median": round(statistics.median(lifelib_runs) / statistics.median(anxin_runs), 1),
        "max_relative_error": float(rel.max()),
        "mean_pv_net_cf_lifelib": float(theirs.mean()),
        "mean_pv_net_cf_anxin": float(ours.mean()),
        "scenarios": scenarios,
    }


if __name__ == "__main__":
    main()
