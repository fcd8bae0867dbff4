"""Collateral through the service path: re-valuing 12,000 clients' pledges after a price tick,
and crane readings through the real ingestion path (HTTP → iot → lift flow → movements).

Run: .venv/bin/python bench/collateral.py [--clients N] [--database-url URL] [--hours H]
Writes bench/results/collateral.json; docs/performance.md ("collateral") explains the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, insert, select, text

from anxin.bootstrap import prepare_database
from anxin.collateral import service
from anxin.collateral.models import (
    Commodity,
    Loan,
    Movement,
    PledgeRow,
    PriceMark,
    Receipt,
    StockOwner,
    StockPosition,
    Warehouse,
    WarehouseZone,
)
from anxin.collateral.schemas import PriceMarkIn
from anxin.core.clock import FrozenClock
from anxin.core.config import Settings
from anxin.core.context import AppContext
from anxin.core.events import InProcessBus
from anxin.domains import build_context
from anxin.people.models import Organisation, User

OUT = Path(__file__).parent / "results" / "collateral.json"
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
COMMODITIES = ("rebar", "steel_coil", "rubber", "aluminium_ingot")
PRICES = {
    "rebar": Decimal("3650.00"),
    "steel_coil": Decimal("4100.00"),
    "rubber": Decimal("14500.00"),
    "aluminium_ingot": Decimal("19200.00"),
}
TICK = Decimal("-0.08")


def _settings(url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=url,
        secret_key=SecretStr("bench-secret-key-long-enough-0123456789"),
    )


def _fresh_database(url: str | None) -> tuple[str, Any]:
    if url is None:
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return f"sqlite:///{path}", None
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"anxin_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False), (admin, name)


def _drop(handle: Any) -> None:
    if handle is None:
        return
    admin, name = handle
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def build_book(context: AppContext, clients: int, seed: int) -> dict[str, Any]:
    """12,000 traders, each with a loan from one bank and a pledge over 1–3 bays of one
    commodity; LTVs spread from 0.45 to 0.79 so that a −8 % tick pushes some over a line."""
    rng = random.Random(seed)
    # An empty bus: the opening valuation's events go nowhere.
    with context.unit(actor="bench", bus=InProcessBus()) as uow:
        session = uow.session
        service.ensure_commodities(session=session, now=NOW)
        commodity = {c.code: c.id for c in session.scalars(select(Commodity))}
        from anxin.people.models import OrganisationKind

        bank = Organisation(name="Bench Bank", kind=OrganisationKind.BANK, created_at=NOW)
        park = Organisation(name="Bench Park", kind=OrganisationKind.WAREHOUSE, created_at=NOW)
        session.add_all([bank, park])
        session.flush()
        from anxin.core.security import Role

        session.add(
            User(
                organisation_id=bank.id,
                username="bench-scf",
                display_name="SCF",
                role=Role.SCF_OFFICER,
                password_hash="!disabled",  # noqa: S106 - no login
                created_at=NOW,
            )
        )
        wh = Warehouse(organisation_id=park.id, code="BENCH", name="Bench", created_at=NOW)
        session.add(wh)
        session.flush()
        for code, price in PRICES.items():
            session.add(
                PriceMark(
                    commodity_id=commodity[code],
                    as_of=date(2026, 11, 28),
                    price=price,
                    source="bench",
                    created_at=NOW,
                )
            )
        owners, zones, positions, loans, pledges, receipts = [], [], [], [], [], []
        lines = 0
        for i in range(clients):
            oid, lid, pid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
            code = COMMODITIES[rng.randrange(4) if rng.random() < 0.4 else 0]
            owners.append({"id": oid, "name": f"Trader {i:05d}", "created_at": NOW})
            qty_total = 0
            for b in range(rng.choice((1, 2, 2, 3))):
                zid = str(uuid.uuid4())
                x = float(i % 1000) * 30
                y = float(i // 1000 * 10 + b) * 30
                zones.append(
                    {
                        "id": zid,
                        "warehouse_id": wh.id,
                        "code": f"Z{i:05d}-{b}",
                        "kind": "BAY",
                        "polygon": [[x, y], [x + 20, y], [x + 20, y + 20]],
                        "commodity_id": commodity[code],
                        "owner_id": oid,
                        "created_at": NOW,
                    }
                )
                kg = rng.randrange(50_000, 3_000_000, 10)
                qty_total += kg
                positions.append(
                    {
                        "id": str(uuid.uuid4()),
                        "warehouse_id": wh.id,
                        "zone_id": zid,
                        "commodity_id": commodity[code],
                        "owner_id": oid,
                        "quantity_kg": kg,
                        "updated_at": NOW,
                    }
                )
                receipts.append(
                    {
                        "id": str(uuid.uuid4()),
                        "number": f"WR-B-{i:05d}-{b}",
                        "warehouse_id": wh.id,
                        "zone_id": zid,
                        "commodity_id": commodity[code],
                        "owner_id": oid,
                        "quantity_kg": kg,
                        "status": "PLEDGED",
                        "pledge_id": pid,
                        "live_key": f"{wh.id}:{zid}:{commodity[code]}",
                        "ledger_seqs": [],
                        "issued_at": NOW,
                    }
                )
                lines += 1
            mv = Decimal(qty_total) / 1000 * PRICES[code]
            ltv = Decimal(rng.uniform(0.45, 0.79)).quantize(Decimal("0.0001"))
            amount = (mv * ltv).quantize(Decimal("0.01"))
            loans.append(
                {
                    "id": lid,
                    "lender_org_id": bank.id,
                    "borrower_id": oid,
                    "reference": f"B-{i:05d}",
                    "principal": amount,
                    "outstanding": amount,
                    "created_at": NOW,
                }
            )
            pledges.append(
                {
                    "id": pid,
                    "loan_id": lid,
                    "lender_org_id": bank.id,
                    "borrower_id": oid,
                    "warehouse_id": wh.id,
                    "commodity_id": commodity[code],
                    "haircut": Decimal("0.2500"),
                    "warning_ltv": Decimal("0.7500"),
                    "margin_call_ltv": Decimal("0.8000"),
                    "liquidation_ltv": Decimal("0.8500"),
                    "min_quantity_kg": qty_total // 2,
                    "state": "ACTIVE",
                    "status": "ok",
                    "quantity_kg": qty_total,
                    "below_minimum": False,
                    "created_at": NOW,
                }
            )
        for model, rows in (
            (StockOwner, owners),
            (WarehouseZone, zones),
            (StockPosition, positions),
            (Loan, loans),
            (PledgeRow, pledges),
            (Receipt, receipts),
        ):
            for start in range(0, len(rows), 2000):
                session.execute(insert(model), rows[start : start + 2000])
        # The first valuation (statuses as of yesterday's marks), not timed.
        service.revalue_pledges(uow=uow, pledge_ids=None, now=NOW, cause="bench-open")
    return {"clients": clients, "holding_lines": lines}


def time_price_tick(context: AppContext) -> dict[str, Any]:
    """One −8 % tick on every commodity through `add_price_marks` (the API's and the CSV
    command's path): store the marks, re-value every pledge, write the history, raise alarms."""
    marks = [
        PriceMarkIn(
            commodity=c,
            as_of=date(2026, 11, 29),
            price=(p * (1 + TICK)).quantize(Decimal("0.01")),
            source="bench",
        )
        for c, p in PRICES.items()
    ]
    from anxin.collateral import alarms
    from anxin.collateral.service import pledges

    # The tick raises its alarms in one `raise_alarms` call (issue 13); before that, one
    # `raise_for_pledge` per alarm. Time whichever this tree has.
    bulk = hasattr(pledges, "raise_alarms")
    owner, name = (pledges, "raise_alarms") if bulk else (alarms, "raise_for_pledge")
    raise_alarm = getattr(owner, name)
    spent = [0.0]

    def timed(**kw: Any) -> Any:
        a = time.perf_counter()
        try:
            return raise_alarm(**kw)
        finally:
            spent[0] += time.perf_counter() - a

    setattr(owner, name, timed)
    c0, t0 = time.process_time(), time.perf_counter()
    with context.unit(actor="bench", bus=InProcessBus()) as uow:
        t1 = time.perf_counter()
        report = service.add_price_marks(
            uow=uow, principal=None, marks=marks, now=NOW.replace(hour=3)
        )
        t2 = time.perf_counter()
    t3, c3 = time.perf_counter(), time.process_time()
    setattr(owner, name, raise_alarm)
    with context.db.session_scope() as session:
        statuses = dict(
            session.execute(select(PledgeRow.status, func.count()).group_by(PledgeRow.status)).all()
        )
        rows = {
            table: session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            for table in ("alarms", "alarm_events", "escalations", "notifications", "audit_log")
        }
    return {
        "seconds_total_with_commit": round(t3 - t0, 3),
        # This process's CPU time over the same span: on a shared machine, what the tick costs.
        "cpu_seconds_total_with_commit": round(c3 - c0, 3),
        "seconds_service": round(t2 - t1, 3),
        "seconds_raising_alarms": round(spent[0], 3),
        "seconds_revaluation_without_alarms": round(t2 - t1 - spent[0], 3),
        "valued": report.valued,
        "worsened": report.worsened,
        "alarms_raised": len(report.alarms),
        "alarm_path": name,
        "rows_written": rows,
        "statuses_after": {str(k): int(v) for k, v in statuses.items()},
        "pledges_per_s": round(report.valued / (t3 - t0), 1),
    }


def time_ingestion(url: str, hours: float) -> dict[str, Any]:
    """The busiest `hours` of cranesim's day (08:00 on) posted as the simulator does, through
    HTTP into iot and the lift flow; readings/s end to end, lifts and movements booked."""
    from fastapi.testclient import TestClient

    from anxin.app import create_app
    from anxin.collateral.cranesim import simulate_day
    from anxin.demo.seed import seed_demo
    from anxin.demo.warehouse import batches, post_batch

    tmp = Path(tempfile.mkdtemp())
    clock = FrozenClock(NOW)
    settings = _settings(url)
    app = create_app(
        settings.model_copy(update={"telemetry_rate_per_s": 1e6, "telemetry_burst": 1e6}),
        clock=clock,
    )
    context: AppContext = app.state.context
    db = context.db
    with context.unit(actor="bench") as uow:
        seed_demo(uow=uow, token_file=tmp / "tokens.json")
    tokens = json.loads((tmp / "demo-crane-tokens.json").read_text())
    sim = simulate_day(20261129, NOW.timestamp() - 86400 - 2 * 3600)
    window = (8 * 3600.0, (8 + hours) * 3600.0)
    shift = NOW.timestamp() - (sim.start + window[1])
    plan = batches(sim, window=window, shift=shift, batch_s=5.0)
    n = sum(len(b.readings) for b in plan)
    truth = [
        x
        for x in sim.truth
        if window[0] <= x.t_pick - sim.start and x.t_set - sim.start < window[1] - 60
    ]
    with TestClient(app) as client:
        t0 = time.perf_counter()
        for batch in plan:
            post_batch(client, tokens[batch.crane][batch.device_type], batch)
        elapsed = time.perf_counter() - t0
    with db.session_scope() as session:
        lifts = (
            session.scalar(
                select(func.count()).select_from(Movement).where(Movement.kind == "lift")
            )
            or 0
        )
    db.dispose()
    return {
        "hours_of_day": hours,
        "posts": len(plan),
        "readings": n,
        "seconds": round(elapsed, 2),
        "readings_per_s": round(n / elapsed, 1),
        "ms_per_post": round(elapsed / len(plan) * 1000, 2),
        "true_lifts_in_window": len(truth),
        "lift_movements_booked": int(lifts),
    }


def _profiled(path: Path | None, timed: Any, *args: Any) -> Any:
    """`timed(*args)`, under cProfile when `path` is given (its timings then include the
    profiler's overhead; compare them only with other profiled runs)."""
    if path is None:
        return timed(*args)
    import cProfile

    profiler = cProfile.Profile()
    try:
        return profiler.runcall(timed, *args)
    finally:
        profiler.dump_stats(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (else SQLite)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--tick-only", action="store_true", help="skip the crane ingestion")
    parser.add_argument(
        "--profile", type=Path, default=None, help="write the tick's cProfile stats here"
    )
    args = parser.parse_args()
    result: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_start": os.getloadavg(),
        },
    }
    url, handle = _fresh_database(args.database_url)
    try:
        prepare_database(_settings(url))
        context = build_context(_settings(url), clock=FrozenClock(NOW))
        t0 = time.perf_counter()
        result["book"] = build_book(context, args.clients, args.seed)
        result["book"]["seconds_to_build"] = round(time.perf_counter() - t0, 1)
        result["database"] = context.db.engine.dialect.name
        result["price_tick"] = _profiled(args.profile, time_price_tick, context)
        context.db.dispose()
        if not args.tick_only:
            url2, handle2 = _fresh_database(args.database_url)
            try:
                prepare_database(_settings(url2))
                result["ingestion"] = time_ingestion(url2, args.hours)
            finally:
                _drop(handle2)
    finally:
        _drop(handle)
    result["machine"]["load_avg_end"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = {}
    if args.out.exists():
        existing = json.loads(args.out.read_text())
    existing[result["database"]] = result
    args.out.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    main()
