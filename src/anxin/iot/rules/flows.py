"""The rule engine at work: telemetry in, rule events out, timers kept in the database.

`on_telemetry` runs inside the ingesting transaction (in-process bus), so a fall reading and the
rule event it causes (and, downstream, the alarm and its notifications) commit together. State
per (device, rule) lives in `rule_state`; `sweep` fires what fell due while nobody reported:
a for-duration deadline, an absence (device offline) or the end of a corroboration window.

`iot` must not import the domains that own devices, yet some rules need their facts (the
household's away mode). Owners declare a context provider with their owner kind
(`core.owners`); a rule asks for it with a ``ctx.<name>`` key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import ARRAY, String, Table, Text, any_, bindparam, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from anxin.core.context import AppContext
from anxin.core.db import insert_unnest
from anxin.core.events import Event
from anxin.core.unit import Slot, UnitOfWork
from anxin.core.workers import PeriodicWorker
from anxin.iot.models import Device, RuleState
from anxin.iot.rules import engine
from anxin.iot.rules.book import DeviceFacts, active_rules

log = logging.getLogger(__name__)

RULE_SUBJECT = "iot.rule.{alarm_type}"
OFFLINE_ALARM = "device_offline"

# ---------------------------------------------------------------------------------------------
# Evaluation


# The stored rule states of one device, by rule name.
StoredStates = dict[str, engine.RuleState]

PREFETCH_CHUNK = 2000  # ids per IN (...) list (SQLite)
# Distinct stored states kept parsed. A quiet reading leaves its state's stored text as it was
# (`_material`), so a consumer reads the same texts unit after unit: 2 rules x 10,000 devices.
PARSED_STATES = 20_000


@lru_cache(maxsize=PARSED_STATES)
def _parsed(text: str) -> engine.RuleState:
    """A stored state's text, parsed. Shared by every reader of the same text: the engine
    makes new states (and new `values` dicts) and never changes one in place."""
    return engine.RuleState.from_json(json.loads(text))


def _read_states(session: Session, device_ids: Sequence[str]) -> dict[str, StoredStates]:
    """The rule states of `device_ids`, locked in (device, rule) order.

    Read as plain rows, not ORM objects: they are written back set-based (`_write_states`),
    so nothing may sit in the session's identity map to be flushed or go stale. The state is
    read as its text (psycopg would decode every document, and most are parsed already) and
    PostgreSQL takes the ids as one array, where an IN list of thousands of parameters costs
    the driver more to send than the server to run.
    """
    table = cast(Table, RuleState.__table__)
    states: dict[str, StoredStates] = {device_id: {} for device_id in device_ids}
    ordered = sorted(device_ids)
    columns = select(table.c.device_id, table.c.rule_name, sa_cast(table.c.state, Text))
    if session.get_bind().dialect.name == "postgresql":
        wanted = table.c.device_id == any_(sa_cast(bindparam("ids", ordered), ARRAY(String)))
        chunks = [wanted]
    else:
        chunks = [
            table.c.device_id.in_(ordered[start : start + PREFETCH_CHUNK])
            for start in range(0, len(ordered), PREFETCH_CHUNK)
        ]
    for where in chunks:
        rows = session.execute(
            columns.where(where).order_by(table.c.device_id, table.c.rule_name).with_for_update()
        ).all()
        for device_id, rule_name, text in rows:
            states[device_id][rule_name] = _parsed(text)
    return states


@dataclass
class _Prefetched:
    """What the rules of one ingest batch need, loaded in a few queries for all its devices.

    Valid only for the events it was loaded for. The states are kept up to date as the events
    are judged (a device with two events in a batch sees its first event's outcome), and the
    changed ones are written in one statement when the batch's last event has been judged.
    """

    events: set[str]
    states: dict[str, StoredStates]
    contexts: dict[tuple[str, str], dict[str, Any]]


_PREFETCHED: Slot[_Prefetched | None] = Slot("iot.rules.prefetched", lambda: None)
# Rule-state rows changed in this unit and not yet written: (device, rule) -> row values.
_PENDING: Slot[dict[tuple[str, str], dict[str, Any]]] = Slot("iot.rules.pending", dict)


def prefetch(uow: UnitOfWork, events: Sequence[Event]) -> None:
    """Load the rule states and owner facts of a whole ingest batch (a bus preparer).

    The states are locked in device order, as the readings were, so concurrent consumers on
    PostgreSQL wait for each other instead of deadlocking. Device rows are not loaded: the
    events carry what the rules need, and a row is read only when a rule fires.
    """
    session = uow.session
    devices = {e.payload["device_id"]: DeviceFacts.of_event(e.payload) for e in events}
    states = _read_states(session, list(devices))
    owners = [
        (device.owner_kind, device.owner_id)
        for device in devices.values()
        if any(rule.context_keys for rule in active_rules(session, device).values())
    ]
    uow.put(
        _PREFETCHED,
        _Prefetched({e.id for e in events}, states, uow.owners.contexts(session, owners)),
    )


def _prefetched_for(uow: UnitOfWork, event: Event) -> _Prefetched | None:
    batch = uow.get(_PREFETCHED)
    if batch is None or event.id not in batch.events:
        return None
    return batch


def _material(before: engine.RuleState, after: engine.RuleState) -> bool:
    """Worth a write? Not when only the time of the newest reading moved: that would rewrite
    every rule's row on every reading. Stale readings are then judged against a slightly older
    time (harmless), and an absence deadline is checked against `Device.last_seen_at` by the
    sweep before it fires."""
    return before != after.evolve(last_ts=before.last_ts)


def _save(
    uow: UnitOfWork,
    rows: StoredStates,
    device_id: str,
    rule: engine.Rule,
    before: engine.RuleState,
    after: engine.RuleState,
    now: datetime,
) -> None:
    if rule.name in rows and not _material(before, after):
        return
    data = after.to_json()
    rows[rule.name] = after
    uow.get(_PENDING)[(device_id, rule.name)] = {
        "device_id": device_id,
        "rule_name": rule.name,
        "state": data,
        "due_at": after.due_at(rule),
        "updated_at": now,
    }


STATE_COLUMNS = (
    ("device_id", "varchar"),
    ("rule_name", "varchar"),
    ("state", "json"),
    ("due_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)


def _write_states(uow: UnitOfWork) -> None:
    """Write the unit's changed rule states in one statement: an upsert over arrays on
    PostgreSQL, one executemany of one cached statement on SQLite (no ORM flush row by row)."""
    pending = uow.get(_PENDING)
    if not pending:
        return
    rows = [pending[key] for key in sorted(pending)]  # lock order: (device, rule)
    pending.clear()
    session = uow.session
    if session.get_bind().dialect.name == "postgresql":
        insert_unnest(
            session,
            "rule_state",
            STATE_COLUMNS,
            [
                (
                    row["device_id"],
                    row["rule_name"],
                    json.dumps(row["state"]),
                    row["due_at"],
                    row["updated_at"],
                )
                for row in rows
            ],
            suffix="ON CONFLICT (device_id, rule_name) DO UPDATE SET state = excluded.state, "
            "due_at = excluded.due_at, updated_at = excluded.updated_at",
        )
        return
    session.execute(_sqlite_state_upsert(), rows)


@cache
def _sqlite_state_upsert() -> Executable:
    """Built once: building it (its `excluded` columns) costs more than running it."""
    stmt = sqlite_insert(cast(Table, RuleState.__table__))
    return stmt.on_conflict_do_update(
        index_elements=["device_id", "rule_name"],
        set_={
            "state": stmt.excluded.state,
            "due_at": stmt.excluded.due_at,
            "updated_at": stmt.excluded.updated_at,
        },
    )


def _rule_event(device: Device, firing: engine.Firing) -> Event:
    return Event(
        subject=RULE_SUBJECT.format(alarm_type=firing.alarm_type),
        occurred_at=firing.at,
        payload={
            "action": firing.action,
            "rule": firing.rule,
            "alarm_type": firing.alarm_type,
            "severity": firing.severity.value,
            "fired_at": firing.at.isoformat(),
            "details": firing.details,
            "organisation_id": device.organisation_id,
            "device": {
                "id": device.id,
                "type": device.device_type,
                "name": device.name,
            },
            "owner": {"kind": device.owner_kind, "id": device.owner_id},
        },
    )


# Rule events of this unit not yet published: a batch (an ingest batch, a sweep unit) hands
# them to the bus in one `publish_many`, so subscribers can act on them in bulk (homecare
# raises the batch's alarms in one `raise_alarms`).
_EVENTS: Slot[list[Event]] = Slot("iot.rules.events", list)


def _publish(
    uow: UnitOfWork,
    device: Device | DeviceFacts,
    firings: list[engine.Firing],
    *,
    defer: bool = False,
) -> None:
    """Publish what fired, now or (`defer`) with the rest of the batch (`_publish_deferred`)."""
    if not firings:
        return
    session = uow.session
    row = device if isinstance(device, Device) else session.get(Device, device.id)
    if row is None:
        return
    events = []
    for firing in firings:
        if firing.alarm_type == OFFLINE_ALARM:
            row.online = firing.action == "clear"
        log.info("rule %s on device %s: %s %s", firing.rule, row.id, firing.action, firing.severity)
        events.append(_rule_event(row, firing))
    session.flush()
    if defer:
        uow.get(_EVENTS).extend(events)
    else:
        uow.publish_many(events)


def _publish_deferred(uow: UnitOfWork) -> None:
    events = uow.get(_EVENTS)
    if events:
        batch = list(events)
        events.clear()  # a handler may publish further rule events (a nested batch)
        uow.publish_many(batch)


def evaluate_readings(
    *,
    uow: UnitOfWork,
    device: Device | DeviceFacts,
    samples: list[engine.Sample],
    now: datetime,
    prefetched: _Prefetched | None = None,
) -> list[engine.Firing]:
    """Run every rule of the device over new readings (oldest first); publish what fires.

    Without `prefetched` (one event alone) the changed states are written and the firings
    published before returning; within a prefetched batch `on_telemetry` writes the states and
    publishes the batch's firings together once the batch is judged.
    """
    session = uow.session
    rules = active_rules(session, device)
    if not rules:
        return []
    owner = (device.owner_kind, device.owner_id)
    if prefetched is not None:
        rows = prefetched.states.setdefault(device.id, {})
    else:
        rows = _read_states(session, [device.id])[device.id]
    context: dict[str, Any] | None = None
    if any(r.context_keys for r in rules.values()):
        if prefetched is not None and owner in prefetched.contexts:
            context = prefetched.contexts[owner]
        else:
            context = uow.owners.context(session, *owner)
    firings: list[engine.Firing] = []
    for rule in rules.values():
        before = rows.get(rule.name) or engine.RuleState()
        state = before
        for sample in samples:
            state, fired = engine.evaluate(rule, state, sample, context=context)
            firings.extend(fired)
        _save(uow, rows, device.id, rule, before, state, now)
    if prefetched is None:
        _write_states(uow)
    _publish(uow, device, firings, defer=prefetched is not None)
    return firings


def samples_of(payload: Mapping[str, Any]) -> list[engine.Sample]:
    readings = payload.get("readings") or []
    samples = [
        engine.Sample(datetime.fromisoformat(r["ts"]), dict(r.get("values") or {}))
        for r in readings
    ]
    return sorted(samples, key=lambda s: s.ts)


def on_telemetry(uow: UnitOfWork, event: Event) -> None:
    """The bus handler of ``iot.telemetry.*``: run the device's rules over its new readings."""
    prefetched = _prefetched_for(uow, event)
    device: Device | DeviceFacts | None
    if prefetched is not None:
        device = DeviceFacts.of_event(event.payload)
    else:
        device = uow.session.get(Device, event.payload["device_id"])
    if device is not None:
        evaluate_readings(
            uow=uow,
            device=device,
            samples=samples_of(event.payload),
            now=event.occurred_at,
            prefetched=prefetched,
        )
    if prefetched is not None:
        prefetched.events.discard(event.id)
        if not prefetched.events:  # the batch's last event: its states in one statement,
            _write_states(uow)  # then what fired across the batch in one publish
            _publish_deferred(uow)


def _seen(state: engine.RuleState, device: Device) -> engine.RuleState:
    """The stored last reading time may lag (see `_material`); the device row knows better."""
    seen = device.last_seen_at
    if seen is not None and (state.last_ts is None or seen > state.last_ts):
        return state.evolve(last_ts=seen)
    return state


@dataclass(frozen=True)
class Swept:
    due: int  # timers claimed
    fired: int  # firings published


def sweep(*, uow: UnitOfWork, now: datetime, limit: int = 1000) -> int:
    """Fire the timers due at `now` (durations, absences, corroborations), up to `limit` of
    them; returns the firings."""
    return sweep_some(uow=uow, now=now, limit=limit).fired


def sweep_some(*, uow: UnitOfWork, now: datetime, limit: int) -> Swept:
    """`sweep`, saying also how many timers it claimed (a full unit means more may be due).

    Safe to run in several processes at once on PostgreSQL: due rows are claimed with
    ``FOR UPDATE SKIP LOCKED``.
    """
    session = uow.session
    stmt = (
        select(RuleState)
        .where(RuleState.due_at.is_not(None), RuleState.due_at <= now)
        .order_by(RuleState.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    due = list(session.scalars(stmt))
    by_device: dict[str, list[RuleState]] = {}
    for row in due:
        by_device.setdefault(row.device_id, []).append(row)
    count = 0
    for device_id, rows in by_device.items():
        device = session.get(Device, device_id)
        if device is None:
            continue
        rules = active_rules(session, device)
        firings: list[engine.Firing] = []
        for row in rows:
            rule = rules.get(row.rule_name)
            if rule is None:  # the rule was removed, disabled or broken: forget its timers
                row.due_at = None
                row.updated_at = now
                continue
            state = engine.RuleState.from_json(row.state)
            if rule.kind == "absence":
                state = _seen(state, device)
            state, fired = engine.tick(rule, state, now)
            row.state = state.to_json()
            row.due_at = state.due_at(rule)
            row.updated_at = now
            firings.extend(fired)
        session.flush()
        _publish(uow, device, firings, defer=True)
        count += len(firings)
    _publish_deferred(uow)  # the unit's firings, all devices, in one batch
    return Swept(due=len(due), fired=count)


# Timers per sweep unit of work. Small, because a unit holds SQLite's write lock and the API's
# requests wait for it; a pass keeps going unit after unit while they come back full.
SWEEP_UNIT = 100
MAX_UNITS_PER_PASS = 200


class Sweeper(PeriodicWorker):
    """Sweeps due timers every `interval_s`, `unit` timers per unit of work."""

    name = "rule-sweeper"

    def __init__(
        self, context: AppContext, *, interval_s: float = 5.0, unit: int = SWEEP_UNIT
    ) -> None:
        super().__init__()
        self.context = context
        self.interval_s = interval_s
        self.unit = unit

    def tick(self) -> int:
        return self.run_once()

    def run_once(self) -> int:
        """One pass over what is due now; returns the firings."""
        now = self.context.clock.now()
        fired = 0
        for _ in range(MAX_UNITS_PER_PASS):
            with self.context.unit(actor="system:rules") as uow:
                swept = sweep_some(uow=uow, now=now, limit=self.unit)
            fired += swept.fired
            if swept.due < self.unit:
                break
        return fired
