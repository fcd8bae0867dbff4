"""Online purchase of prescribed medicines: an order from a prescription becomes a home-services
booking (medicine delivery) whose status the consultation page shows to both sides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from anxin.core.clock import SHANGHAI, FrozenClock, to_local
from anxin.demo.seed import DemoInfo
from tests.conftest import DEMO_PASSWORDS
from tests.consult.conftest import API

Headers = Callable[[str], dict[str, str]]
SERVICES = "/api/v1/services"


def _tomorrow_at_ten(clock: FrozenClock) -> datetime:
    day = to_local(clock.now()).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


def _atorvastatin(client: TestClient, demo: DemoInfo, headers: dict[str, str]) -> str:
    rx = client.get(f"{API}/consultations/{demo.consultation_id}/prescriptions", headers=headers)
    [pid] = [p["id"] for p in rx.json() if p["drug"].startswith("阿托伐他汀")]
    return str(pid)


def test_the_son_orders_the_prescription_delivered_and_both_sides_see_its_status(
    client: TestClient, demo: DemoInfo, as_user: Headers, clock: FrozenClock
) -> None:
    son, doctor = as_user("son"), as_user("doctor")
    cid = demo.consultation_id
    pid = _atorvastatin(client, demo, son)
    url = f"{API}/consultations/{cid}/prescriptions/{pid}/orders"
    start = _tomorrow_at_ten(clock)

    r = client.post(url, json={"start": start.isoformat()}, headers=son)
    assert r.status_code == 201, r.text
    order = r.json()
    # The demo's delivery worker (meals, medicines) is free tomorrow at ten: assigned at once.
    assert order["status"] == "assigned" and order["worker_name"]
    booking = client.get(f"{SERVICES}/bookings/{order['booking_id']}", headers=son).json()
    assert booking["scenario"] == "medicine_delivery" and booking["elder_id"] == demo.elder_id
    assert "阿托伐他汀 atorvastatin 20 mg × 30" in booking["notes"]
    assert datetime.fromisoformat(booking["start"]) == start
    assert booking["price"] == "15.00"

    # Not twice while it is on its way; the doctor, who sees no bookings, sees its status.
    assert client.post(url, json={"start": start.isoformat()}, headers=son).status_code == 409
    [seen] = client.get(f"{API}/consultations/{cid}/orders", headers=doctor).json()
    assert seen["id"] == order["id"] and seen["status"] == "assigned"
    r = client.get(f"{SERVICES}/bookings/{order['booking_id']}", headers=doctor)
    assert r.status_code == 404

    # Cancelled in home services: the page says so, and the family may order again.
    r = client.post(f"{SERVICES}/bookings/{order['booking_id']}/cancel", headers=son)
    assert r.status_code == 200, r.text
    [seen] = client.get(f"{API}/consultations/{cid}/orders", headers=son).json()
    assert seen["status"] == "cancelled"
    client.post("/login", data={"username": "son", "password": DEMO_PASSWORDS["son"]})
    page = client.get(f"/consult/{cid}").text
    assert 'data-order-status="cancelled"' in page and "已取消" in page
    form = f'action="/consult/{cid}/prescriptions/{pid}/order"'
    assert form in page
    r = client.post(
        f"/consult/{cid}/prescriptions/{pid}/order",
        data={"start": start.strftime("%Y-%m-%dT%H:%M")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get(f"/consult/{cid}").text
    assert 'data-order-status="assigned"' in page and "已安排配送员" in page
    assert form not in page  # on its way: no second order
    assert len(client.get(f"{API}/consultations/{cid}/orders", headers=son).json()) == 2


def test_who_orders_what_and_bad_input(
    client: TestClient, demo: DemoInfo, as_user: Headers, clock: FrozenClock
) -> None:
    son, doctor = as_user("son"), as_user("doctor")
    cid = demo.consultation_id
    pid = _atorvastatin(client, demo, son)
    url = f"{API}/consultations/{cid}/prescriptions/{pid}/orders"
    start = _tomorrow_at_ten(clock).isoformat()
    assert client.post(url, json={"start": start}, headers=doctor).status_code == 403
    for who in (as_user("neighbour-family"), as_user("admin")):
        assert client.post(url, json={"start": start}, headers=who).status_code == 404
        r = client.get(f"{API}/consultations/{cid}/orders", headers=who)
        assert r.status_code == 404
    r = client.post(f"{API}/consultations/{cid}/prescriptions/nope/orders", json={"start": start},
                    headers=son)  # fmt: skip
    assert r.status_code == 404
    past = (clock.now() - timedelta(hours=1)).isoformat()
    r = client.post(url, json={"start": past}, headers=son)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "start"
    r = client.post(url, json={"start": "2026-12-01T10:00"}, headers=son)  # no time zone
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "start"
    # Medicines are ordered from a prescription, not from the home-services form.
    r = client.post(
        f"{SERVICES}/bookings",
        json={"elder_id": demo.elder_id, "scenario": "medicine_delivery", "start": start},
        headers=son,
    )
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "scenario"
    # A stopped prescription orders nothing.
    r = client.post(f"{API}/consultations/{cid}/prescriptions/{pid}/stop", headers=doctor)
    assert r.status_code == 200
    r = client.post(url, json={"start": start}, headers=son)
    assert r.status_code == 409
