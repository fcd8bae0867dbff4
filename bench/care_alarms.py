"""Care alarms from a batch of rule events: one at a time against one `raise_alarms` per batch.

    .venv/bin/python bench/care_alarms.py [--events 500] [--rounds 3] [--database-url URL]

The demo seeded on a fresh database (SQLite by default), then `--events` falls of distinct
radars in the demo household, as the rule engine hands an ingest batch over: through
homecare's handler alone, event by event (`raise_alarm` per alarm, as before issue 13's third
pass and as a JetStream consumer still delivers them), and through the bus preparer
(`homecare.flows.RULE_EVENTS.prepare`: one `raise_alarms`). The two run by turns, `--rounds` times,
in one process, each in its own unit of work with its commit, so that both see the same load
on a shared machine. Writes bench/results/care_alarms.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from anxin.bootstrap import prepare_database
from anxin.core.clock import FrozenClock
from anxin.core.config import Settings
from anxin.core.context import AppContext
from anxin.core.events import Event, InProcessBus
from anxin.homecare import flows

RESULTS = Path(__file__).resolve().parent / "results" / "care_alarms.json"
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def fall(prefix: str, i: int, demo: Any) -> Event:
    return Event(
        subject="iot.rule.fall",
        occurred_at=NOW,
        payload={
            "action": "raise",
            "rule": "radar.fall",
            "alarm_type": "fall",
            "severity": "major",
            "fired_at": NOW.isoformat(),
            "details": {"zone": "bathroom"},
            "organisation_id": demo.organisation_id,
            "device": {"id": f"{prefix}-{i}", "type": "mmwave_radar", "name": f"radar {i}"},
            "owner": {"kind": "household", "id": demo.household_id},
        },
    )


def timed(context: AppContext, demo: Any, events: int, batched: bool) -> dict[str, Any]:
    bus = InProcessBus()
    if batched:
        bus.prepare("iot.rule.*", flows.RULE_EVENTS.prepare)
    bus.subscribe("iot.rule.*", flows.RULE_EVENTS.handle)
    batch = [fall(uuid.uuid4().hex[:12], i, demo) for i in range(events)]
    t0, c0 = time.perf_counter(), time.process_time()
    with context.unit(actor="bench", bus=bus) as uow:
        if batched:
            uow.publish_many(batch)
        else:
            for event in batch:
                uow.publish(event)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "path": "raise_alarms per batch" if batched else "raise_alarm per event",
        "alarms": events,
        "seconds_with_commit": round(wall, 3),
        "ms_per_alarm": round(wall / events * 1e3, 3),
        "cpu_ms_per_alarm": round(cpu / events * 1e3, 3),
        "load_average_1min": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from anxin.app import create_app
    from anxin.demo.seed import seed_demo

    tmp = Path(tempfile.mkdtemp(prefix="anxin-care-alarms-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(
        environment="test",
        database_url=url,
        secret_key=SecretStr("bench-secret-key-long-enough-0123456789"),
    )
    prepare_database(settings)
    app = create_app(settings, clock=FrozenClock(NOW))
    context: AppContext = app.state.context
    with context.unit(actor="bench") as uow:
        demo = seed_demo(uow=uow, token_file=tmp / "tokens.json")
    load_before = os.getloadavg()
    runs = []
    for _ in range(args.rounds):
        for batched in (False, True):
            runs.append(timed(context, demo, args.events, batched))
            print(json.dumps(runs[-1]), flush=True)

    def best(batched: bool) -> float:
        path = "raise_alarms per batch" if batched else "raise_alarm per event"
        return float(min(r["ms_per_alarm"] for r in runs if r["path"] == path))

    result = {
        "benchmark": "bench/care_alarms.py",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": context.db.engine.dialect.name,
        "events_per_batch": args.events,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "runs": runs,
        "summary": {
            "ms_per_alarm_one_at_a_time_best": best(False),
            "ms_per_alarm_batched_best": best(True),
            "speed_up": round(best(False) / best(True), 1),
        },
    }
    context.db.dispose()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
