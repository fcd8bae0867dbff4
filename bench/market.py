"""The market: forecasting throughput, and the order state machine end to end.

**Forecast** (`forecast.series_per_s`). Workload: N weekly demand series of 156 weeks (three
years, the demo's generator `anxin.demo.market.weekly_demand` with a seed and a base per
series: a slow trend, the yearly new-rice season, the Spring Festival weeks, 8 % noise). Each
series goes through the whole pipeline the market runs (`anxin.market.forecast.forecast`):
seasonal-naive, AutoETS and AutoARIMA (at m = 52 a harmonic regression on 3 Fourier pairs and
the festival indicator, with ARIMA errors) back-tested from 3 rolling origins 8 weeks apart
(MASE, sMAPE), the lowest-MASE model chosen and refitted on the whole history for an 8-week
forecast with 80 % and 95 % intervals, through `forecast.forecast_many` (what `anxin market
forecast --workers W` runs): W processes of one thread each (`--workers`, default 1).
`series_per_cpu_s` counts the CPU of the workers too, so it says what a series costs whatever
else shares the cores. N = 1,000 by default; `--quick` runs 10 (say so when quoting).

**Comparison.** The same series through a textbook seasonal AutoARIMA at m = 52 (statsforecast
`AutoARIMA(season_length=52)`, one fit per series, on the first `--peer` series): seconds per
fit and its MASE on the last 8 weeks, against the pipeline's chosen model on the same split.
This is why the pipeline uses Fourier terms past m = 24.

**Order state machine** (`orders.lifecycles_per_s`). Each order walks offer → acceptance
(contract) → two partial shipments (EPCIS shipping events captured through trace, anchored
in the ledger) → receipt (two receiving events) → quality acceptance (one passes, one fails
and opens a dispute with an alarm to the seller) → the seller proposes half off the failed
delivery and the buyer accepts (the dispute resolved, its alarm cleared) → payment (lending's
allocation, with an idempotency key) → settlement, through the services on a migrated SQLite
file with the demo seeded, each step its own unit of work as a request would be. M = 200 by
default, 20 with `--quick`.

Run: .venv/bin/python bench/market.py [--quick]   (writes bench/results/market.json)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr
from statsforecast.models import AutoARIMA

from anxin.app import create_app
from anxin.bootstrap import prepare_database
from anxin.core.config import Settings
from anxin.core.context import AppContext
from anxin.demo import market as demo_market
from anxin.demo.seed import seed_demo
from anxin.market import disputes, forecasting, service
from anxin.market import forecast as fc
from anxin.market.models import OrderStatus, Outcome, PaymentTerm
from anxin.market.schemas import (
    OrderCreate,
    PaymentCreate,
    ProposalCreate,
    SampleResult,
    ShipmentCreate,
)
from anxin.people import service as people
from machine import cpu_model  # bench/machine.py, beside this script

RESULTS = Path(__file__).resolve().parent / "results" / "market.json"
WEEKS = 156
HORIZON = 8
FOLDS = 3
SECRET = "bench-secret-" + "x" * 40
PASS = {"moisture_pct": 14.2, "broken_pct": 7.0, "impurity_pct": 0.2}
FAIL = {"moisture_pct": 14.2, "broken_pct": 13.0, "impurity_pct": 0.2}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def workload(n: int) -> list[forecasting.Weekly]:
    first = date(2023, 11, 27)
    out = []
    for i in range(n):
        rng = random.Random(1000 + i)
        region = "east" if i % 2 == 0 else "north"
        scale = rng.uniform(0.2, 5.0)
        values = [
            demo_market.weekly_demand(first + timedelta(weeks=w), region, rng) * scale
            for w in range(WEEKS)
        ]
        out.append(forecasting.Weekly(f"demand:s{i}:{region}", first, values))
    return out


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the forecast workers)."""
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def bench_forecast(series: list[forecasting.Weekly], workers: int) -> dict[str, Any]:
    chosen: dict[str, int] = {}
    beats = 0
    mase_chosen, mase_naive = [], []
    loads = [os.getloadavg()[0]]
    inputs = [forecasting.series_of(weekly, HORIZON) for weekly in series]
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    results = fc.forecast_many(inputs, horizon=HORIZON, folds=FOLDS, workers=workers)
    for k, result in enumerate(results, 1):
        assert not isinstance(result, ValueError), result
        chosen[result.chosen] = chosen.get(result.chosen, 0) + 1
        beats += result.beats_baseline()
        mase_chosen.append(result.backtest[result.chosen].mase)
        mase_naive.append(result.backtest[fc.BASELINE].mase)
        if k % 10 == 0:
            loads.append(os.getloadavg()[0])
            log(f"forecast: {k}/{len(series)} series, {k / (time.perf_counter() - t0):.3f}/s")
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    return {
        "series": len(series),
        "workers": workers,
        "weeks": WEEKS,
        "horizon": HORIZON,
        "folds": FOLDS,
        "seconds": round(elapsed, 1),
        "series_per_s": round(len(series) / elapsed, 4),
        "seconds_per_series": round(elapsed / len(series), 2),
        # CPU time of this process: what a series costs whatever else shares the cores.
        "cpu_seconds": round(cpu, 1),
        "series_per_cpu_s": round(len(series) / cpu, 4),
        "load_avg_1m": {
            "min": round(min(loads), 2),
            "max": round(max(loads), 2),
            "median": round(statistics.median(loads), 2),
        },
        "chosen": chosen,
        "chosen_beats_seasonal_naive": beats,
        "median_mase_chosen": round(statistics.median(mase_chosen), 3),
        "median_mase_seasonal_naive": round(statistics.median(mase_naive), 3),
    }


def bench_peer(series: list[forecasting.Weekly]) -> dict[str, Any]:
    """Textbook seasonal AutoARIMA at m = 52 against the pipeline's chosen model, same split."""
    rows = []
    for weekly in series:
        y = np.asarray(weekly.values)
        train, test = y[:-HORIZON], y[-HORIZON:]
        t0 = time.perf_counter()
        peer = AutoARIMA(season_length=52).forecast(y=train, h=HORIZON)["mean"]
        peer_s = time.perf_counter() - t0
        ours = forecasting.Weekly(weekly.key, weekly.start, list(train))
        t0 = time.perf_counter()
        result = fc.forecast(forecasting.series_of(ours, HORIZON), horizon=HORIZON, folds=FOLDS)
        ours_s = time.perf_counter() - t0
        m = 52
        rows.append(
            {
                "key": weekly.key,
                "seasonal_arima_fit_s": round(peer_s, 2),
                "seasonal_arima_mase": round(fc.mase(test, peer, train, m), 3),
                "pipeline_s": round(ours_s, 2),
                "pipeline_chosen": result.chosen,
                "pipeline_mase": round(fc.mase(test, np.asarray(result.mean), train, m), 3),
            }
        )
        log(f"peer: {rows[-1]}")
    return {"series": len(rows), "rows": rows}


def bench_orders(m: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="anxin-market-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'market.db'}"
        settings = Settings(environment="test", database_url=url, secret_key=SecretStr(SECRET))
        prepare_database(settings)
        app = create_app(settings)
        context: AppContext = app.state.context
        with context.unit(actor="bench") as uow:
            info = seed_demo(uow=uow)
            buyer = people.principal_of(
                people.get_user_by_username(session=uow.session, username="buyer")
            )
            coop = people.principal_of(
                people.get_user_by_username(session=uow.session, username="coop")
            )
            listing = service.get_listing(
                session=uow.session, principal=coop, listing_id=info.market.listing_id
            )
            listing.available_kg = listing.quantity_kg = Decimal(m * 10)
        times = []
        for i in range(m):
            t0 = time.perf_counter()
            walk(context, buyer, coop, info.market.listing_id, i)
            times.append(time.perf_counter() - t0)
        total = sum(times)
        return {
            "orders": m,
            "steps_per_order": 12,
            "seconds": round(total, 2),
            "lifecycles_per_s": round(m / total, 2),
            "median_ms_per_lifecycle": round(statistics.median(times) * 1000, 1),
        }


def walk(context: AppContext, buyer: Any, coop: Any, listing_id: str, i: int) -> None:
    data = OrderCreate(
        listing_id=listing_id,
        quantity_kg=Decimal("10.0"),
        payment_term=PaymentTerm.ON_DELIVERY,
        tolerances={},
    )
    with context.unit(actor="bench:buyer") as uow:
        order_id = service.place_order(uow=uow, principal=buyer, data=data).id
    with context.unit(actor="bench:coop") as uow:
        service.decide_offer(uow=uow, principal=coop, order_id=order_id, accept=True)
    for kg in ("6.0", "4.0"):
        with context.unit(actor="bench:coop") as uow:
            shipment = ShipmentCreate(quantity_kg=Decimal(kg))
            service.ship(uow=uow, principal=coop, order_id=order_id, data=shipment)
    for seq, values in ((1, PASS), (2, FAIL)):
        with context.unit(actor="bench:buyer") as uow:
            service.receive(uow=uow, principal=buyer, order_id=order_id, seq=seq)
        with context.unit(actor="bench:buyer") as uow:
            sample = SampleResult(values=values, lab="bench", sample_id=f"{i}-{seq}")
            service.accept_quality(
                uow=uow, principal=buyer, order_id=order_id, seq=seq, data=sample
            )
    # The failed 4 kg: the cooperative offers half off, the buyer accepts (15.20 of 30.40).
    with context.unit(actor="bench:coop") as uow:
        (dispute,) = service.disputes_of(uow.session, order_id)
        offer = ProposalCreate(outcome=Outcome.REDUCTION, percent=Decimal("50"))
        proposal = disputes.propose(
            uow=uow, principal=coop, order_id=order_id, dispute_id=dispute.id, data=offer
        )
    with context.unit(actor="bench:buyer") as uow:
        disputes.decide(uow=uow, principal=buyer, order_id=order_id, dispute_id=dispute.id,
                        proposal_id=proposal.id, accept=True)  # fmt: skip
    with context.unit(actor="bench:buyer") as uow:
        today = uow.now().astimezone(service.CST).date()
        key = f"bench-pay-{i}"
        payment = PaymentCreate(amount=Decimal("60.80"), paid_on=today, idempotency_key=key)
        service.pay(uow=uow, principal=buyer, order_id=order_id, data=payment)
        order = service.get_order(session=uow.session, principal=buyer, order_id=order_id)
        assert order.status == OrderStatus.SETTLED, order.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="10 series, 20 orders")
    parser.add_argument("--series", type=int)
    parser.add_argument("--orders", type=int)
    parser.add_argument("--peer", type=int, default=2, help="series for the seasonal-ARIMA peer")
    parser.add_argument("--workers", type=int, default=1, help="forecast processes (one a core)")
    args = parser.parse_args()
    n = args.series or (10 if args.quick else 1000)
    m = args.orders or (20 if args.quick else 200)
    series = workload(n)
    log(f"forecast: {n} series of {WEEKS} weeks")
    forecast = bench_forecast(series, args.workers)
    log(f"forecast: {forecast['series_per_s']} series/s")
    peer = bench_peer(series[: args.peer])
    log(f"orders: {m} lifecycles")
    orders = bench_orders(m)
    log(f"orders: {orders['lifecycles_per_s']} lifecycles/s")
    out = {
        "quick": args.quick,
        "machine": {
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            "note": "2 cores shared with other jobs: read load_avg_1m and series_per_cpu_s",
            "python": platform.python_version(),
            "statsforecast": metadata.version("statsforecast"),
        },
        "forecast": forecast,
        "seasonal_arima_peer": peer,
        "orders": orders,
    }
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    log(f"written {RESULTS}")


if __name__ == "__main__":
    main()
