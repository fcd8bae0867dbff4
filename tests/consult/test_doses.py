"""Medication reminders: doses scheduled from a prescription, confirmed by the elder, missed
after the grace period with an alarm that reaches the family, and adherence on the card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.alerts.models import Alarm, Notification
from anxin.consult import service
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.demo.seed import DemoInfo
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
