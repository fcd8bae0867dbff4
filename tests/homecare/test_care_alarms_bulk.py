"""A batch of rule events raises the same care alarms as the events one at a time.

The rule engine hands the rule events of an ingest batch or a sweep unit to the bus in one
`publish_many`; homecare's preparer (`flows.RULE_EVENTS.prepare`) then raises their alarms through
`raise_alarms`. Each example feeds the same events twice in one database, under two device-id
prefixes: once event by event through the handler alone (`raise_alarm` per alarm, as a
JetStream consumer delivers them), once as a batch through the preparer. Before the batch both
sides get an active alarm (the batch repeats it) and a cleared one (the batch raises it anew).
Alarms, history, escalations, outbox rows, audit rows and bus events must match.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from anxin.alerts import service as alerts
from anxin.alerts.models import Alarm
from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.core.events import Event, InProcessBus
from anxin.demo.seed import DemoInfo
from anxin.homecare import flows

from ..alerts import test_alerts_bulk as bulk
from ..property_budget import examples

SOURCES = ("s0", "s1", "s2", "s3")
TYPES = ("fall", "sos", "night_out_of_bed")

event_spec = st.fixed_dictionaries(
    {
        "source": st.sampled_from(SOURCES),
        "type": st.sampled_from(TYPES),
        "action": st.sampled_from(["raise", "raise", "raise", "clear"]),
        "severity": st.sampled_from(["warning", "major", "critical"]),
        "corroborated": st.booleans(),
        # minutes from the unit's clock: past conditions keep the clock's time, a device clock
        # ahead of the server's starts the alarm at its own (another `now` within the batch)
        "at": st.sampled_from([-30, 0, 0, 0, 5]),
        "owner": st.sampled_from(["household", "household", "household", "other", "unknown"]),
    }
)


def _spec(source: str, action: str = "raise", **kw: Any) -> dict[str, Any]:
    spec = {"source": source, "type": "fall", "action": action, "severity": "major"}
    return spec | {"corroborated": False, "at": 0, "owner": "household"} | kw


def _event(spec: dict[str, Any], prefix: str, demo: DemoInfo, now: datetime) -> Event:
    owner = {
        "household": {"kind": "household", "id": demo.household_id},
        "other": {"kind": "lease_asset", "id": demo.household_id},
        "unknown": {"kind": "household", "id": "no-such-household"},
    }[spec["owner"]]
    fired_at = now + timedelta(minutes=spec["at"])
    details = {"corroborated": True} if spec["corroborated"] else {"zone": "bathroom"}
    return Event(
        subject=f"iot.rule.{spec['type']}",
        occurred_at=fired_at,
        payload={
            "action": spec["action"],
            "rule": f"{spec['type']}_rule",
            "alarm_type": spec["type"],
            "severity": spec["severity"],
            "fired_at": fired_at.isoformat(),
            "details": details,
            "organisation_id": demo.organisation_id,
            "device": {
                "id": f"{prefix}-{spec['source']}",
                "type": "mmwave_radar",
                "name": f"radar {spec['source']}",
            },
            "owner": owner,
        },
    )


def _bus(batched: bool, seen: list[Event]) -> InProcessBus:
    bus = InProcessBus()
    if batched:
        bus.prepare("iot.rule.*", flows.RULE_EVENTS.prepare)
    bus.subscribe("iot.rule.*", flows.RULE_EVENTS.handle)
    bus.subscribe("alerts.alarm.>", lambda _uow, e: seen.append(e))
    return bus


@settings(
    examples(25),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(event_spec, min_size=1, max_size=12))
# raised, cleared and raised again in one batch; a corroboration of an alarm the batch raised
# and of one it never raised; a device clock ahead (another `now`) between two raises
@example(batch=[_spec("s2"), _spec("s2", "clear"), _spec("s2"), _spec("s0", "clear")])
@example(batch=[_spec("s3"), _spec("s3", corroborated=True), _spec("s2", corroborated=True)])
@example(batch=[_spec("s2"), _spec("s3", at=5, type="sos"), _spec("s1"), _spec("s0")])
def test_a_batch_of_rule_events_raises_what_one_at_a_time_does(
    context: AppContext,
    db: Database,
    demo: DemoInfo,
    clock: FrozenClock,
    batch: list[dict[str, Any]],
) -> None:
    tag = uuid.uuid4().hex[:8]
    sides = {"one": f"one{tag}", "bulk": f"bulk{tag}"}
    events: dict[str, list[Event]] = {name: [] for name in sides}
    now = clock.now()
    for prefix in sides.values():
        setup = [_spec("s0"), _spec("s1"), _spec("s1", "clear")]
        with context.unit(actor="test:setup", bus=_bus(False, [])) as uow:
            for spec in setup:
                uow.publish(_event(spec, prefix, demo, now))
    for name, prefix in sides.items():
        rule_events = [_event(spec, prefix, demo, now) for spec in batch]
        with context.unit(actor="test:batch", bus=_bus(name == "bulk", events[name])) as uow:
            if name == "one":
                for event in rule_events:
                    uow.publish(event)
            else:
                uow.publish_many(rule_events)
    one = bulk._snapshot(db, sides["one"], events["one"])
    assert bulk._snapshot(db, sides["bulk"], events["bulk"]) == one
    assert len(events["bulk"]) == len(events["one"])


def test_a_batch_of_falls_is_raised_in_one_go(
    context: AppContext,
    db: Database,
    demo: DemoInfo,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many devices' falls in one batch: one alarm each, all in one `raise_alarms`."""
    calls: list[int] = []
    real = alerts.raise_alarms

    def spy(**kw: Any) -> list[str]:
        calls.append(len(kw["requests"]))
        return real(**kw)

    # The batch's `PendingRaises` raises through the bulk module's `raise_alarms`.
    monkeypatch.setattr("anxin.alerts.service.bulk.raise_alarms", spy)
    prefix = f"many{uuid.uuid4().hex[:8]}"
    specs = [_spec(f"d{i}") for i in range(40)]
    seen: list[Event] = []
    with context.unit(actor="test:batch", bus=_bus(True, seen)) as uow:
        uow.publish_many([_event(spec, prefix, demo, clock.now()) for spec in specs])
    with db.session_scope() as session:
        count = session.scalar(
            select(func.count()).select_from(Alarm).where(Alarm.source_id.like(f"{prefix}-%"))
        )
    assert count == 40
    assert calls == [40]
    assert [e.subject for e in seen] == ["alerts.alarm.raised"] * 40
