"""Bookings end to end through the API: speaker, assignment, the visit, rating, the board."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.demo.seed import DemoInfo
from anxin.services.models import Booking
from tests.conftest import device_headers, login

Headers = Callable[[str], dict[str, str]]
EVERY_DAY = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7)]
API = "/api/v1/services"


def _count(db: Database) -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(Booking)) or 0


def test_speaker_books_a_cook_who_visits_and_is_rated(
    client: TestClient, crew: dict[str, Any], speaker: dict[str, str], as_user: Headers,
    clock: FrozenClock, db: Database,
) -> None:  # fmt: skip
    r = client.post(f"{API}/speaker/utterances", json={"text": "帮我叫个阿姨"}, headers=speaker)
    assert r.status_code == 200 and r.json()["understood"] is False
    assert r.json()["reason"] == "unknown_service" and _count(db) == 0  # nothing booked

    r = client.post(
        f"{API}/speaker/utterances", json={"text": "明天中午帮我叫个做饭的阿姨"}, headers=speaker
    )
    reply = r.json()
    assert r.status_code == 200 and reply["understood"], r.text
    draft = reply["booking"]
    assert draft["status"] == "draft" and draft["scenario"] == "cook_visit"
    assert draft["start"].startswith("2026-11-30T03:00")  # 11:00 Monday in Shanghai
    assert reply["say_zh"].startswith("为您预约11月30日(周一)11:00的上门做饭")
    elder = as_user("elder")
    assert client.get(f"{API}/bookings", headers=elder).json() == []  # a draft is not a booking

    r = client.post(f"{API}/speaker/bookings/{draft['id']}/confirm", headers=speaker)
    booking = r.json()["booking"]
    assert r.status_code == 200 and booking["status"] == "assigned"
    assert booking["worker_id"] == crew["cooking"]["worker"]["id"]
    assert booking["area"] == "崇川区" and booking["price"] == "120.00"
    again = client.post(f"{API}/speaker/bookings/{draft['id']}/confirm", headers=speaker)
    assert again.status_code == 409

    cook, cleaner = crew["cooking"]["headers"], crew["cleaning"]["headers"]
    bid = booking["id"]
    assert client.post(f"{API}/bookings/{bid}/check-in", headers=cleaner).status_code == 404
    clock.advance(timedelta(hours=25, minutes=5))
    cook = login(client, "cook.wang", "worker-pass-123").headers  # access tokens last 15 minutes
    assert client.post(f"{API}/bookings/{bid}/check-in", headers=cook).json()["status"] == (
        "in_progress"
    )
    bad = client.put(f"{API}/bookings/{bid}/checklist", json={"done": ["dance"]}, headers=cook)
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "done"
    done = ["diet", "meal", "fridge", "gas"]
    r = client.put(f"{API}/bookings/{bid}/checklist", json={"done": done}, headers=cook)
    assert r.json()["checklist_done"] == done
    clock.advance(timedelta(minutes=110))
    cook = login(client, "cook.wang", "worker-pass-123").headers
    r = client.post(f"{API}/bookings/{bid}/check-out", headers=cook)
    elder = as_user("elder")
    assert r.json()["status"] == "done" and r.json()["checked_out_at"]

    r = client.post(f"{API}/bookings/{bid}/rating", json={"stars": 6}, headers=elder)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "stars"
    r = client.post(
        f"{API}/bookings/{bid}/rating", json={"stars": 5, "comment": "好吃"}, headers=elder
    )
    assert r.status_code == 200 and r.json()["rating"] == 5
    assert (
        client.post(f"{API}/bookings/{bid}/rating", json={"stars": 1}, headers=elder).status_code
        == 409
    )
    assert client.get(f"{API}/bookings/{bid}", headers=as_user("son")).json()["rating"] == 5
    assert (
        client.get(f"{API}/bookings/{bid}", headers=as_user("neighbour-family")).status_code == 404
    )
    cleaner = login(client, "cleaner.li", "worker-pass-123").headers
    assert client.get(f"{API}/bookings/{bid}", headers=cleaner).status_code == 404


def _fall(client: TestClient, demo_devices: dict[str, tuple[str, str]], clock: FrozenClock) -> None:
    _, token = demo_devices["mmwave_radar"]
    body = {"message_id": "f-1", "ts": clock.now().isoformat(),
            "values": {"presence": True, "zone": "bathroom", "fall": True}}  # fmt: skip
    r = client.post(
        "/api/v1/telemetry", content=json.dumps(body).encode(), headers=device_headers(token)
    )
    assert r.status_code == 200, r.text


def test_a_fall_puts_the_emergency_booking_on_top_of_the_board(
    client: TestClient, crew: dict[str, Any], demo: DemoInfo, as_user: Headers,
    demo_devices: dict[str, tuple[str, str]], clock: FrozenClock,
) -> None:  # fmt: skip
    butler = as_user("butler")
    soon = (clock.now() + timedelta(hours=2)).isoformat()
    cleaning = {"elder_id": demo.elder_id, "scenario": "cleaning", "start": soon}
    r = client.post(f"{API}/bookings", json=cleaning, headers=as_user("son"))
    assert r.status_code == 201 and r.json()["source"] == "family", r.text
    emergency = {"elder_id": demo.elder_id, "scenario": "emergency_help"}
    clock.advance(timedelta(minutes=1))
    r = client.post(f"{API}/bookings", json=emergency, headers=butler)
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["start"]) == clock.now()  # help is sent now
    # Before the fall, emergencies already rank above visits, but nothing says "alarm".
    board = client.get(f"{API}/board", headers=butler).json()
    assert [b["scenario"] for b in board] == ["emergency_help", "cleaning"]
    assert not any(b["alarm_open"] for b in board)

    _fall(client, demo_devices, clock)
    board = client.get(f"{API}/board", headers=butler).json()
    assert board[0]["scenario"] == "emergency_help" and board[0]["alarm_open"] is True
    assert board[1]["alarm_open"] is True  # same home, but not an emergency: second
    assert client.get(f"{API}/board", headers=as_user("elder")).status_code == 403


def test_who_may_book_and_what_is_refused(
    client: TestClient, crew: dict[str, Any], demo: DemoInfo, as_user: Headers, clock: FrozenClock,
    demo_devices: dict[str, tuple[str, str]],
) -> None:  # fmt: skip
    tomorrow = (clock.now() + timedelta(days=1)).isoformat()
    body = {"elder_id": demo.elder_id, "scenario": "cook_visit", "start": tomorrow}
    assert (
        client.post(f"{API}/bookings", json=body, headers=as_user("neighbour-family")).status_code
        == 404
    )
    assert (
        client.post(f"{API}/bookings", json=body, headers=crew["cooking"]["headers"]).status_code
        == 403
    )
    past = {**body, "start": (clock.now() - timedelta(hours=1)).isoformat()}
    r = client.post(f"{API}/bookings", json=past, headers=as_user("elder"))
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "start"
    naive = {**body, "start": "2026-12-01T10:00:00"}
    assert client.post(f"{API}/bookings", json=naive, headers=as_user("elder")).status_code == 422
    r = client.post(f"{API}/bookings", json=body, headers=as_user("elder"))
    assert r.status_code == 201 and r.json()["source"] == "elder"
    bid = r.json()["id"]
    # The butler may not give a cook's visit to a cleaner, whatever the override.
    cleaner = crew["cleaning"]["worker"]["id"]
    r = client.post(
        f"{API}/bookings/{bid}/assign", json={"worker_id": cleaner}, headers=as_user("butler")
    )
    assert r.status_code == 422 and "missing_skill" in r.json()["fields"][0]["reason"]
    # A radar's token is not a speaker's.
    _, radar = demo_devices["mmwave_radar"]
    r = client.post(
        f"{API}/speaker/utterances", json={"text": "明天上午打扫"}, headers=device_headers(radar)
    )
    assert r.status_code == 403
    assert client.post(f"{API}/speaker/utterances", json={"text": "x"}).status_code == 401
