"""`raise_alarms` leaves exactly the rows `raise_alarm` one by one would.

Each example raises the same batch twice in one database: once request by request through
`raise_alarm`, once through `raise_alarms`, under two source prefixes. Before the batch both
sides get an alarm that is already active (so the batch repeats it) and one raised and cleared
(so the batch raises it anew). Then alarms, history, escalations, outbox rows, audit rows and
bus events are compared after replacing ids with their role (which alarm, which prefix).
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from anxin.alerts import service
from anxin.alerts.models import Alarm, AlarmEvent, Escalation, Notification, Severity
from anxin.alerts.service import AlarmRequest, raise_alarms
from anxin.core.audit import AuditLog
from anxin.core.events import Event, InProcessBus

from ..property_budget import examples
from .conftest import demo_recipients

SOURCES = ("s0", "s1", "s2", "s3")
TYPES = ("fall", "sos")
POLICIES = ("homecare_fall", "default", "no_such_policy")

request_spec = st.fixed_dictionaries(
    {
        "source": st.sampled_from(SOURCES),
        "type": st.sampled_from(TYPES),
        "severity": st.sampled_from(list(Severity)),
        "policy": st.sampled_from(POLICIES),
        "detail": st.integers(0, 3),
        "recipients": st.sampled_from(["all", "none", "family"]),
    }
)


def _request(spec: dict[str, Any], prefix: str, demo, everyone) -> AlarmRequest:
    recipients = {
        "all": everyone,
        "none": [],
        "family": [r for r in everyone if r.role == "family"],
    }[spec["recipients"]]
    return AlarmRequest(
        organisation_id=demo.organisation_id,
        owner_kind="household",
        owner_id=demo.household_id,
        source_kind="device",
        source_id=f"{prefix}-{spec['source']}",
        alarm_type=spec["type"],
        severity=spec["severity"],
        title=f"{spec['type']} at {spec['source']}",
        details={"n": spec["detail"]},
        policy=spec["policy"],
        recipients=tuple(recipients),
    )


def _one_by_one(uow, requests: list[AlarmRequest], now) -> list[str]:
    return [service.raise_request(uow=uow, request=r, now=now).id for r in requests]


def _snapshot(db, prefix: str, events: list[Event]) -> dict[str, Any]:
    """Everything the two paths wrote for `prefix`, with ids replaced by their role."""
    with db.session_scope() as session:
        alarms = list(
            session.scalars(
                select(Alarm)
                .where(Alarm.source_id.like(f"{prefix}-%"))
                .order_by(Alarm.source_id, Alarm.cleared)
            )
        )
        names: dict[str, str] = {}
        for alarm in alarms:
            # A source cleared before the batch has two alarms (the cleared one and the new
            # one): the name tells them apart, or one would overwrite the other in any order.
            cleared = "/cleared" if alarm.cleared else ""
            name = f"{alarm.source_id[len(prefix) :]}/{alarm.alarm_type}/{alarm.count}{cleared}"
            names[alarm.id] = name

        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, str):
                value = value.replace(prefix, "P")
                for alarm_id, name in names.items():
                    value = value.replace(alarm_id, name).replace(alarm_id[:8], name)
            return value

        def row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
            return {
                c.key: plain(getattr(obj, c.key))
                for c in type(obj).__table__.columns
                if c.key not in ("id", *skip)
            }

        out: dict[str, Any] = {}
        for alarm in alarms:
            name = names[alarm.id]
            history = session.scalars(
                select(AlarmEvent).where(AlarmEvent.alarm_id == alarm.id).order_by(AlarmEvent.id)
            )
            escalation = session.scalar(select(Escalation).where(Escalation.alarm_id == alarm.id))
            notifications = session.scalars(
                select(Notification).where(Notification.alarm_id == alarm.id)
            )
            audit = session.scalars(
                select(AuditLog)
                .where(AuditLog.entity_type == "alarms", AuditLog.entity_id == alarm.id)
                .order_by(AuditLog.id)
            )
            out[name] = {
                "alarm": row(alarm),
                "history": [row(h) for h in history],
                "escalation": row(escalation) if escalation else None,
                "outbox": sorted(
                    (row(n, ("escalation_id", "idempotency_key")) for n in notifications),
                    key=repr,
                ),
                "audit": [(a.action, plain(a.before), plain(a.after)) for a in audit],
                "events": [
                    (e.subject, plain({k: v for k, v in e.payload.items() if k != "alarm_id"}))
                    for e in events
                    if e.payload["alarm_id"] == alarm.id
                ],
            }
        return out


@settings(
    examples(25),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(request_spec, min_size=1, max_size=12))
def test_bulk_and_one_by_one_write_the_same_rows(context, db, demo, clock, batch):
    tag = uuid.uuid4().hex[:8]
    sides = {"one": f"one{tag}", "bulk": f"bulk{tag}"}
    events: dict[str, list[Event]] = {name: [] for name in sides}
    now = clock.now()
    with context.unit(actor="test:setup", bus=InProcessBus()) as uow:
        everyone = demo_recipients(uow.session, demo)
        for prefix in sides.values():
            # Already active (the batch repeats it) and raised then cleared (raised anew).
            for source in ("s0", "s1"):
                spec = {"source": source, "type": "fall", "severity": Severity.MAJOR}
                spec |= {"policy": "default", "detail": 0, "recipients": "all"}
                _one_by_one(uow, [_request(spec, prefix, demo, everyone)], now)
            service.clear_alarm(
                uow=uow,
                source_kind="device",
                source_id=f"{prefix}-s1",
                alarm_type="fall",
                now=now,
                reason="test",
            )
    for name, prefix in sides.items():
        bus = InProcessBus()
        bus.subscribe("alerts.alarm.>", lambda _uow, e, name=name: events[name].append(e))
        requests = [_request(spec, prefix, demo, everyone) for spec in batch]
        with context.unit(actor="test:batch", bus=bus) as uow:
            if name == "one":
                ids = _one_by_one(uow, requests, now)
            else:
                ids = raise_alarms(uow=uow, requests=requests, now=now)
        assert len(ids) == len(requests)
        by_key = {r.key: alarm_id for r, alarm_id in zip(requests, ids, strict=True)}
        assert ids == [by_key[r.key] for r in requests]  # one alarm per source and type
    one = _snapshot(db, sides["one"], events["one"])
    bulk = _snapshot(db, sides["bulk"], events["bulk"])
    assert bulk == one


def test_a_key_taken_after_the_lookup_becomes_a_repeat(context, db, demo, clock, monkeypatch):
    """Another unit of work raised the same alarm after `raise_alarms` looked for active ones:
    the insert skips it (ON CONFLICT) with its history and outbox, and the request repeats the
    alarm that won, as `raise_alarm` does on the same race."""
    from anxin.alerts.service import bulk

    tag = uuid.uuid4().hex[:8]
    now = clock.now()
    spec = {"source": "s0", "type": "fall", "severity": Severity.MAJOR}
    spec |= {"policy": "default", "detail": 0, "recipients": "all"}
    with context.unit(actor="test:setup", bus=InProcessBus()) as uow:
        everyone = demo_recipients(uow.session, demo)
        winner = service.raise_request(
            uow=uow, request=_request(spec, tag, demo, everyone), now=now
        ).id
    monkeypatch.setattr(bulk, "_active", lambda _session, _keys: set())  # the lookup misses it
    taken, fresh = (
        _request(spec, tag, demo, everyone),
        _request({**spec, "source": "s1"}, tag, demo, everyone),
    )
    with context.unit(actor="test:batch", bus=InProcessBus()) as uow:
        ids = raise_alarms(uow=uow, requests=[taken, fresh], now=now)
    assert ids[0] == winner and ids[1] != winner
    with db.session_scope() as session:
        alarms = {
            a.source_id: a
            for a in session.scalars(select(Alarm).where(Alarm.source_id.like(f"{tag}-%")))
        }
        assert alarms[f"{tag}-s0"].count == 2 and alarms[f"{tag}-s1"].count == 1
        for source, actions in (
            ("s0", ["raised", "escalation_step", "repeated"]),
            ("s1", ["raised", "escalation_step"]),
        ):
            alarm_id = alarms[f"{tag}-{source}"].id
            history = session.scalars(
                select(AlarmEvent.action)
                .where(AlarmEvent.alarm_id == alarm_id)
                .order_by(AlarmEvent.id)
            )
            assert list(history) == actions
        escalations = session.scalars(
            select(Escalation.alarm_id).where(
                Escalation.alarm_id.in_([a.id for a in alarms.values()])
            )
        )
        assert sorted(escalations) == sorted(a.id for a in alarms.values())
        audited = session.scalars(
            select(AuditLog.entity_id).where(
                AuditLog.entity_type == "alarms",
                AuditLog.action == "create",
                AuditLog.entity_id.in_([a.id for a in alarms.values()]),
            )
        )
        assert sorted(audited) == sorted(a.id for a in alarms.values())
