"""Many alarms in one unit of work, written set-based (`raise_alarms`).

The result is the one `raise_alarm` called once per request, in order, would leave: the same
alarms, history, escalations, first-step outbox rows, audit rows and bus events. What changes
is how they are written: a new alarm costs no savepoint, no flush and no query of its own; the
alarms, their history, escalations, notifications and audit rows go in one statement each
(``executemany``), and the policies are resolved once per code.

Repeats (a request whose source and type already has an active alarm, in the database or
earlier in the same batch) go through `raise_alarm`'s own path, one by one, after the new
alarms are written: they are rare (a price tick raises each pledge's alarm once) and this keeps
one audit row per repeat, as the row-by-row path writes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from anxin.alerts import escalation as machine
from anxin.alerts.metrics import ALARMS_RAISED
from anxin.alerts.models import (
    Alarm,
    AlarmEvent,
    AlarmState,
    Escalation,
    Notification,
    Severity,
)
from anxin.alerts.schemas import Recipient
from anxin.alerts.service.alarms import raise_alarm
from anxin.alerts.service.common import SUBJECT, SYSTEM_ACTOR, active_key, event_payload
from anxin.alerts.service.escalation_policies import resolve_policy
from anxin.alerts.service.escalations import notification_rows, state_columns
from anxin.core.audit import record_created
from anxin.core.db import new_id, upsert_insert
from anxin.core.events import Event
from anxin.core.unit import UnitOfWork

CHUNK = 1000  # keys per IN (...) list and rows per statement


@dataclass(frozen=True)
class AlarmRequest:
    """The arguments of one `raise_alarm` call."""

    organisation_id: str
    owner_kind: str
    owner_id: str
    source_kind: str
    source_id: str
    alarm_type: str
    severity: Severity
    title: str
    details: dict[str, Any]
    policy: str
    recipients: Sequence[Recipient] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return active_key(self.source_kind, self.source_id, self.alarm_type)


def _columns(obj: Any) -> dict[str, Any]:
    """A transient ORM object's column values, for a Core insert."""
    table = cast(Table, type(obj).__table__)
    return {column.key: getattr(obj, column.key) for column in table.columns}


def _new_alarm(request: AlarmRequest, now: datetime) -> Alarm:
    return Alarm(
        id=new_id(),
        organisation_id=request.organisation_id,
        owner_kind=request.owner_kind,
        owner_id=request.owner_id,
        source_kind=request.source_kind,
        source_id=request.source_id,
        alarm_type=request.alarm_type,
        active_key=request.key,
        severity=Severity(request.severity),
        state=AlarmState.RAISED,
        cleared=False,
        title=request.title[:300],
        details=dict(request.details),
        policy=request.policy,
        count=1,
        first_raised_at=now,
        last_raised_at=now,
    )


@dataclass
class _Rows:
    """What the new alarms write, gathered before one insert per table."""

    alarms: list[Alarm] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def event(self, alarm: Alarm, action: str, now: datetime, actor: str, **kw: Any) -> None:
        self.history.append(
            {
                "alarm_id": alarm.id,
                "at": now,
                "actor": actor,
                "action": action,
                "note": kw.get("note"),
                "data": kw.get("data") or {},
            }
        )


@functools.lru_cache(maxsize=256)
def _as_dicts(recipients: tuple[Recipient, ...]) -> list[dict[str, Any]]:
    """A lender's officers are the same for thousands of alarms: convert them once (rows only
    read the list; nothing mutates it)."""
    return [r.as_dict() for r in recipients]


def _escalate(
    rows: _Rows,
    alarm: Alarm,
    request: AlarmRequest,
    policy: tuple[machine.Policy, str | None],
    now: datetime,
    actor: str,
) -> None:
    """`start_escalation` and `apply_transition` for a new alarm, as rows."""
    parsed, problem = policy
    if problem:
        rows.event(alarm, "policy_problem", now, actor, note=problem)
    transition = machine.start(parsed, now)
    esc_id = new_id()
    rows.escalations.append(
        {
            "id": esc_id,
            "alarm_id": alarm.id,
            "policy_code": parsed.code,
            "policy": machine.policy_document(parsed),
            "recipients": _as_dicts(tuple(request.recipients)),
            "overdue_flagged": 0,
            "started_at": now,
            **state_columns(transition.state, now),
        }
    )
    if transition.fire is None:
        if transition.reason == "exhausted":
            rows.event(alarm, "escalation_exhausted", now, SYSTEM_ACTOR)
        return
    made, skipped = notification_rows(
        alarm, esc_id, transition.state.fired, transition.fire, list(request.recipients), now
    )
    rows.notifications.extend(made)
    state = transition.state
    rows.event(
        alarm,
        "escalation_step",
        now,
        SYSTEM_ACTOR,
        data={
            "step": state.step_index,
            "seq": state.fired,
            "reason": transition.reason,
            "notifications": len(made),
            "skipped": skipped,
            "next_at": state.next_at.isoformat() if state.next_at else None,
        },
    )


def _active(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(
            session.scalars(
                select(Alarm.active_key).where(Alarm.active_key.in_(keys[start : start + CHUNK]))
            )
        )
    return found


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core executemany on the table (the ORM's bulk path costs more than the rows here)."""
    table = cast(Table, model.__table__)
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start : start + CHUNK])


def _write(uow: UnitOfWork, rows: _Rows) -> set[str]:
    """Insert the new alarms and what they bring; return the ids actually inserted. An alarm
    whose key another unit of work took since `_active` looked is skipped (ON CONFLICT), with
    its rows: the caller turns its request into a repeat."""
    session = uow.session
    table = cast(Table, Alarm.__table__)
    values = [_columns(alarm) for alarm in rows.alarms]
    inserted: set[str] = set()
    for start in range(0, len(values), CHUNK):
        stmt = (
            upsert_insert(session, table)
            .on_conflict_do_nothing(index_elements=["active_key"])
            .returning(table.c.id)
        )
        inserted.update(session.scalars(stmt, values[start : start + CHUNK]))
    record_created(
        uow,
        table.name,
        [(value["id"], value) for value in values if value["id"] in inserted],
    )
    _insert(session, AlarmEvent, [r for r in rows.history if r["alarm_id"] in inserted])
    _insert(session, Escalation, [r for r in rows.escalations if r["alarm_id"] in inserted])
    _insert(session, Notification, [r for r in rows.notifications if r["alarm_id"] in inserted])
    return inserted


def raise_alarms(*, uow: UnitOfWork, requests: Sequence[AlarmRequest], now: datetime) -> list[str]:
    """Raise (or repeat) an alarm per request, as `raise_alarm` would one by one, in one unit
    of work; returns the alarm ids in request order."""
    session = uow.session
    session.flush()  # earlier changes (clears) first: they free active keys
    actor = uow.actor
    active = _active(session, sorted({r.key for r in requests}))
    rows = _Rows()
    firsts: dict[str, Alarm] = {}
    policies: dict[str, tuple[machine.Policy, str | None]] = {}
    for request in requests:
        key = request.key
        if key in active or key in firsts:
            continue
        alarm = _new_alarm(request, now)
        firsts[key] = alarm
        rows.alarms.append(alarm)
        rows.event(alarm, "raised", now, actor, data={"severity": alarm.severity.value})
        if request.policy not in policies:
            policies[request.policy] = resolve_policy(session=session, code=request.policy, now=now)
        _escalate(rows, alarm, request, policies[request.policy], now, actor)
    inserted = _write(uow, rows)
    events = []
    for alarm in rows.alarms:
        if alarm.id in inserted:
            ALARMS_RAISED.labels(severity=alarm.severity.value, type=alarm.alarm_type).inc()
            payload = event_payload(alarm, now)
            events.append(Event(SUBJECT.format(verb="raised"), payload, occurred_at=now))
    uow.publish_many(events)
    # Everything else repeats an active alarm, in request order, through the one-by-one path.
    ids: list[str] = []
    taken: set[str] = set()
    for request in requests:
        first = firsts.get(request.key)
        if first is not None and first.id in inserted and request.key not in taken:
            taken.add(request.key)  # the request that raised it
            ids.append(first.id)
            continue
        ids.append(raise_request(uow=uow, request=request, now=now).id)
    return ids


def raise_request(*, uow: UnitOfWork, request: AlarmRequest, now: datetime) -> Alarm:
    """`raise_alarm` with its arguments as one `AlarmRequest`."""
    return raise_alarm(
        uow=uow,
        organisation_id=request.organisation_id,
        owner_kind=request.owner_kind,
        owner_id=request.owner_id,
        source_kind=request.source_kind,
        source_id=request.source_id,
        alarm_type=request.alarm_type,
        severity=request.severity,
        title=request.title,
        details=request.details,
        policy=request.policy,
        recipients=list(request.recipients),
        now=now,
    )
