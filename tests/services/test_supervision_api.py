"""The month's supervision figures from what really happened through the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.demo.seed import DemoInfo
from tests.conftest import device_headers, login

Headers = Callable[[str], dict[str, str]]
API = "/api/v1/services"
PASS = "worker-pass-123"


def _fall(client: TestClient, token: str, clock: FrozenClock) -> None:
    body = {"message_id": "f-1", "ts": clock.now().isoformat(),
            "values": {"presence": True, "zone": "bathroom", "fall": True}}  # fmt: skip
    r = client.post(
        "/api/v1/telemetry", content=json.dumps(body).encode(), headers=device_headers(token)
    )
    assert r.status_code == 200, r.text


def test_month_report_counts_on_time_late_missed_and_overdue_complaint(
    client: TestClient, crew: dict[str, Any], demo: DemoInfo, as_user: Headers,
    clock: FrozenClock, demo_devices: dict[str, tuple[str, str]],
) -> None:  # fmt: skip
    # Sunday 29 November 2026, 10:00 in Shanghai: a fall, acknowledged after 3 minutes.
    _fall(client, demo_devices["mmwave_radar"][1], clock)
    butler = as_user("butler")
    [alarm] = client.get("/api/v1/alarms", headers=butler).json()
    clock.advance(timedelta(minutes=3))
    butler = as_user("butler")
    assert (
        client.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=butler).status_code == 200
    )

    def book(scenario: str, hours_from_now: float) -> str:
        start = (clock.now() + timedelta(hours=hours_from_now)).isoformat()
        body = {"elder_id": demo.elder_id, "scenario": scenario, "start": start}
        r = client.post(f"{API}/bookings", json=body, headers=as_user("elder"))
        assert r.status_code == 201 and r.json()["status"] == "assigned", r.text
        return str(r.json()["id"])

    # Monday 30 November: a cook at 11:00, a cleaner at 14:00 and again at 17:00.
    cook_visit = book("cook_visit", 24 + 57 / 60)
    late_clean = book("cleaning", 24 + 3 + 57 / 60)
    book("cleaning", 24 + 6 + 57 / 60)  # nobody will come

    def visit(bid: str, user: str, arrive: timedelta, stay: timedelta, done: list[str]) -> None:
        clock.advance(arrive)
        headers = login(client, user, PASS).headers
        assert client.post(f"{API}/bookings/{bid}/check-in", headers=headers).status_code == 200
        client.put(f"{API}/bookings/{bid}/checklist", json={"done": done}, headers=headers)
        clock.advance(stay)
        headers = login(client, user, PASS).headers
        assert client.post(f"{API}/bookings/{bid}/check-out", headers=headers).status_code == 200

    # 11:05 the cook arrives (on time), everything done, out at 13:00.
    visit(cook_visit, "cook.wang", timedelta(hours=25, minutes=2), timedelta(minutes=115),
          ["diet", "meal", "fridge", "gas"])  # fmt: skip
    r = client.post(
        f"{API}/bookings/{cook_visit}/rating", json={"stars": 5}, headers=as_user("elder")
    )
    assert r.status_code == 200
    # 14:40 the cleaner arrives, 40 minutes late.
    visit(late_clean, "cleaner.li", timedelta(minutes=100), timedelta(minutes=110),
          ["floors", "kitchen", "bathroom", "rubbish"])  # fmt: skip
    r = client.post(f"{API}/bookings/{late_clean}/complaints", json={"text": "来晚了40分钟"},
                    headers=as_user("son"))  # fmt: skip
    assert r.status_code == 201, r.text
    complaint = r.json()

    # Monday 20:00: the 17:00 cleaning never happened; the complaint is within its 3 days.
    clock.advance(timedelta(hours=20) - timedelta(hours=16, minutes=30))
    r = client.get(f"{API}/supervision", params={"month": "2026-11"}, headers=as_user("butler"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["alarms"] == {"on_time": 1, "late": 0, "missed": 0, "pending": 0, "rate": "1.000"}
    assert report["visits"] == {"on_time": 1, "late": 1, "missed": 1, "pending": 0, "rate": "0.333"}
    assert report["complaints"]["pending"] == 1 and report["complaints"]["rate"] is None

    # Friday 4 December: the complaint is open past its target.
    clock.advance(timedelta(days=4))
    report = client.get(f"{API}/supervision?month=2026-11", headers=as_user("butler")).json()
    assert report["complaints"] == {
        "on_time": 0,
        "late": 0,
        "missed": 1,
        "pending": 0,
        "rate": "0.000",
    }
    [provider] = report["providers"]
    assert provider["name"] == "安心家政" and provider["mean_rating"] == "5.00"
    assert provider["score"] == "55.0"  # 60 × 0.333 + 40 × 5/5 − 5 for the overdue complaint
    # December has nothing yet; the elder may not read the report; a bad month is a 422.
    december = client.get(f"{API}/supervision", headers=as_user("butler")).json()
    assert december["month"] == "2026-12-01" and december["visits"]["rate"] is None
    assert client.get(f"{API}/supervision", headers=as_user("elder")).status_code == 403
    r = client.get(f"{API}/supervision?month=2026-13", headers=as_user("butler"))
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "query.month"

    close = {"resolution": "已致歉并扣减费用"}
    r = client.post(
        f"{API}/complaints/{complaint['id']}/close", json=close, headers=as_user("butler")
    )
    assert r.status_code == 200 and r.json()["closed_at"]
    report = client.get(f"{API}/supervision?month=2026-11", headers=as_user("butler")).json()
    assert report["complaints"]["late"] == 1  # closed, but after its 3 days
