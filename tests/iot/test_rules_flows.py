"""The rule engine in the process: stored state, restarts, stored rules, invalid rules, the API."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.alerts.models import Alarm
from anxin.app import create_app
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.core.events import Event
from anxin.iot.models import DeviceRule, RuleState
from anxin.iot.rules import flows
from tests.conftest import device_headers


def post(client: TestClient, token: str, values: dict, clock: FrozenClock, mid: str) -> int:
    body = {"message_id": mid, "ts": clock.now().isoformat(), "values": values}
    response = client.post(
        "/api/v1/telemetry", content=json.dumps(body).encode(), headers=device_headers(token)
    )
    return response.status_code


def rule_events(app) -> list[Event]:
    seen: list[Event] = []
    app.state.context.bus.subscribe("iot.rule.*", lambda _s, e: seen.append(e))
    return seen


def test_a_timer_started_before_a_restart_fires_after_it(settings, clock, demo_devices):
    first = create_app(settings, clock=clock)
    device_id, token = demo_devices["mmwave_radar"]
    with TestClient(first) as client:
        still = {"zone": "bathroom", "presence": True, "motion": False}
        assert post(client, token, still, clock, "s-1") == 200
    first.state.context.db.dispose()  # the process dies; only the database remains

    with Database(settings.database_url).session_scope() as session:
        row = session.get(RuleState, (device_id, "radar.bathroom_stay"))
        assert row is not None and row.due_at == clock.now() + timedelta(minutes=30)

    clock.advance(timedelta(minutes=31))
    second = create_app(settings, clock=clock)
    try:
        events = rule_events(second)
        with second.state.context.unit(actor="test:sweep") as uow:
            fired = flows.sweep(uow=uow, now=clock.now())
        # The bathroom stay and, 5 minutes after the last reading, the silent radar.
        assert fired == 2
        assert sorted(e.payload["alarm_type"] for e in events) == [
            "device_offline",
            "long_bathroom_stay",
        ]
        stay = next(e for e in events if e.subject == "iot.rule.long_bathroom_stay")
        assert stay.payload["device"]["id"] == device_id
        assert stay.payload["owner"]["kind"] == "household"
        assert stay.payload["severity"] == "MAJOR" and stay.payload["action"] == "raise"
        with second.state.context.db.session_scope() as session:
            types = set(session.scalars(select(Alarm.alarm_type)))
        assert types == {"device_offline", "long_bathroom_stay"}
    finally:
        second.state.context.db.dispose()


def test_an_invalid_rule_is_stored_listed_and_skipped(
    client, app, demo_devices, as_user, db, clock
):
    admin = as_user("admin")
    bad = {
        "device_type": "mmwave_radar",
        "name": "radar.fall",  # overrides the default fall rule, with a typo
        "spec": {
            "kind": "event",
            "alarm_type": "fall",
            "conditions": [{"key": "fal", "value": True}],
        },
    }
    response = client.post("/api/v1/device-rules", json=bad, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["valid"] is False and "reports no 'fal'" in created["invalid_reason"]
    assert created["effective"] is False

    listed = client.get("/api/v1/device-rules?device_type=mmwave_radar", headers=admin).json()
    by_source = {(r["name"], r["source"]): r for r in listed}
    assert by_source[("radar.fall", "organisation")]["valid"] is False
    # The default keeps protecting the elder while the administrator fixes the typo.
    assert by_source[("radar.fall", "default")]["effective"] is True

    _, token = demo_devices["mmwave_radar"]
    assert post(client, token, {"fall": True}, clock, "f-1") == 200  # ingestion never breaks
    assert len([a for a in _alarms(db) if a == "fall"]) == 1

    fixed = {"spec": {**bad["spec"], "conditions": [{"key": "fall", "value": True}]}}
    response = client.patch(f"/api/v1/device-rules/{created['id']}", json=fixed, headers=admin)
    assert response.status_code == 200
    assert response.json()["valid"] is True and response.json()["effective"] is True


def test_a_broken_stored_row_never_crashes_ingestion(
    client, context, demo, demo_devices, db, clock
):
    with context.unit(actor="test:hand-edit") as uow:
        uow.session.add(
            DeviceRule(
                organisation_id=demo.organisation_id,
                device_type="mmwave_radar",
                name="radar.weird",
                spec={"kind": "event", "conditions": "nonsense"},
                enabled=True,
                valid=True,  # lies: it was edited by hand; loading re-validates
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    _, token = demo_devices["mmwave_radar"]
    assert post(client, token, {"fall": True}, clock, "f-1") == 200
    assert "fall" in _alarms(db)


def test_a_device_rule_overrides_and_disabling_switches_off(
    client, demo_devices, as_user, db, clock
):
    admin = as_user("admin")
    device_id, token = demo_devices["door_sensor"]
    response = client.post(
        "/api/v1/device-rules",
        json={
            "device_type": "door_sensor",
            "device_id": device_id,
            "name": "door.any_open",
            "spec": {
                "kind": "event",
                "alarm_type": "door_open",
                "severity": "WARNING",
                "conditions": [{"key": "open", "value": True}],
            },
        },
        headers=admin,
    )
    assert response.status_code == 201 and response.json()["source"] == "device"
    response = client.post(
        "/api/v1/device-rules",
        json={"device_type": "door_sensor", "name": "door.tamper", "spec": {}, "enabled": False},
        headers=admin,
    )
    assert response.status_code == 201
    assert post(client, token, {"open": True, "tamper": True}, clock, "o-1") == 200
    assert _alarms(db) == ["door_open"]
    listed = client.get(f"/api/v1/device-rules?device_id={device_id}", headers=admin).json()
    assert {r["name"] for r in listed if r["effective"]} == {
        "door.any_open",
        "door.intrusion",
        "door.offline",
    }


def test_rules_api_is_authorised(client, demo_devices, as_user):
    son = as_user("son")
    assert client.get("/api/v1/device-rules").status_code == 401
    assert client.get("/api/v1/device-rules", headers=son).status_code == 403
    butler = as_user("butler")
    listed = client.get("/api/v1/device-rules", headers=butler)
    assert listed.status_code == 200
    assert {"radar.fall", "mat.night_out_of_bed", "door.intrusion", "speaker.sos"} <= {
        r["name"] for r in listed.json()
    }
    spec = {"device_type": "door_sensor", "name": "x", "spec": {}}
    assert client.post("/api/v1/device-rules", json=spec, headers=butler).status_code == 403
    admin = as_user("admin")
    bad_type = {**spec, "device_type": "toaster"}
    assert client.post("/api/v1/device-rules", json=bad_type, headers=admin).status_code == 422
    missing = client.patch("/api/v1/device-rules/nope", json={"enabled": False}, headers=admin)
    assert missing.status_code == 404


def _alarms(db: Database) -> list[str]:
    with db.session_scope() as session:
        return list(session.scalars(select(Alarm.alarm_type).order_by(Alarm.first_raised_at)))


def test_the_sweeper_thread_fires_due_timers_and_stops_with_the_app(
    database_url, client, demo_devices, clock
):
    import time as _time
    from dataclasses import replace

    from anxin.domains import discover
    from tests.conftest import make_settings

    _, token = demo_devices["mmwave_radar"]
    assert post(client, token, {"heartbeat": True}, clock, "h-1") == 200
    clock.advance(timedelta(minutes=6))
    # A serving app with its workers on, the iot domain's sweeper passing every 50 ms.
    domains = [
        replace(d, workers=[lambda ctx: flows.Sweeper(ctx, interval_s=0.05)])
        if d.name == "iot"
        else d
        for d in discover()
    ]
    settings = make_settings(database_url, workers=True, workers_start_delay_s=0)
    serving = create_app(settings, clock=clock, domains=domains)
    try:
        with TestClient(serving):
            sweepers = [w for w in serving.state.workers if isinstance(w, flows.Sweeper)]
            assert len(sweepers) == 1
            thread = sweepers[0]._thread
            assert thread is not None and thread.is_alive()
            deadline = _time.monotonic() + 10
            while "device_offline" not in _alarm_types(serving.state.context.db) and (
                _time.monotonic() < deadline
            ):
                _time.sleep(0.05)
            assert "device_offline" in _alarm_types(serving.state.context.db)
        # The app's shutdown stopped its workers, the sweeper with them.
        thread.join(timeout=5)
        assert not thread.is_alive()
    finally:
        serving.state.context.db.dispose()


def _alarm_types(db: Database) -> set[str]:
    with db.session_scope() as session:
        return set(session.scalars(select(Alarm.alarm_type)))


def test_a_busy_device_is_not_written_per_reading_nor_reported_offline(
    app, client, demo_devices, db, clock
):
    device_id, token = demo_devices["door_sensor"]
    assert post(client, token, {"open": False}, clock, "d-0") == 200
    with db.session_scope() as session:
        first = session.get(RuleState, (device_id, "door.offline"))
        assert first is not None
        written_at = first.updated_at
    for i in range(1, 8):  # a reading every 10 minutes, for 70 minutes (offline after 60)
        clock.advance(timedelta(minutes=10))
        assert post(client, token, {"open": False}, clock, f"d-{i}") == 200
        with app.state.context.unit(actor="test:sweep") as uow:
            flows.sweep(uow=uow, now=clock.now())
    assert "device_offline" not in _alarm_types(db)
    with db.session_scope() as session:
        row = session.get(RuleState, (device_id, "door.offline"))
        assert row is not None
        # Moved on by the sweep when it fell due (once, at 60 min), not by every reading.
        assert row.updated_at == written_at + timedelta(minutes=60)
        assert row.due_at == clock.now() - timedelta(minutes=10) + timedelta(minutes=60)
