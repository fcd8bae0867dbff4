"""Alarm lifecycle, de-duplication, history, events and policies (the service contract)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from anxin.alerts import service
from anxin.alerts.models import AlarmState, Escalation, EscalationStatus, Notification, Severity
from anxin.core.errors import PermissionDenied, RuleViolation
from anxin.core.events import Event, InProcessBus
from anxin.people import service as people
from anxin.people.models import User

from .conftest import demo_recipients, load_alarm, outbox, quiet_unit, sent_to


def principal(session, username):
    user = session.scalar(select(User).where(User.username == username))
    return people.principal_of(user)


def test_first_raise_starts_the_fall_policy_in_the_same_transaction(raise_fall, db):
    alarm_id = raise_fall()
    alarm = load_alarm(db, alarm_id)
    assert alarm.state == AlarmState.RAISED and not alarm.cleared and alarm.count == 1
    rows = outbox(db, alarm_id)
    assert sent_to(rows, "sms") == ["butler", "elder", "family", "family"]
    console = [(n.recipient_role, n.purpose) for n in rows if n.channel.value == "console"]
    assert sorted(console) == [("butler", "alert"), ("butler", "call_task")]
    assert sent_to(rows, "voice") == []
    assert all(n.status.value == "pending" and n.step_seq == 1 for n in rows)
    assert len({n.idempotency_key for n in rows}) == len(rows)
    with db.session_scope() as session:
        esc = service.escalation_of(session=session, alarm_id=alarm_id)
        assert esc is not None and esc.status == EscalationStatus.ACTIVE and esc.step_index == 0
        actions = [e.action for e in service.history(session=session, alarm=alarm)]
    assert actions == ["raised", "escalation_step"]


def test_a_repeat_updates_the_active_alarm_and_counts(raise_fall, db):
    first = raise_fall(severity=Severity.MAJOR)
    again = raise_fall(severity=Severity.CRITICAL)
    assert again == first
    alarm = load_alarm(db, first)
    assert alarm.count == 2 and alarm.severity == Severity.CRITICAL
    assert len(outbox(db, first)) == 6  # no second round of messages
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1
    other = raise_fall(source_id="radar-2")
    assert other != first


def test_acknowledge_then_resolve_with_history(raise_fall, context, demo, clock):
    alarm_id = raise_fall()
    with quiet_unit(context) as uow:
        session = uow.session
        butler = principal(session, "butler")
        alarm = service.acknowledge(
            uow=uow,
            principal=butler,
            alarm_id=alarm_id,
            note="on the phone",
            now=clock.now(),
        )
        assert alarm.state == AlarmState.ACKNOWLEDGED and alarm.acknowledged_by == "user:butler"
        esc = service.escalation_of(session=session, alarm_id=alarm_id)
        assert esc is not None and esc.status == EscalationStatus.STOPPED
        assert esc.stop_reason == "acknowledged"
    clock.advance(60)
    with quiet_unit(context) as uow:
        session = uow.session
        butler = principal(session, "butler")
        service.acknowledge(
            uow=uow,
            principal=butler,
            alarm_id=alarm_id,
            note="still there",
            now=clock.now(),
        )
        alarm = service.resolve(
            uow=uow,
            principal=butler,
            alarm_id=alarm_id,
            note="false alarm",
            now=clock.now(),
        )
        assert alarm.state == AlarmState.RESOLVED and alarm.active_key is None
        events = service.history(session=session, alarm=alarm)
        assert [(e.action, e.actor, e.note) for e in events if e.actor.startswith("user:")] == [
            ("acknowledged", "user:butler", "on the phone"),
            ("note", "user:butler", "still there"),
            ("resolved", "user:butler", "false alarm"),
        ]
        with pytest.raises(RuleViolation):
            service.resolve(
                uow=uow,
                principal=butler,
                alarm_id=alarm_id,
                note=None,
                now=clock.now(),
            )
        with pytest.raises(RuleViolation):
            service.acknowledge(
                uow=uow,
                principal=butler,
                alarm_id=alarm_id,
                note=None,
                now=clock.now(),
            )
    # A fall after resolution is a new alarm.
    assert raise_fall() != alarm_id


def test_resolve_straight_from_raised(raise_fall, context, clock):
    alarm_id = raise_fall()
    with quiet_unit(context) as uow:
        alarm = service.resolve(
            uow=uow,
            principal=principal(uow.session, "admin"),
            alarm_id=alarm_id,
            note=None,
            now=clock.now(),
        )
        assert alarm.state == AlarmState.RESOLVED and alarm.acknowledged_at is None


def test_who_may_act(raise_fall, context, clock):
    alarm_id = raise_fall()
    with quiet_unit(context) as uow:
        session = uow.session
        for username in ("elder",):
            with pytest.raises(PermissionDenied):
                service.acknowledge(
                    uow=uow,
                    principal=principal(session, username),
                    alarm_id=alarm_id,
                    note=None,
                    now=clock.now(),
                )
        with pytest.raises(PermissionDenied):
            service.resolve(
                uow=uow,
                principal=principal(session, "son"),
                alarm_id=alarm_id,
                note=None,
                now=clock.now(),
            )
        alarm = service.acknowledge(
            uow=uow,
            principal=principal(session, "son"),
            alarm_id=alarm_id,
            note="我在妈妈身边",
            now=clock.now(),
        )
        assert alarm.state == AlarmState.ACKNOWLEDGED


def test_cleared_is_a_separate_axis(raise_fall, context, clock):
    alarm_id = raise_fall()
    with quiet_unit(context) as uow:
        session = uow.session
        alarm = service.clear_alarm(
            uow=uow,
            source_kind="device",
            source_id="radar-1",
            alarm_type="fall",
            now=clock.now(),
            reason="person stood up",
        )
        assert alarm is not None and alarm.cleared and alarm.state == AlarmState.RAISED
        # The fall policy keeps escalating: a cleared fall still needs a human.
        esc = service.escalation_of(session=session, alarm_id=alarm_id)
        assert esc is not None and esc.status == EscalationStatus.ACTIVE
        assert (
            service.clear_alarm(
                uow=uow,
                source_kind="device",
                source_id="radar-1",
                alarm_type="fall",
                now=clock.now(),
                reason="again",
            )
            is None
        )
    assert raise_fall() != alarm_id  # no longer the active one
    offline = raise_fall(
        source_id="mat-1", alarm_type="offline", policy="homecare_alert", severity=Severity.MAJOR
    )
    with quiet_unit(context) as uow:
        service.clear_alarm(
            uow=uow,
            source_kind="device",
            source_id="mat-1",
            alarm_type="offline",
            now=clock.now(),
            reason="back online",
        )
        esc = service.escalation_of(session=uow.session, alarm_id=offline)
        assert (
            esc is not None
            and esc.status == EscalationStatus.STOPPED
            and esc.stop_reason == "cleared"
        )


def test_bus_events_for_every_transition(context, demo, clock):
    bus = InProcessBus()
    seen: list[Event] = []
    bus.subscribe("alerts.alarm.>", lambda _uow, e: seen.append(e))
    kwargs = dict(
        organisation_id=demo.organisation_id,
        owner_kind="household",
        owner_id=demo.household_id,
        source_kind="device",
        source_id="radar-9",
        alarm_type="fall",
        severity=Severity.CRITICAL,
        title="fall",
        details={},
        policy="homecare_fall",
        now=clock.now(),
    )
    with context.unit(actor="test", bus=bus) as uow:
        session = uow.session
        recipients = demo_recipients(session, demo)
        alarm = service.raise_alarm(uow=uow, recipients=recipients, **kwargs)
        service.raise_alarm(uow=uow, recipients=recipients, **kwargs)
        service.clear_alarm(
            uow=uow,
            source_kind="device",
            source_id="radar-9",
            alarm_type="fall",
            now=clock.now(),
            reason="x",
        )
        butler = principal(session, "butler")
        service.acknowledge(
            uow=uow,
            principal=butler,
            alarm_id=alarm.id,
            note=None,
            now=clock.now(),
        )
        service.resolve(
            uow=uow,
            principal=butler,
            alarm_id=alarm.id,
            note=None,
            now=clock.now(),
        )
    assert [e.subject for e in seen] == [
        "alerts.alarm.raised",
        "alerts.alarm.updated",
        "alerts.alarm.cleared",
        "alerts.alarm.acknowledged",
        "alerts.alarm.resolved",
    ]
    payload = seen[0].payload
    assert payload["alarm_id"] == alarm.id and payload["organisation_id"] == demo.organisation_id
    assert payload["owner_kind"] == "household" and payload["owner_id"] == demo.household_id
    assert payload["severity"] == "critical" and payload["alarm_type"] == "fall"
    assert payload["state"] == "raised" and seen[-1].payload["state"] == "resolved"
    assert seen[1].payload["count"] == 2


def test_an_invalid_policy_is_stored_and_never_crashes_a_raise(raise_fall, context, db, clock):
    with quiet_unit(context) as uow:
        session = uow.session
        admin = principal(session, "admin")
        row = service.put_policy(
            session=session,
            principal=admin,
            code="homecare_fall",
            definition={"steps": [{"wait_s": "soon", "notify": []}]},
            now=clock.now(),
        )
        assert not row.valid and "wait_s" in (row.error or "")
        with pytest.raises(PermissionDenied):
            service.put_policy(
                session=session,
                principal=principal(session, "butler"),
                code="x",
                definition={},
                now=clock.now(),
            )
    alarm_id = raise_fall()
    with db.session_scope() as session:
        alarm = load_alarm(db, alarm_id)
        problems = [
            e.note
            for e in service.history(session=session, alarm=alarm)
            if e.action == "policy_problem"
        ]
        assert problems and "invalid" in problems[0] and "homecare_fall" in problems[0]
    assert sent_to(outbox(db, alarm_id), "sms") == ["butler", "elder", "family", "family"]
    unknown = raise_fall(source_id="radar-x", policy="no_such_policy")
    with db.session_scope() as session:
        esc = service.escalation_of(session=session, alarm_id=unknown)
        assert esc is not None and esc.policy_code == "default"


def test_a_custom_policy_changes_the_wait(raise_fall, context, db, clock, providers):
    from anxin.alerts.policies import CATALOGUE

    doc = next(dict(d) for d in CATALOGUE if d["code"] == "homecare_fall")
    doc["steps"] = [dict(doc["steps"][0], wait_s=30), *doc["steps"][1:]]
    with quiet_unit(context) as uow:
        session = uow.session
        row = service.put_policy(
            session=session,
            principal=principal(session, "admin"),
            code="homecare_fall",
            definition=doc,
            now=clock.now(),
        )
        assert row.valid and row.origin == "custom"
        service.sync_policies(session=session, now=clock.now())  # sync keeps the edit
        assert session.get(type(row), "homecare_fall").definition["steps"][0]["wait_s"] == 30
    alarm_id = raise_fall()
    from .conftest import tick

    tick(context, clock, providers)
    tick(context, clock, providers, advance_s=30)
    assert sent_to(outbox(db, alarm_id), "voice") == ["emergency_contact"]
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 7
