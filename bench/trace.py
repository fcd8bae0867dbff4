"""Traceability benchmark: EPCIS capture throughput and the consumer's lookup at 10M units.

    .venv/bin/python bench/trace.py            # 100,000-event capture, 10,000,000 units
    .venv/bin/python bench/trace.py --quick    # 10,000 events, 100,000 units (a smoke test)

On SQLite (WAL) in one process, with the demo seeded (the Jinshan cooperative):

1. ``capture``: one EPCIS 2.0 document of N ObjectEvents (farm steps with inputs and
   quantities, each distinct) through ``anxin.trace.service.capture_document``, as the
   ``POST /epcis/capture`` route runs it: the whole document validated, every event's CBV
   event hash computed, events and their identifiers stored, every hash appended to the
   ledger, one commit. ``events_per_s`` is N over the wall time of that unit of work.
2. ``lookup``: the demo lot is given ``units`` serialised packages (bulk-inserted, as label
   runs would issue them); then random serials are looked up the way a consumer's scan does:
   ``GET /01/{gtin}/10/{lot}/21/{serial}?s=...`` through the ASGI app, which checks the
   label's Ed25519 signature, finds the unit, opens the lot's disclosed timeline from its
   commitments, verifies them and the ledger inclusion proof under the signed checkpoint,
   and renders the page. Latency percentiles in milliseconds.

Results go to bench/results/trace.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from anxin.app import create_app
from anxin.bootstrap import prepare_database
from anxin.core.config import Settings
from anxin.core.context import AppContext
from anxin.demo import trace as demo_trace
from anxin.demo.seed import seed_demo
from anxin.ledger.runtime import checkpoint_now
from anxin.people import service as people
from anxin.people.models import User
from anxin.trace import labels, service
from machine import cpu_model

RESULTS = Path(__file__).resolve().parent / "results" / "trace.json"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a throwaway database
IBM_FOOD_TRUST_S = 2.2  # IBM Food Trust's published trace time (mango, 2018)
TARGET_MS = 50


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def document(n: int) -> dict[str, Any]:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    steps = ("fertilising", "irrigating", "spraying")
    events = []
    for i in range(n):
        step = steps[i % 3]
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventTime": (start + timedelta(seconds=37 * i)).isoformat().replace("+00:00", "Z"),
            "eventTimeZoneOffset": "+08:00",
            "action": "OBSERVE",
            "bizStep": f"anxin:{step}",
            "quantityList": [{"epcClass": demo_trace.RICE, "quantity": i % 500 + 1, "uom": "KGM"}],
            "readPoint": {"id": demo_trace.PLOT_GLN},
            "bizLocation": {"id": demo_trace.FARM_GLN},
        }
        if step != "irrigating":
            event["anxin:input"] = {"product": f"input {i % 17}", "organic": True}
        events.append(event)
    return demo_trace.epcis_document(events, "2026-11-29T04:00:00Z")


def bench_capture(context: AppContext, n: int) -> dict[str, Any]:
    doc = document(n)
    with context.unit(actor="bench") as uow:
        farmer = uow.session.scalar(select(User).where(User.username == "farmer"))
        assert farmer is not None
        principal = people.principal_of(farmer)
    log(f"capture: {n} events")
    t0 = time.perf_counter()
    with context.unit(actor="bench") as uow:
        job = service.capture_document(uow=uow, principal=principal, document=doc)
        captured = job.captured
    elapsed = time.perf_counter() - t0
    assert captured == n, captured
    log(f"capture: {n / elapsed:,.0f} events/s")
    return {"events": n, "seconds": round(elapsed, 2), "events_per_s": round(n / elapsed)}


def fill_units(path: Path, lot_id: str, gtin: str, count: int) -> None:
    """Issue ``count`` serials to the demo lot in bulk (the unique index is the real one)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    start = 1_000
    issued = "2026-10-21 02:00:00.000000"
    batch = 200_000
    for lo in range(start, start + count, batch):
        hi = min(lo + batch, start + count)
        con.executemany(
            "INSERT INTO trace_units (id, lot_id, gtin, serial, issued_at, printed_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((str(uuid.uuid4()), lot_id, gtin, str(n), issued, issued) for n in range(lo, hi)),
        )
        con.commit()
        log(f"units: {hi - start:,}")
    con.execute("ANALYZE")
    con.commit()
    con.close()


def bench_lookup(client: TestClient, key: labels.BrandKey, count: int, n: int) -> dict[str, Any]:
    rng = random.Random(20)
    gtin, lot = demo_trace.RICE_GTIN, demo_trace.LOT
    times = []
    for i in range(n + 50):
        serial = str(rng.randrange(1_000, 1_000 + count))
        link = labels.digital_link("http://testserver", key, gtin, lot, serial)
        t0 = time.perf_counter()
        r = client.get(link.replace("http://testserver", "") + "&lang=en")
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, r.text[:300]
        assert 'data-code="valid"' in r.text and 'id="server-check" data-ok="true"' in r.text
        if i >= 50:  # the first requests warm the caches and the page cache
            times.append(elapsed)
    times.sort()

    def pct(p: float) -> float:
        return round(times[min(len(times) - 1, int(p * len(times)))], 2)

    result = {
        "units": count,
        "lookups": n,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(times), 2),
        "target_ms": TARGET_MS,
        "ibm_food_trust_s": IBM_FOOD_TRUST_S,
    }
    log(f"lookup: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms over {count:,} units")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--events", type=int)
    parser.add_argument("--units", type=int)
    parser.add_argument("--lookups", type=int, default=1000)
    args = parser.parse_args()
    events = args.events or (10_000 if args.quick else 100_000)
    units = args.units or (100_000 if args.quick else 10_000_000)
    with tempfile.TemporaryDirectory(prefix="anxin-trace-bench-") as tmp:
        path = Path(tmp) / "trace.db"
        url = f"sqlite:///{path}"
        settings = Settings(environment="test", database_url=url, secret_key=SecretStr(SECRET))
        prepare_database(settings)  # the schema and the reference data (device types)
        app = create_app(settings)
        context: AppContext = app.state.context
        with TestClient(app) as client:
            with context.unit(actor="bench") as uow:
                info = seed_demo(uow=uow).trace
            capture = bench_capture(context, events)
            fill_units(path, info.lot_id, demo_trace.RICE_GTIN, units)
            checkpoint_now(context)  # the disclosure's proof needs a checkpoint over it
            key = labels.brand_key(SECRET, info.organisation_id)
            lookup = bench_lookup(client, key, units, args.lookups)
        context.db.dispose()
    result = {
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 1),  # a shared box skews every figure
            "python": platform.python_version(),
            "db": "sqlite",
        },
        "run_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "capture": capture,
        "lookup": lookup,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
