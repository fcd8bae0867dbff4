"""Medication reminders: doses scheduled from a prescription, confirmed by the elder, missed
after the grace period with an alarm that reaches the family, and adherence on the card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.alerts.models import Alarm, Notification
from anxin.consult import service, worker
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.demo.seed import DemoInfo
from anxin.iot import service as iot
from anxin.iot.schemas import DeviceCreate
from anxin.people import service as people
from anxin.web.live import live_hub
from tests.conftest import login
from tests.consult.conftest import API, ask

Headers = Callable[[str], dict[str, str]]
# The clock starts on 2026-11-29 at 10:00 in Shanghai: today's 08:00 has passed.
VITAMIN = {"drug": "维生素D vitamin D", "strength": "400 IU", "dose": "1 tablet", "route": "oral",
           "frequency": "qd", "duration_days": 3, "quantity": 3, "times": ["08:00"]}  # fmt: skip


def _sweep(app: FastAPI, clock: FrozenClock) -> int:
    with app.state.context.unit(actor="test:sweep") as uow:
        return service.sweep_doses(uow=uow, now=clock.now())


def test_a_dose_is_confirmed_another_missed_reaches_the_family_and_adherence_shows(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]],
    clock: FrozenClock, app: FastAPI, db: Database,
) -> None:  # fmt: skip
    wu, elder = doctors["wu"], as_user("elder")
    cid = ask(client, elder, demo.elder_id)["id"]
    client.post(f"{API}/consultations/{cid}/take", headers=wu)
    r = client.post(f"{API}/consultations/{cid}/prescriptions", json=VITAMIN, headers=wu)
    assert r.status_code == 201, r.text
    rx_id = r.json()["id"]
    doses_url = f"{API}/elders/{demo.elder_id}/doses"

    def vitamin(day: str = "") -> list[dict[str, str]]:
        # The demo's atorvastatin has its own 21:00 doses; these tests follow the vitamin's.
        doses = client.get(f"{doses_url}{day}", headers=as_user("elder")).json()
        return [d for d in doses if d["prescription_id"] == rx_id]

    assert vitamin() == []  # today's 08:00 is gone
    [first] = vitamin("?day=2026-11-30")
    assert first["due_at"].startswith("2026-11-30T00:00") and first["status"] == "due"
    [second] = vitamin("?day=2026-12-01")

    confirm = f"{API}/doses/{first['id']}/confirm"
    assert client.post(confirm, headers=elder).status_code == 409  # a day early
    assert client.post(confirm, headers=as_user("neighbour-family")).status_code == 404
    assert client.post(confirm, headers=as_user("son")).status_code == 403  # the elder confirms
    clock.advance(timedelta(hours=22, minutes=30))  # 2026-11-30 08:30 in Shanghai
    elder = as_user("elder")  # a fresh token: access tokens last 15 minutes
    r = client.post(confirm, headers=elder)
    assert r.status_code == 200 and r.json()["status"] == "taken"
    assert client.post(confirm, headers=elder).status_code == 409

    clock.advance(timedelta(hours=24, minutes=29))  # 59 minutes after the second dose's time
    _sweep(app, clock)
    assert vitamin("?day=2026-12-01")[0]["status"] == "due"  # within the grace period
    clock.advance(timedelta(minutes=2))
    assert _sweep(app, clock) >= 1
    assert vitamin("?day=2026-12-01")[0]["status"] == "missed"
    assert _sweep(app, clock) == 0  # missed once
    with db.session_scope() as session:
        missed = session.scalars(select(Alarm).where(Alarm.alarm_type == "missed_dose")).all()
        [alarm] = [a for a in missed if a.details["dose_id"] == second["id"]]
        assert alarm.owner_id == demo.household_id and "维生素D" in alarm.title
        roles = set(
            session.scalars(
                select(Notification.recipient_role).where(Notification.alarm_id == alarm.id)
            )
        )
    assert "family" in roles  # the son and the daughter are told

    wu = login(client, "dr.wu", "doctor-pass-123").headers
    elder = as_user("elder")
    card = client.get(f"{API}/elders/{demo.elder_id}/card", headers=wu).json()
    # the vitamin: one taken, one missed; the atorvastatin: two nights missed, 28 to come
    assert card["adherence"] == {"taken": 1, "missed": 3, "due": 28, "rate": 0.25}
    # Taken late: recorded, and the alarm is cleared.
    r = client.post(f"{API}/doses/{second['id']}/confirm", headers=elder)
    assert r.status_code == 200 and r.json()["status"] == "taken"
    with db.session_scope() as session:
        assert session.get(Alarm, alarm.id).cleared  # type: ignore[union-attr]


def test_stopping_a_prescription_cancels_its_pending_doses(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]],
    clock: FrozenClock, app: FastAPI,
) -> None:  # fmt: skip
    wu = doctors["wu"]
    cid = ask(client, as_user("elder"), demo.elder_id)["id"]
    client.post(f"{API}/consultations/{cid}/take", headers=wu)
    rx = client.post(f"{API}/consultations/{cid}/prescriptions", json=VITAMIN, headers=wu).json()
    client.post(f"{API}/consultations/{cid}/prescriptions/{rx['id']}/stop", headers=wu)
    doses = client.get(f"{API}/elders/{demo.elder_id}/doses?day=2026-11-30", headers=wu).json()
    assert [d["status"] for d in doses if d["prescription_id"] == rx["id"]] == ["cancelled"]
    clock.advance(timedelta(days=5))
    _sweep(app, clock)
    wu = login(client, "dr.wu", "doctor-pass-123").headers
    doses = client.get(f"{API}/elders/{demo.elder_id}/doses?day=2026-11-30", headers=wu).json()
    assert [d["status"] for d in doses if d["prescription_id"] == rx["id"]] == ["cancelled"]
    r = client.get(f"{API}/elders/{demo.elder_id}/doses?day=30-11-2026", headers=wu)
    assert r.status_code == 422


def test_the_elder_is_reminded_at_the_dose_time_once_on_the_app_and_the_speaker(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]],
    clock: FrozenClock, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    relayed: list[dict[str, Any]] = []
    monkeypatch.setattr(live_hub(app), "publish", relayed.append)
    with app.state.context.unit(actor="test:seed") as uow:
        speaker, _ = iot.register_device(
            session=uow.session, organisation_id=demo.organisation_id,
            data=DeviceCreate(device_type="smart_speaker", name="客厅音箱",
                              owner_kind="household", owner_id=demo.household_id),
            now=uow.now(),
        )  # fmt: skip
        speaker_id = speaker.id
    wu = doctors["wu"]
    cid = ask(client, as_user("elder"), demo.elder_id)["id"]
    client.post(f"{API}/consultations/{cid}/take", headers=wu)
    rx_id = client.post(
        f"{API}/consultations/{cid}/prescriptions", json=VITAMIN, headers=wu
    ).json()["id"]
    sweeper = worker.build(app.state.context)

    def reminders() -> list[tuple[str, str, str]]:
        with db.session_scope() as session:
            rows = session.scalars(
                select(Notification).where(Notification.purpose == "reminder")
            ).all()
            return sorted((n.recipient_role, n.channel.value, n.address) for n in rows
                          if "维生素D" in n.body)  # fmt: skip

    # 2026-11-30 07:59:30 in Shanghai: not yet. (Last night's 21:00 atorvastatin dose went by
    # while the clock jumped: it is not reminded ten hours late.)
    clock.advance(timedelta(hours=21, minutes=59, seconds=30))
    sweeper.tick()
    assert reminders() == []
    clock.advance(timedelta(seconds=30))  # 08:00: the dose's time
    sweeper.tick()
    with db.session_scope() as session:
        elder_user = people.get_user_by_username(session=session, username="elder")
        assert elder_user is not None
        elder_user_id = elder_user.id
        late = select(Notification).where(
            Notification.purpose == "reminder", Notification.body.like("%阿托伐他汀%")
        )
        assert session.scalars(late).all() == []
    assert reminders() == [("elder", "push", elder_user_id),
                           ("smart_speaker", "push", f"device:{speaker_id}")]  # fmt: skip
    clock.advance(timedelta(seconds=30))
    assert sweeper.tick() == 0 and len(reminders()) == 2  # once
    [ping] = [m for m in relayed if m["subject"] == "consult.dose.reminded"]
    assert ping["owner_kind"] == "household" and ping["owner_id"] == demo.household_id

    # The elder's page shows it to take now, and confirms it.
    client.post("/login", data={"username": "elder", "password": "demo-elder-pass"})
    today = client.get("/consult/today").text
    [dose_id] = [d["id"] for d in client.get(f"{API}/elders/{demo.elder_id}/doses",
                 headers=as_user("elder")).json() if d["prescription_id"] == rx_id]  # fmt: skip
    assert f'data-dose-id="{dose_id}" data-status="due" class="due-now"' in today
    assert "现在服用" in today and "现在服用" in client.get("/consult").text
    assert client.post(f"/consult/doses/{dose_id}/confirm").status_code in (200, 303)
    today = client.get("/consult/today").text
    assert f'data-dose-id="{dose_id}" data-status="taken"' in today and "现在服用" not in today


def test_the_elder_confirms_by_telling_the_speaker(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]],
    clock: FrozenClock, app: FastAPI, demo_devices: dict[str, tuple[str, str]],
) -> None:  # fmt: skip
    with app.state.context.unit(actor="test:seed") as uow:
        _, token = iot.register_device(
            session=uow.session, organisation_id=demo.organisation_id,
            data=DeviceCreate(device_type="smart_speaker", name="客厅音箱",
                              owner_kind="household", owner_id=demo.household_id),
            now=uow.now(),
        )  # fmt: skip
    speaker = {"Authorization": f"Bearer {token}"}
    url = f"{API}/speaker/doses/confirm"
    wu = doctors["wu"]
    cid = ask(client, as_user("elder"), demo.elder_id)["id"]
    client.post(f"{API}/consultations/{cid}/take", headers=wu)
    rx_id = client.post(
        f"{API}/consultations/{cid}/prescriptions", json=VITAMIN, headers=wu
    ).json()["id"]

    # 10:00: nothing to take now (the vitamin is at 08:00; the atorvastatin at 21:00).
    r = client.post(url, headers=speaker)
    assert r.status_code == 200 and r.json()["confirmed"] == []
    assert "没有" in r.json()["say"]
    clock.advance(timedelta(hours=21, minutes=55))  # 2026-11-30 07:55 in Shanghai
    r = client.post(url, headers=speaker)
    assert r.status_code == 200, r.text
    # This morning's vitamin, not last night's unconfirmed atorvastatin.
    [taken] = r.json()["confirmed"]
    assert taken["prescription_id"] == rx_id and taken["status"] == "taken"
    assert taken["due_at"].startswith("2026-11-30T00:00")
    assert client.post(url, headers=speaker).json()["confirmed"] == []  # once

    # Only a home's speaker, with its token.
    assert client.post(url).status_code == 401
    assert client.post(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    _, radar = demo_devices["mmwave_radar"]
    assert client.post(url, headers={"Authorization": f"Bearer {radar}"}).status_code == 403
