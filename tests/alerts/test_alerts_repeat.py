"""A repeat of an alarm nobody is being escalated to any more (acknowledged, or the escalation
ran out) notifies the policy's `on_repeat` recipients again: one round per repeat, at most
once per `min_interval_s`, written to the alarm's history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from anxin.alerts import escalation as m
from anxin.alerts import service
from anxin.alerts.models import AlarmEvent, EscalationStatus
from anxin.alerts.policies import CATALOGUE
from anxin.alerts.providers import ProviderRegistry
from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.db import Database

from .conftest import load_alarm, outbox, tick
from .test_alerts_flows import ack

RaiseFall = Callable[..., str]
T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
ON_REPEAT = {"min_interval_s": 60, "notify": [{"roles": ["butler"], "channels": ["sms"]}]}


def policy(**overrides: object) -> m.Policy:
    doc = {
        "code": "p",
        "steps": [{"wait_s": 120, "notify": [{"roles": ["family"], "channels": ["sms"]}]}],
        **overrides,
    }
    return m.parse_policy(doc)


def state(status: m.Status) -> m.State:
    return m.State(status=status, step_index=0, repeats_done=0, fired=1, next_at=None)


# --- the pure rule ------------------------------------------------------------------------


def test_a_repeat_renotifies_only_once_nobody_is_escalated_to() -> None:
    p = policy(on_repeat=ON_REPEAT)
    assert m.renotify(p, state("active"), T0, None) == ("escalating", None)
    for ended in ("stopped", "exhausted"):
        decision, step = m.renotify(p, state(ended), T0, None)
        assert decision == "renotify" and step is not None
        assert step.targets == (m.Target(("butler",), ("sms",)),) and step.wait_s == 0
    assert m.renotify(policy(), state("stopped"), T0, None) == ("no_rule", None)


def test_repeats_closer_than_the_interval_are_not_sent_again() -> None:
    p = policy(on_repeat=ON_REPEAT)
    stopped = state("stopped")
    last = T0
    assert m.renotify(p, stopped, T0 + timedelta(seconds=59), last) == ("rate_limited", None)
    assert m.renotify(p, stopped, T0 + timedelta(seconds=60), last)[0] == "renotify"


def test_on_repeat_is_validated_and_stored_as_it_was_written() -> None:
    p = policy(on_repeat=ON_REPEAT)
    assert m.parse_policy(m.policy_document(p)) == p
    assert "on_repeat" not in m.policy_document(policy())  # absent stays absent
    with pytest.raises(m.PolicyInvalid) as info:
        policy(on_repeat={"min_interval_s": -1, "notify": [{"roles": ["butler"]}]})
    assert info.value.problems == [
        "on_repeat.notify[0].channels: a non-empty list of channels is required",
        "on_repeat.min_interval_s: must be a whole number of 0 or more",
    ]
    with pytest.raises(m.PolicyInvalid):
        policy(on_repeat=["butler"])


def test_the_fall_policy_tells_the_butler_again() -> None:
    fall = m.parse_policy(next(doc for doc in CATALOGUE if doc["code"] == "homecare_fall"))
    assert fall.on_repeat is not None and fall.on_repeat.min_interval_s > 0
    assert {role for t in fall.on_repeat.targets for role in t.roles} == {"butler"}


# --- through the service --------------------------------------------------------------------


def _history(db: Database, alarm_id: str) -> list[AlarmEvent]:
    with db.session_scope() as session:
        return list(
            session.scalars(
                select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)
            )
        )


def test_a_second_fall_after_acknowledgement_notifies_the_butler_again(
    raise_fall: RaiseFall, context: AppContext, db: Database, clock: FrozenClock
) -> None:
    alarm_id = raise_fall()
    first_round = len(outbox(db, alarm_id))
    clock.advance(30)
    ack(context, clock, alarm_id)
    clock.advance(90)
    assert raise_fall() == alarm_id  # the same open alarm: a repeat

    again = outbox(db, alarm_id)[first_round:]
    assert sorted((n.recipient_role, n.channel.value) for n in again) == [
        ("butler", "console"),
        ("butler", "sms"),
    ]
    assert all(n.step_seq is None and n.status.value == "pending" for n in again)
    assert all("再次发生" in n.subject and "×2" in n.subject for n in again)
    alarm = load_alarm(db, alarm_id)
    assert alarm.count == 2 and alarm.state.value == "acknowledged"
    events = _history(db, alarm_id)
    assert [e.action for e in events][-2:] == ["repeated", "renotified"]
    assert events[-2].data["renotify"] == "renotify"
    assert events[-1].data["count"] == 2 and events[-1].data["notifications"] == 2
    with db.session_scope() as session:  # the escalation itself stays stopped
        esc = service.escalation_of(session=session, alarm_id=alarm_id)
        assert esc is not None and esc.status == EscalationStatus.STOPPED


def test_repeats_within_a_minute_are_counted_then_the_next_is_sent(
    raise_fall: RaiseFall, context: AppContext, db: Database, clock: FrozenClock
) -> None:
    alarm_id = raise_fall()
    ack(context, clock, alarm_id)
    clock.advance(10)
    raise_fall()  # renotified
    sent = len(outbox(db, alarm_id))
    clock.advance(20)
    raise_fall()  # 20 s later: counted, not sent
    clock.advance(20)
    raise_fall()  # 40 s after the renotification: still not
    assert len(outbox(db, alarm_id)) == sent
    assert [e.data.get("renotify") for e in _history(db, alarm_id) if e.action == "repeated"] == [
        "renotify",
        "rate_limited",
        "rate_limited",
    ]
    clock.advance(21)
    raise_fall()  # 61 s after it: one more round, worded with the count so far
    latest = outbox(db, alarm_id)[sent:]
    assert len(latest) == 2 and all("×5" in n.subject for n in latest)
    assert load_alarm(db, alarm_id).count == 5


def test_a_repeat_while_the_escalation_runs_sends_nothing_extra(
    raise_fall: RaiseFall,
    db: Database,
    clock: FrozenClock,
    providers: ProviderRegistry,
    context: AppContext,
) -> None:
    alarm_id = raise_fall()
    before = len(outbox(db, alarm_id))
    clock.advance(30)
    raise_fall()
    assert len(outbox(db, alarm_id)) == before  # its own steps are notifying people
    tick(context, clock, providers, advance_s=100)  # the next step still fires on time
    assert len(outbox(db, alarm_id)) > before


def test_a_policy_without_on_repeat_stays_quiet_after_acknowledgement(
    raise_fall: RaiseFall, context: AppContext, db: Database, clock: FrozenClock
) -> None:
    alarm_id = raise_fall(policy="homecare_alert")
    ack(context, clock, alarm_id)
    before = len(outbox(db, alarm_id))
    clock.advance(120)
    raise_fall(policy="homecare_alert")
    assert len(outbox(db, alarm_id)) == before
    assert _history(db, alarm_id)[-1].data["renotify"] == "no_rule"
