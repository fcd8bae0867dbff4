"""Many alarms in one unit of work, written set-based (`raise_alarms`).

The result is the one `raise_alarm` called once per request, in order, would leave: the same
alarms, history, escalations, first-step outbox rows, audit rows and bus events. What changes
is how they are written: a new alarm costs no savepoint, no flush, no query and no ORM object
of its own; the alarms, their history, escalations, notifications and audit rows go to the
driver in one batch per table (`core.fast_insert`: COPY on PostgreSQL, the sqlite3 cursor's
executemany on SQLite), the policies are resolved once per code and each policy's first
transition is worked out once.

Repeats (a request whose source and type already has an active alarm, in the database or
earlier in the same batch) go through `raise_alarm`'s own path, one by one, after the new
alarms are written: they are rare (a price tick raises each pledge's alarm once) and this keeps
one audit row per repeat, as the row-by-row path writes.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
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
from anxin.core.db import new_ids
from anxin.core.events import Event
from anxin.core.fast_insert import insert_new_rows, insert_rows, table_of
from anxin.core.unit import Slot, UnitOfWork

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


_REQUEST_FIELDS = tuple(f.name for f in fields(AlarmRequest))
ALARM_COLUMNS = (
    "id", "organisation_id", "owner_kind", "owner_id", "source_kind", "source_id",
    "alarm_type", "active_key", "severity", "state", "cleared", "title", "details", "policy",
    "count", "first_raised_at", "last_raised_at", "acknowledged_at", "acknowledged_by",
    "resolved_at", "resolved_by", "cleared_at",
)  # fmt: skip
HISTORY_COLUMNS = ("alarm_id", "at", "actor", "action", "note", "data")
ESCALATION_COLUMNS = (
    "id", "alarm_id", "policy_code", "policy", "recipients", "overdue_flagged", "started_at",
    "status", "step_index", "repeats_done", "fired", "next_at", "stop_reason", "updated_at",
)  # fmt: skip
NOTIFICATION_COLUMNS = (
    "id", "organisation_id", "alarm_id", "escalation_id", "step_seq", "purpose", "channel",
    "provider", "recipient_role", "recipient_name", "recipient_user_id", "address", "subject",
    "body", "idempotency_key", "status", "attempts", "next_attempt_at", "created_at",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class NewAlarm(AlarmRequest):
    """A request raised as a new alarm, as a plain row: what its notifications, audit row and
    event read (an ORM `Alarm` per alarm cost more than writing it)."""

    id: str
    first_raised_at: datetime
    state: AlarmState = AlarmState.RAISED
    cleared: bool = False
    count: int = 1

    @classmethod
    def of(cls, request: AlarmRequest, now: datetime, alarm_id: str) -> NewAlarm:
        given = {name: getattr(request, name) for name in _REQUEST_FIELDS}
        given |= {
            "severity": Severity(request.severity),
            "title": request.title[:300],
            "details": dict(request.details),
        }
        return cls(**given, id=alarm_id, first_raised_at=now)

    @property
    def last_raised_at(self) -> datetime:
        return self.first_raised_at

    def row(self) -> tuple[Any, ...]:
        """The alarms row in `ALARM_COLUMNS` order."""
        now = self.first_raised_at
        return (
            self.id, self.organisation_id, self.owner_kind, self.owner_id, self.source_kind,
            self.source_id, self.alarm_type, self.key, self.severity, self.state,
            self.cleared, self.title, self.details, self.policy, self.count, now, now,
            None, None, None, None, None,
        )  # fmt: skip


@dataclass
class _Rows:
    """What the new alarms write, gathered before one insert per table."""

    alarms: list[NewAlarm] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)
    escalations: list[tuple[Any, ...]] = field(default_factory=list)
    notifications: list[tuple[Any, ...]] = field(default_factory=list)

    def event(self, alarm_id: str, action: str, now: datetime, actor: str, **kw: Any) -> None:
        """A history row, as `add_history` writes it (``note``, ``data``)."""
        self.history.append((alarm_id, now, actor, action, kw.get("note"), kw.get("data") or {}))


@functools.lru_cache(maxsize=256)
def _as_dicts(recipients: tuple[Recipient, ...]) -> list[dict[str, Any]]:
    """A lender's officers are the same for thousands of alarms: convert them once (rows only
    read the list; nothing mutates it)."""
    return [r.as_dict() for r in recipients]


@dataclass(frozen=True)
class _Start:
    """A policy's first transition at `now`: the same for every alarm it starts."""

    policy: machine.Policy
    problem: str | None
    document: dict[str, Any]
    transition: machine.Transition
    state: dict[str, Any]

    @classmethod
    def of(cls, resolved: tuple[machine.Policy, str | None], now: datetime) -> _Start:
        parsed, problem = resolved
        transition = machine.start(parsed, now)
        return cls(
            parsed,
            problem,
            machine.policy_document(parsed),
            transition,
            state_columns(transition.state, now),
        )


def _escalate(
    rows: _Rows,
    alarm: NewAlarm,
    request: AlarmRequest,
    start: _Start,
    now: datetime,
    actor: str,
    esc_id: str,
) -> None:
    """`start_escalation` and `apply_transition` for a new alarm, as rows."""
    if start.problem:
        rows.event(alarm.id, "policy_problem", now, actor, note=start.problem)
    transition = start.transition
    state = start.state
    rows.escalations.append(
        (
            esc_id, alarm.id, start.policy.code, start.document,
            _as_dicts(tuple(request.recipients)), 0, now, state["status"], state["step_index"],
            state["repeats_done"], state["fired"], state["next_at"], state["stop_reason"],
            state["updated_at"],
        )
    )  # fmt: skip
    if transition.fire is None:
        if transition.reason == "exhausted":
            rows.event(alarm.id, "escalation_exhausted", now, SYSTEM_ACTOR)
        return
    made, skipped = notification_rows(
        alarm, esc_id, transition.state.fired, transition.fire, list(request.recipients), now
    )
    rows.notifications.extend(tuple(row[c] for c in NOTIFICATION_COLUMNS) for row in made)
    next_at = transition.state.next_at
    rows.event(
        alarm.id,
        "escalation_step",
        now,
        SYSTEM_ACTOR,
        data={
            "step": transition.state.step_index,
            "seq": transition.state.fired,
            "reason": transition.reason,
            "notifications": len(made),
            "skipped": skipped,
            "next_at": next_at.isoformat() if next_at else None,
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


def _write(uow: UnitOfWork, rows: _Rows) -> set[str]:
    """Insert the new alarms and what they bring at the driver level; return the ids actually
    inserted. An alarm whose key another unit of work took since `_active` looked is skipped
    (ON CONFLICT), with its rows: the caller turns its request into a repeat."""
    session = uow.session
    table = table_of(Alarm)
    values = [alarm.row() for alarm in rows.alarms]
    inserted = insert_new_rows(session, table, ALARM_COLUMNS, values, unique="active_key", key="id")
    record_created(
        uow,
        table.name,
        [
            (row[0], dict(zip(ALARM_COLUMNS, row, strict=True)))
            for row in values
            if row[0] in inserted
        ],
    )
    for model, columns, found in (
        (AlarmEvent, HISTORY_COLUMNS, rows.history),
        (Escalation, ESCALATION_COLUMNS, rows.escalations),
        (Notification, NOTIFICATION_COLUMNS, rows.notifications),
    ):
        mine = [row for row in found if row[columns.index("alarm_id")] in inserted]
        insert_rows(session, table_of(model), columns, mine)
    return inserted


def _publish(uow: UnitOfWork, alarms: Sequence[NewAlarm], now: datetime) -> None:
    """The metrics and `alerts.alarm.raised` events of the alarms written, in request order."""
    subject = SUBJECT.format(verb="raised")
    counts = Counter((alarm.severity.value, alarm.alarm_type) for alarm in alarms)
    for (severity, alarm_type), n in counts.items():
        ALARMS_RAISED.labels(severity=severity, type=alarm_type).inc(n)
    uow.publish_many([Event(subject, event_payload(a, now), occurred_at=now) for a in alarms])


def raise_alarms(*, uow: UnitOfWork, requests: Sequence[AlarmRequest], now: datetime) -> list[str]:
    """Raise (or repeat) an alarm per request, as `raise_alarm` would one by one, in one unit
    of work; returns the alarm ids in request order."""
    session = uow.session
    session.flush()  # earlier changes (clears) first: they free active keys
    actor = uow.actor
    active = _active(session, sorted({r.key for r in requests}))
    rows = _Rows()
    firsts: dict[str, NewAlarm] = {}
    starts: dict[str, _Start] = {}
    fresh = iter(new_ids(2 * len(requests)))  # an alarm's id and its escalation's
    for request in requests:
        key = request.key
        if key in active or key in firsts:
            continue
        alarm = NewAlarm.of(request, now, next(fresh))
        firsts[key] = alarm
        rows.alarms.append(alarm)
        rows.event(alarm.id, "raised", now, actor, data={"severity": alarm.severity.value})
        if request.policy not in starts:
            resolved = resolve_policy(session=session, code=request.policy, now=now)
            starts[request.policy] = _Start.of(resolved, now)
        _escalate(rows, alarm, request, starts[request.policy], now, actor, next(fresh))
    inserted = _write(uow, rows)
    _publish(uow, [alarm for alarm in rows.alarms if alarm.id in inserted], now)
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


class PendingRaises:
    """Raise requests collected in event order and raised together (a bus preparer's batch).
    Anything that must see them in the database first (a clear, a check of an active alarm,
    another `now`) calls `flush`."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.requests: list[AlarmRequest] = []
        self.now: datetime | None = None

    def add(self, request: AlarmRequest, now: datetime) -> None:
        if self.now != now:
            self.flush()
        self.requests.append(request)
        self.now = now

    def flush(self) -> None:
        if not self.requests or self.now is None:
            return
        if len(self.requests) == 1:  # one alarm: the row-by-row path costs less
            raise_request(uow=self.uow, request=self.requests[0], now=self.now)
        else:
            raise_alarms(uow=self.uow, requests=self.requests, now=self.now)
        self.requests = []


@dataclass
class RaiseBatch:
    """The events a `BatchedRaiser` is acting on: where their raises collect, the batch's one
    clock reading (so its raises share one `now`), and a memo for lookups the batch repeats."""

    raises: PendingRaises
    now: datetime
    memo: dict[Any, Any] = field(default_factory=dict)


class BatchedRaiser:
    """A bus preparer (`prepare`: a unit's events of one subject, in order) and handler
    (`handle`: one event, unless its preparer has already acted on it) around one `act`, whose
    alarms are raised together through `PendingRaises`: the same alarms, history, outbox rows,
    audit and events as acting on the events one at a time."""

    def __init__(self, name: str, act: Callable[[UnitOfWork, Event, RaiseBatch], None]) -> None:
        self._handled: Slot[set[str]] = Slot(f"{name}.events_handled", set)
        self._act = act

    def prepare(self, uow: UnitOfWork, events: Sequence[Event]) -> None:
        handled = uow.get(self._handled)
        batch = RaiseBatch(PendingRaises(uow), uow.now())
        for event in events:
            handled.add(event.id)
            self._act(uow, event, batch)
        batch.raises.flush()

    def handle(self, uow: UnitOfWork, event: Event) -> None:
        handled = uow.get(self._handled)
        if event.id in handled:
            handled.discard(event.id)
            return
        batch = RaiseBatch(PendingRaises(uow), uow.now())
        self._act(uow, event, batch)
        batch.raises.flush()


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
