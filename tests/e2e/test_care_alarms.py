"""The heart of home care, in a real browser: a fall reaches the butler's queue live, an
acknowledgement stops the escalation, an unanswered fall rings the emergency contact, and the
family sees their own elder's alarm and nothing of another household."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.conftest import DEMO_PASSWORDS, E2E_WAIT_S, LiveServer, browser_login

pytestmark = pytest.mark.e2e

ESCALATION_WAIT_S = 120  # the homecare_fall policy's wait before the voice call


def _radar_token(live: LiveServer) -> str:
    from anxin.iot.models import Device

    with live.db.session_scope() as session:
        for device_id, token in live.demo.device_tokens.items():
            device = session.get(Device, device_id)
            if device is not None and device.device_type == "mmwave_radar":
                return token
    raise AssertionError("the demo household has no radar")


def _post_fall(live: LiveServer) -> None:
    reading = {
        "message_id": f"fall-{uuid.uuid4()}",
        "values": {"fall": True, "presence": True, "posture": "lying", "zone": "bathroom"},
    }
    response = httpx.post(
        f"{live.url}/api/v1/telemetry",
        json=reading,
        headers={"Authorization": f"Bearer {_radar_token(live)}"},
        timeout=E2E_WAIT_S,
    )
    assert response.status_code == 200, response.text


def _api(live: LiveServer, username: str) -> httpx.Client:
    token = httpx.post(
        f"{live.url}/api/v1/auth/token",
        data={"username": username, "password": DEMO_PASSWORDS[username]},
        timeout=E2E_WAIT_S,
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=live.url, headers=auth, timeout=E2E_WAIT_S)


def _outbox(api: httpx.Client, alarm_id: str) -> list[dict[str, object]]:
    rows = api.get("/api/v1/alerts/outbox", params={"alarm_id": alarm_id, "limit": 500}).json()
    assert isinstance(rows, list)
    return rows


def _wait_for(condition, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _let_the_worker_tick(live: LiveServer) -> None:
    """Until the alarm engine has ticked twice more: what it would do now, it has done (its
    first tick waits for the workers' start line, so a fixed pause could come before it)."""
    from anxin.alerts.worker import AlertsWorker

    [engine] = [w for w in live.app.state.workers if isinstance(w, AlertsWorker)]
    ticked = engine.ticks + 2
    _wait_for(lambda: engine.ticks >= ticked)


def test_fall_reaches_the_queue_live_and_acknowledging_stops_the_escalation(live_server, page):
    browser_login(page, live_server.url, "butler")
    page.goto(f"{live_server.url}/console/alarms")
    page.wait_for_selector("body[data-live=open]")
    assert page.locator('tr[data-type="fall"]').count() == 0

    _post_fall(live_server)
    row = page.locator('tr[data-type="fall"][data-state="raised"]')
    row.wait_for()  # arrives over server-sent events: the page is never reloaded
    assert "张桂芳" in row.inner_text()

    row.locator("button.ack").click()
    page.locator('tr[data-type="fall"][data-state="acknowledged"]').wait_for()
    api = _api(live_server, "butler")
    alarm_id = page.locator('tr[data-type="fall"]').get_attribute("data-alarm-id")
    assert alarm_id

    first_step = _outbox(api, alarm_id)
    sms_roles = {n["recipient_role"] for n in first_step if n["channel"] == "sms"}
    assert {"elder", "family", "butler"} <= sms_roles
    assert any(n["channel"] == "console" for n in first_step)

    live_server.clock.advance(ESCALATION_WAIT_S + 5)
    _let_the_worker_tick(live_server)
    assert [n for n in _outbox(api, alarm_id) if n["channel"] == "voice"] == []
    detail = api.get(f"/api/v1/alarms/{alarm_id}").json()
    assert detail["state"] == "acknowledged"


def test_an_unanswered_fall_calls_the_emergency_contact_after_the_wait(live_server, page):
    api = _api(live_server, "butler")
    _post_fall(live_server)
    alarm = _wait_for(lambda: api.get("/api/v1/alarms", params={"active": True}).json())[0]
    assert alarm["alarm_type"] == "fall"
    _let_the_worker_tick(live_server)
    assert [n for n in _outbox(api, alarm["id"]) if n["channel"] == "voice"] == []

    live_server.clock.advance(ESCALATION_WAIT_S + 1)
    voice = _wait_for(lambda: [n for n in _outbox(api, alarm["id"]) if n["channel"] == "voice"])
    assert {n["recipient_role"] for n in voice} == {"emergency_contact"}
    assert voice[0]["address"] == "+86 138 0000 1003"

    browser_login(page, live_server.url, "butler")
    page.goto(f"{live_server.url}/console/outbox")
    assert page.locator('tr[data-channel="voice"][data-role="emergency_contact"]').count() >= 1


def test_family_page_shows_their_alarm_live_and_nothing_of_another_household(live_server, page):
    browser_login(page, live_server.url, "son")
    page.goto(f"{live_server.url}/family")
    page.wait_for_selector("body[data-live=open]")
    _post_fall(live_server)
    page.locator('tr[data-type="fall"]').wait_for()
    text = page.locator("#family-cards").inner_text()
    assert "张桂芳" in text
    assert "赵建国" not in page.content()
    # The queue is for the care team; a family member is refused, and the neighbour's family
    # does not hear about this alarm at all.
    page.goto(f"{live_server.url}/console/alarms")
    assert page.locator("p.error").count() == 1
    browser_login(page, live_server.url, "neighbour-family")
    page.goto(f"{live_server.url}/family")
    assert page.locator('tr[data-type="fall"]').count() == 0
    assert "张桂芳" not in page.content()
