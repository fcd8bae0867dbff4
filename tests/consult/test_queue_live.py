"""The doctors' queue goes live: a new request, a take, and a change of triage (an alarm at the
elder's home, abnormal sleep-mat vitals) ping the organisation's doctors and nobody else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.demo.seed import DemoInfo
from anxin.people import service as people
from anxin.web.live import _visibility, live_hub
from tests.conftest import DEMO_PASSWORDS
from tests.consult.conftest import API, ask, post_reading

Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def relayed(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the live hub relays to browsers, after commit."""
    out: list[dict[str, Any]] = []
    monkeypatch.setattr(live_hub(app), "publish", out.append)
    return out


def _queue(relayed: list[dict[str, Any]]) -> list[str]:
    """The subjects of the queue pings among them, then forgets them all."""
    subjects = [m["subject"] for m in relayed if m["owner_kind"] == "consult_queue"]
    relayed.clear()
    return subjects


def test_requests_takes_and_triage_changes_ping_the_doctors_queue(
    client: TestClient, demo: DemoInfo, as_user: Headers, app: FastAPI, clock: FrozenClock,
    demo_devices: dict[str, tuple[str, str]], zhao_id: str, relayed: list[dict[str, Any]],
) -> None:  # fmt: skip
    cid = ask(client, as_user("neighbour-family"), zhao_id)["id"]
    assert _queue(relayed) == ["consult.consultation.queue_requested"]
    with app.state.context.unit(actor="test") as uow:
        org = demo.organisation_id
        ping = {"subject": "consult.consultation.queue_requested", "owner_kind": "consult_queue",
                "organisation_id": org, "owner_id": org}  # fmt: skip
        heard = {}
        for username in ("doctor", "son", "elder", "butler", "neighbour-family", "admin"):
            user = people.get_user_by_username(session=uow.session, username=username)
            assert user is not None
            heard[username] = _visibility(uow, people.principal_of(user))(ping)
    # The administrator hears every event of the organisation (the hub's rule for admins).
    assert heard == {"doctor": True, "son": False, "elder": False, "butler": False,
                     "neighbour-family": False, "admin": True}  # fmt: skip
    assert client.post(f"{API}/consultations/{cid}/take", headers=as_user("doctor")).is_success
    assert _queue(relayed) == ["consult.consultation.queue_taken"]

    # 张桂芳 has the demo's open consultation: a normal night's reading is no news, a racing
    # heart is (her priority rises), and so is the fall alarm.
    _, mat = demo_devices["sleep_mat"]
    post_reading(client, mat, {"in_bed": True, "heart_rate": 68, "respiration_rate": 15}, clock,
                 "n1")  # fmt: skip
    assert _queue(relayed) == []
    post_reading(client, mat, {"in_bed": True, "heart_rate": 128, "respiration_rate": 15}, clock,
                 "n2")  # fmt: skip
    assert _queue(relayed) == ["consult.consultation.queue_triage"]
    _, radar = demo_devices["mmwave_radar"]
    post_reading(client, radar, {"presence": True, "zone": "bathroom", "fall": True}, clock, "f1")
    assert "consult.consultation.queue_triage" in _queue(relayed)

    # The rows the page refetches: the elder with the alarm and the racing heart first.
    client.post("/login", data={"username": "doctor", "password": DEMO_PASSWORDS["doctor"]})
    rows = client.get("/consult/queue/rows").text
    assert rows.index(f'data-consultation-id="{demo.consultation_id}"') < rows.index(
        f'data-consultation-id="{cid}"'
    )
    assert f'data-consultation-id="{demo.consultation_id}" data-priority="3"' in rows
    client.post("/logout")
    client.post("/login", data={"username": "son", "password": DEMO_PASSWORDS["son"]})
    assert client.get("/consult/queue/rows").status_code == 403
