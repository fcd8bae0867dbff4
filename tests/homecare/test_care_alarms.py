"""Device readings over HTTP become care alarms with the right people and policy."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.alerts.models import Alarm, Escalation, Notification
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.homecare.models import Household, HouseholdMode
from anxin.iot.models import Device
from anxin.iot.rules import flows as iot_flows
from tests.conftest import device_headers


def post(client: TestClient, token: str, values: dict, clock: FrozenClock, mid: str) -> None:
    body = {"message_id": mid, "ts": clock.now().isoformat(), "values": values}
    response = client.post(
        "/api/v1/telemetry", content=json.dumps(body).encode(), headers=device_headers(token)
    )
    assert response.status_code == 200, response.text


def alarms(db: Database, alarm_type: str | None = None) -> list[Alarm]:
    with db.session_scope() as session:
        stmt = select(Alarm).order_by(Alarm.first_raised_at)
        if alarm_type:
            stmt = stmt.where(Alarm.alarm_type == alarm_type)
        return list(session.scalars(stmt))


def sweep(app, clock: FrozenClock) -> int:
    context = app.state.context
    with context.unit(actor="test:sweep") as uow:
        return iot_flows.sweep(uow=uow, now=clock.now())


def test_fall_reading_raises_a_fall_alarm_for_everyone(client, demo, demo_devices, db, clock):
    device_id, token = demo_devices["mmwave_radar"]
    post(client, token, {"presence": True, "zone": "bathroom", "fall": True}, clock, "f-1")

    [alarm] = alarms(db, "fall")
    assert alarm.severity.value == "major"
    assert alarm.policy == "homecare_fall"
    assert alarm.owner_kind == "household" and alarm.owner_id == demo.household_id
    assert alarm.source_kind == "device" and alarm.source_id == device_id
    assert "张桂芳" in alarm.title
    with db.session_scope() as session:
        esc = session.scalar(select(Escalation).where(Escalation.alarm_id == alarm.id))
        assert esc is not None
        roles = sorted((r["role"], r["name"]) for r in esc.recipients)
        sent = session.scalars(select(Notification).where(Notification.alarm_id == alarm.id))
        first_step = {(n.recipient_role, n.channel.value) for n in sent}
    assert [r for r, _ in roles] == [
        "butler",
        "elder",
        "emergency_contact",
        "family",
        "family",
        "team_lead",
    ]
    assert ("team_lead", "管家组长 刘洋 Liu Yang") in roles
    assert {("elder", "sms"), ("family", "sms"), ("butler", "sms")} <= first_step


def test_no_movement_after_the_fall_makes_the_alarm_critical(client, app, demo_devices, db, clock):
    _, token = demo_devices["mmwave_radar"]
    post(client, token, {"fall": True, "motion": True}, clock, "f-1")
    clock.advance(20)
    post(client, token, {"motion": False, "posture": "lying"}, clock, "f-2")
    clock.advance(45)
    assert sweep(app, clock) == 1
    [alarm] = alarms(db, "fall")
    assert alarm.severity.value == "critical"
    assert alarm.count == 2
    assert alarm.details["corroborated"] is True


def test_door_opened_while_away_is_an_intrusion(client, demo, demo_devices, db, context, clock):
    _, token = demo_devices["door_sensor"]
    post(client, token, {"open": True}, clock, "d-1")
    post(client, token, {"open": False}, clock, "d-2")
    assert alarms(db, "intrusion") == []
    with context.unit(actor="test:family") as uow:
        household = uow.session.get(Household, demo.household_id)
        assert household is not None
        household.mode = HouseholdMode.AWAY
    clock.advance(60)
    post(client, token, {"open": True}, clock, "d-3")
    [alarm] = alarms(db, "intrusion")
    assert alarm.severity.value == "critical"
    assert alarm.details["household_mode"] == "away"


def test_silent_radar_goes_offline_then_clears_when_back(client, app, demo_devices, db, clock):
    device_id, token = demo_devices["mmwave_radar"]
    post(client, token, {"heartbeat": True}, clock, "h-1")
    clock.advance(timedelta(minutes=4))
    assert sweep(app, clock) == 0
    clock.advance(timedelta(minutes=1, seconds=1))
    assert sweep(app, clock) == 1
    [alarm] = alarms(db, "device_offline")
    assert alarm.policy == "homecare_alert"
    assert alarm.severity.value == "major"
    with db.session_scope() as session:
        device = session.get(Device, device_id)
        assert device is not None and device.online is False
    clock.advance(30)
    post(client, token, {"heartbeat": True}, clock, "h-2")
    [alarm] = alarms(db, "device_offline")
    assert alarm.cleared is True
    with db.session_scope() as session:
        device = session.get(Device, device_id)
        assert device is not None and device.online is True


def test_long_bathroom_stay_fires_by_sweep_and_clears(client, app, demo_devices, db, clock):
    _, token = demo_devices["mmwave_radar"]
    post(client, token, {"zone": "bathroom", "presence": True, "motion": False}, clock, "b-1")
    for i in range(6):  # the radar keeps reporting: present, still
        clock.advance(timedelta(minutes=4))
        post(client, token, {"zone": "bathroom", "presence": True, "motion": False}, clock, f"b{i}")
    clock.advance(timedelta(minutes=6))
    sweep(app, clock)
    [alarm] = alarms(db, "long_bathroom_stay")
    assert alarm.policy == "homecare_fall" and not alarm.cleared
    post(client, token, {"zone": "bathroom", "presence": True, "motion": True}, clock, "b-9")
    [alarm] = alarms(db, "long_bathroom_stay")
    assert alarm.cleared is True


def test_recipients_phone_only_contacts_and_the_team_lead(db, demo):
    from anxin.homecare.flows import recipients_for, team_lead_of

    with db.session_scope() as session:
        household = session.get(Household, demo.household_id)
        assert household is not None
        recipients, elders = recipients_for(session, household)
        [contact] = [r for r in recipients if r.role == "emergency_contact"]
        assert contact.user_id is None and contact.phone == "+86 138 0000 1003"
        family = [r for r in recipients if r.role == "family"]
        assert all(r.user_id and r.phone for r in family) and len(family) == 2
        [elder] = [r for r in recipients if r.role == "elder"]
        assert elder.phone == "+86 139 0000 0058" and elders[0].full_name == elder.name
        lead = team_lead_of(session, household.organisation_id, None)  # fallback: oldest team
        assert lead is not None and lead.username == "teamlead"


def test_care_teams_api(client, as_user):
    admin = as_user("admin")
    teams = client.get("/api/v1/care-teams", headers=admin).json()
    assert [t["name"] for t in teams] == ["管家一组 Butler team 1"]
    users = {u["username"]: u["id"] for u in client.get("/api/v1/users", headers=admin).json()}
    created = client.post(
        "/api/v1/care-teams",
        json={"name": "二组 Team 2", "lead_user_id": users["admin"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    team_id = created.json()["id"]
    moved = client.post(
        f"/api/v1/care-teams/{team_id}/members", json={"user_id": users["butler"]}, headers=admin
    )
    assert moved.status_code == 409  # one team at a time
    not_butler = client.post(
        f"/api/v1/care-teams/{team_id}/members", json={"user_id": users["son"]}, headers=admin
    )
    assert not_butler.status_code == 422
    assert client.get("/api/v1/care-teams", headers=as_user("son")).status_code == 403
    body = {"name": "mine", "lead_user_id": users["butler"]}
    assert (
        client.post("/api/v1/care-teams", json=body, headers=as_user("butler")).status_code == 403
    )


def test_a_resolved_fall_is_not_reopened_by_its_corroboration(
    client, app, demo_devices, db, clock, as_user
):
    _, token = demo_devices["mmwave_radar"]
    post(client, token, {"fall": True, "motion": False}, clock, "f-1")
    [alarm] = alarms(db, "fall")
    butler = as_user("butler")
    response = client.post(
        f"/api/v1/alarms/{alarm.id}/resolve", json={"note": "she is fine"}, headers=butler
    )
    assert response.status_code == 200, response.text
    clock.advance(61)
    assert sweep(app, clock) == 1  # the rule still upgrades…
    [alarm] = alarms(db, "fall")  # …but no new alarm is opened for a resolved fall
    assert alarm.state.value == "resolved" and alarm.severity.value == "major"
