"""The rule engine over a whole ingest batch judges each device as it would alone.

A consumer stores readings of many devices in one unit of work; the rules then load the rule
states and owner facts of the whole batch in one query each (`flows.prefetch`). These tests
feed the same readings to twin devices, one twin through a many-device batch and the other
one device at a time through the engine's own loading, and compare what fired and what was
remembered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from anxin.core.db import new_id
from anxin.core.events import Event, InProcessBus
from anxin.core.security import hash_device_token, new_device_token
from anxin.homecare.models import Household, HouseholdMode
from anxin.iot.ingest import ParsedReading
from anxin.iot.models import Device, DeviceRule, RuleState
from anxin.iot.rules import book, flows
from anxin.iot.service import DeviceBatch, store_batch

TYPES = ("mmwave_radar", "door_sensor", "sleep_mat", "smart_speaker")
# Readings that raise nothing, so that only the rules' own queries run.
QUIET: dict[str, dict[str, Any]] = {
    "mmwave_radar": {"fall": False, "motion": True, "presence": True, "zone": "living_room"},
    "door_sensor": {"open": False, "tamper": False},
    "sleep_mat": {"in_bed": True, "heart_rate": 60},
    "smart_speaker": {"sos": False},
}


@dataclass(frozen=True)
class Twin:
    index: int
    device_type: str
    batched: str  # device id ingested in many-device batches
    alone: str  # device id evaluated one at a time


def _device(org: str, device_type: str, household: str, name: str, now: Any) -> Device:
    return Device(
        id=new_id(),
        organisation_id=org,
        device_type=device_type,
        name=name,
        owner_kind="household",
        owner_id=household,
        token_hash=hash_device_token(new_device_token()),
        attributes={},
        created_at=now,
    )


def make_twins(context, demo, clock, count: int, rnd: random.Random) -> list[Twin]:
    twins: list[Twin] = []
    with context.unit(actor="test:twins") as uow:
        session = uow.session
        for i in range(count):
            home = Household(
                organisation_id=demo.organisation_id,
                name=f"twin household {i}",
                address="test",
                mode=rnd.choice([HouseholdMode.HOME, HouseholdMode.AWAY]),
                created_at=clock.now(),
            )
            session.add(home)
            session.flush()
            device_type = TYPES[i % len(TYPES)]
            a = _device(demo.organisation_id, device_type, home.id, f"a{i}", clock.now())
            b = _device(demo.organisation_id, device_type, home.id, f"b{i}", clock.now())
            session.add_all([a, b])
            session.flush()
            twins.append(Twin(i, device_type, a.id, b.id))
    return twins


def random_values(device_type: str, rnd: random.Random) -> dict[str, Any]:
    if device_type == "mmwave_radar":
        return {
            "fall": rnd.random() < 0.3,
            "motion": rnd.random() < 0.5,
            "presence": True,
            "zone": rnd.choice(["bathroom", "living_room"]),
        }
    if device_type == "door_sensor":
        return {"open": rnd.random() < 0.5, "tamper": rnd.random() < 0.2}
    if device_type == "sleep_mat":
        return {"in_bed": rnd.random() < 0.5, "heart_rate": rnd.randint(50, 90)}
    return {"sos": rnd.random() < 0.2}


def quiet_batches(session, twins: list[Twin], now: Any) -> list[DeviceBatch]:
    """One reading that raises nothing from each batched twin."""
    return [
        DeviceBatch(
            session.get(Device, t.batched), [ParsedReading(0, "m1", now, QUIET[t.device_type])], []
        )
        for t in twins
    ]


def fired_by_twin(bus: InProcessBus, twins: list[Twin]) -> dict[tuple[int, str], list[tuple]]:
    """Collects, per (twin index, side), the rule events in the order they fired."""
    side = {t.batched: (t.index, "batched") for t in twins} | {
        t.alone: (t.index, "alone") for t in twins
    }
    fired: dict[tuple[int, str], list[tuple]] = {}

    def record(_uow, event: Event) -> None:
        key = side.get(event.payload["device"]["id"])
        if key is not None:
            p = event.payload
            fired.setdefault(key, []).append((p["alarm_type"], p["action"], p["severity"]))

    bus.subscribe("iot.rule.*", record)
    return fired


def states_of(db, device_id: str) -> dict[str, tuple]:
    with db.session_scope() as session:
        rows = session.scalars(select(RuleState).where(RuleState.device_id == device_id))
        return {r.rule_name: (r.state, r.due_at) for r in rows}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_fires_and_remembers_what_each_device_alone_would(context, db, demo, clock, seed):
    rnd = random.Random(seed)
    bus = context.bus
    twins = make_twins(context, demo, clock, 16, rnd)
    # One radar pair has the fall rule switched off for its devices only.
    quiet = next(t for t in twins if t.device_type == "mmwave_radar")
    with context.unit(actor="test:rules") as uow:
        for device_id in (quiet.batched, quiet.alone):
            uow.session.add(
                DeviceRule(
                    organisation_id=demo.organisation_id,
                    device_type="mmwave_radar",
                    device_id=device_id,
                    name="radar.fall",
                    spec={"kind": "event", "conditions": [{"key": "fall", "value": True}]},
                    enabled=False,
                    valid=True,
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )
    book.invalidate_rules()
    fired = fired_by_twin(bus, twins)

    for round_no in range(8):
        # Mostly a few seconds apart; once past the 30-minute bathroom deadline.
        clock.advance(timedelta(minutes=31) if round_no == 5 else timedelta(seconds=7))
        now = clock.now()
        values = {t.index: random_values(t.device_type, rnd) for t in twins}
        if round_no == 0:
            for t in twins:
                if t.device_type == "mmwave_radar":
                    values[t.index]["fall"] = True

        def reading(t: Twin) -> list[ParsedReading]:
            return [ParsedReading(0, f"r{round_no}", now, values[t.index])]  # noqa: B023

        with context.unit(actor="test:batched") as uow:
            session = uow.session
            batches = [DeviceBatch(session.get(Device, t.batched), reading(t), []) for t in twins]
            rnd.shuffle(batches)  # arrival order is not device order
            store_batch(uow=uow, batches=batches, now=now)
        for t in twins:
            with context.unit(actor="test:alone") as uow:
                device = uow.session.get(Device, t.alone)
                flows.evaluate_readings(
                    uow=uow,
                    device=device,
                    samples=flows.samples_of(
                        {"readings": [{"ts": now.isoformat(), "values": values[t.index]}]}
                    ),
                    now=now,
                )

    for t in twins:
        assert fired.get((t.index, "batched"), []) == fired.get((t.index, "alone"), []), t
        assert states_of(db, t.batched) == states_of(db, t.alone), t
    falls = [k for k, v in fired.items() if any(f[0] == "fall" for f in v)]
    assert falls, "the scenario raised no fall at all"
    assert (quiet.index, "batched") not in falls
    assert any(k[1] == "batched" for k in fired if k[0] != quiet.index)


def test_a_batch_costs_one_query_for_states_and_one_for_households(context, db, demo, clock):
    twins = make_twins(context, demo, clock, 40, random.Random(7))
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    now = clock.now()

    def ingest(batches_of) -> None:
        with context.unit(actor="test:batch") as uow:
            batches = batches_of(uow.session)
            sa_event.listen(db.engine, "before_cursor_execute", count)
            try:
                store_batch(uow=uow, batches=batches, now=now)
                uow.session.flush()
            finally:
                sa_event.remove(db.engine, "before_cursor_execute", count)

    ingest(lambda session: quiet_batches(session, twins, now))

    def selects_from(table: str) -> int:
        return sum(
            1
            for s in statements
            if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s
        )

    assert selects_from("rule_state") == 1
    # Only the door sensors' intrusion rule asks for the household's mode.
    assert selects_from("households") == 1
    # Cold devices get their first rule states: written set-based, one statement for all.
    writes = [s for s in statements if "rule_state" in s and not s.lstrip().startswith("SELECT")]
    assert len(writes) == 1 and writes[0].lstrip().startswith("INSERT"), writes

    # The next batch moves only the newest reading time: nothing is rewritten; a batch that
    # changes states (the doors open) writes them in one statement again.
    for values in (QUIET, {**QUIET, "door_sensor": {"open": True, "tamper": False}}):
        clock.advance(timedelta(seconds=5))
        now = clock.now()
        statements.clear()
        ingest(
            lambda session, values=values, now=now: [
                DeviceBatch(
                    session.get(Device, t.batched),
                    [ParsedReading(0, f"m{now.timestamp()}", now, values[t.device_type])],
                    [],
                )
                for t in twins
            ]
        )
        writes = [s for s in statements if "rule_state" in s and "SELECT" not in s[:10]]
        assert len(writes) == (0 if values is QUIET else 1), writes


def test_preparers_see_their_events_before_any_handler():
    bus = InProcessBus()
    log: list[str] = []
    bus.prepare("iot.telemetry.*", lambda _s, events: log.append(f"prepare {len(events)}"))
    bus.prepare("never.*", lambda _s, events: log.append("never"))
    bus.subscribe("iot.telemetry.*", lambda _s, e: log.append(f"handle {e.payload['n']}"))
    events = [Event("iot.telemetry.radar", {"n": n}, occurred_at=None) for n in range(3)]  # type: ignore[arg-type]
    events.insert(1, Event("other.subject", {"n": 9}, occurred_at=None))  # type: ignore[arg-type]
    bus.publish_many(None, events)  # type: ignore[arg-type]
    assert log == ["prepare 3", "handle 0", "handle 1", "handle 2"]


def test_a_sweep_pass_fires_everything_due_in_small_units_of_work(context, db, demo, clock):
    twins = make_twins(context, demo, clock, 10, random.Random(3))
    radars = [t.batched for t in twins if t.device_type == "mmwave_radar"]
    now = clock.now()
    with context.unit(actor="test:batch") as uow:
        batches = quiet_batches(uow.session, twins, now)
        store_batch(uow=uow, batches=batches, now=now)
    offline = fired_by_twin(context.bus, twins)
    clock.advance(timedelta(minutes=6))  # radars go silent after 5 minutes, the others later
    commits: list[int] = []

    def count(_conn) -> None:
        commits.append(1)

    sweeper = flows.Sweeper(context, unit=1)
    sa_event.listen(db.engine, "commit", count)
    try:
        fired = sweeper.run_once()
    finally:
        sa_event.remove(db.engine, "commit", count)
    assert fired == len(radars) == 3
    assert {t.index for t in twins if (t.index, "batched") in offline} == {
        t.index for t in twins if t.device_type == "mmwave_radar"
    }
    # One timer per unit, and a last unit that found nothing more due.
    assert len(commits) == len(radars) + 1


def test_a_batch_hands_its_rule_events_over_together(context, db, demo, clock, monkeypatch):
    """What fires across an ingest batch reaches the bus in one `publish_many`, so homecare
    raises the batch's falls in one `raise_alarms`."""
    from anxin.alerts import service as alerts

    twins = make_twins(context, demo, clock, 16, random.Random(5))
    radars = {t.batched for t in twins if t.device_type == "mmwave_radar"}
    prepared: list[list[str]] = []
    context.bus.prepare(
        "iot.rule.*",
        lambda _uow, events: prepared.append([e.payload["device"]["id"] for e in events]),
    )
    raised: list[int] = []
    real = alerts.raise_alarms

    def spy(**kw: Any) -> list[str]:
        raised.append(len(kw["requests"]))
        return real(**kw)

    monkeypatch.setattr("anxin.alerts.service.bulk.raise_alarms", spy)
    now = clock.now()
    with context.unit(actor="test:batched") as uow:
        session = uow.session
        batches = [
            DeviceBatch(
                session.get(Device, t.batched),
                [
                    ParsedReading(0, "f1", now, QUIET[t.device_type] | {"fall": True})
                    if t.batched in radars
                    else ParsedReading(0, "q1", now, QUIET[t.device_type])
                ],
                [],
            )
            for t in twins
        ]
        store_batch(uow=uow, batches=batches, now=now)
    assert len(prepared) == 1 and sorted(prepared[0]) == sorted(radars)
    assert raised == [len(radars)]
