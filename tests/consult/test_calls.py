"""Calls through the API: the treating doctor rings, the elder's side answers, the WebRTC
negotiation is relayed to the consultation's viewers only, and hanging up records the duration.
(The browsers' side of it is tests/e2e/test_consult_call.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.demo.seed import DemoInfo
from anxin.web.live import live_hub
from tests.consult.conftest import API, ask

Headers = Callable[[str], dict[str, str]]
OFFER = {"kind": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}


@pytest.fixture
def relayed(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the live hub relays to browsers, after commit."""
    out: list[dict[str, Any]] = []
    monkeypatch.setattr(live_hub(app), "publish", out.append)
    return out


def _signals(relayed: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["kind"], m["from_side"]) for m in relayed
            if m["subject"] == "consult.consultation.signal"]  # fmt: skip


def test_doctor_rings_elder_answers_signals_are_relayed_and_the_duration_recorded(
    client: TestClient,
    demo: DemoInfo,
    as_user: Headers,
    doctors: dict[str, dict[str, str]],
    clock: FrozenClock,
    relayed: list[dict[str, Any]],
) -> None:
    elder, wu = as_user("elder"), doctors["wu"]
    cid = ask(client, elder, demo.elder_id, mode="video")["id"]
    base = f"{API}/consultations/{cid}/calls"
    # No call before the doctor has taken the consultation (it is every doctor's, waiting).
    assert client.post(base, json={"mode": "video"}, headers=wu).status_code == 403
    client.post(f"{API}/consultations/{cid}/take", headers=wu)
    assert client.post(base, json={"mode": "video"}, headers=elder).status_code == 403

    r = client.post(base, json={"mode": "video"}, headers=wu)
    assert r.status_code == 201 and r.json()["status"] == "ringing"
    call_id = r.json()["id"]
    # One open call at a time; nothing to negotiate before the elder's side answers.
    assert client.post(base, json={"mode": "voice"}, headers=wu).status_code == 409
    assert client.post(f"{base}/{call_id}/signals", json=OFFER, headers=wu).status_code == 409
    assert client.post(f"{base}/{call_id}/answer", headers=wu).status_code == 403

    clock.advance(timedelta(seconds=20))  # ringing is not talking
    r = client.post(f"{base}/{call_id}/answer", headers=elder)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert r.json()["answered_by_user_id"] is not None

    # Roles of the negotiation: the doctor offers, the answerer answers, both send candidates.
    assert client.post(f"{base}/{call_id}/signals", json=OFFER, headers=elder).status_code == 422
    answer = {"kind": "answer", "sdp": "v=0\r\n"}
    assert client.post(f"{base}/{call_id}/signals", json=answer, headers=wu).status_code == 422
    son = as_user("son")  # the son sees the consultation but did not pick up
    assert client.post(f"{base}/{call_id}/signals", json=answer, headers=son).status_code == 422
    candidate = {"kind": "candidate", "candidate": "candidate:1 1 udp 2122260223 192.0.2.2 5 typ "
                 "host", "sdp_mid": "0", "sdp_mline_index": 0}  # fmt: skip
    for body, who in ((OFFER, wu), (answer, elder), (candidate, wu), (candidate, elder)):
        assert client.post(f"{base}/{call_id}/signals", json=body, headers=who).status_code == 204
    offer = next(m for m in relayed if m.get("kind") == "offer")
    assert offer["sdp"] == OFFER["sdp"] and offer["owner_id"] == cid and offer["quiet"] is True
    assert offer["owner_kind"] == "consultation"

    clock.advance(timedelta(minutes=2, seconds=30))
    r = client.post(f"{base}/{call_id}/end", headers=elder)
    assert r.status_code == 200
    assert r.json()["status"] == "ended" and r.json()["duration_s"] == 150
    # The other side's hang-up a moment later changes nothing.
    clock.advance(timedelta(seconds=3))
    assert client.post(f"{base}/{call_id}/end", headers=wu).json()["duration_s"] == 150
    assert _signals(relayed) == [
        ("ring", "doctor"), ("answered", "elder"), ("offer", "doctor"), ("answer", "elder"),
        ("candidate", "doctor"), ("candidate", "elder"), ("ended", "elder"),
    ]  # fmt: skip
    [logged] = client.get(base, headers=son).json()
    assert logged["id"] == call_id and logged["duration_s"] == 150
    # The page shows the call log.
    client.cookies.clear()
    client.post("/login", data={"username": "son", "password": "demo-son-pass"})
    page = client.get(f"/consult/{cid}")
    assert f'data-call-id="{call_id}" data-status="ended"' in page.text
    assert 'data-seconds="150">2:30' in page.text


def test_a_call_nobody_answers_is_missed_with_no_duration(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]]
) -> None:
    cid = ask(client, as_user("son"), demo.elder_id, mode="voice")["id"]
    client.post(f"{API}/consultations/{cid}/take", headers=doctors["wu"])
    base = f"{API}/consultations/{cid}/calls"
    call_id = client.post(base, json={"mode": "voice"}, headers=doctors["wu"]).json()["id"]
    r = client.post(f"{base}/{call_id}/end", headers=doctors["wu"])
    assert r.json()["status"] == "missed" and r.json()["duration_s"] == 0
    assert r.json()["started_at"] is None
    assert client.post(f"{base}/{call_id}/answer", headers=as_user("elder")).status_code == 409


def test_only_the_consultations_two_sides_take_part_and_bad_signals_are_422(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]]
) -> None:
    elder = as_user("elder")
    cid = ask(client, elder, demo.elder_id, mode="video")["id"]
    client.post(f"{API}/consultations/{cid}/take", headers=doctors["wu"])
    base = f"{API}/consultations/{cid}/calls"
    call_id = client.post(base, json={"mode": "video"}, headers=doctors["wu"]).json()["id"]
    # Another family, another doctor, the administrator: the consultation does not exist.
    for who in (as_user("neighbour-family"), doctors["he"], as_user("admin")):
        routes: tuple[tuple[str, str, dict[str, str] | None], ...] = (
            ("GET", base, None),
            ("POST", base, {"mode": "video"}),
            ("POST", f"{base}/{call_id}/answer", None),
            ("POST", f"{base}/{call_id}/signals", OFFER),
            ("POST", f"{base}/{call_id}/end", None),
        )
        for method, path, body in routes:
            r = client.request(method, path, json=body, headers=who)
            assert r.status_code == 404, (method, path, r.status_code)
    assert client.post(f"{base}/nope/answer", headers=elder).status_code == 404
    client.post(f"{base}/{call_id}/answer", headers=elder)
    bad: tuple[tuple[dict[str, Any], str], ...] = (
        ({"kind": "offer"}, "sdp"),  # an offer without its session description
        ({"kind": "candidate", "sdp_mid": "0"}, "candidate"),
        ({"kind": "renegotiate", "sdp": "x"}, "kind"),
        ({"kind": "offer", "sdp": "x" * 20_001}, "sdp"),
        ({"kind": "candidate", "candidate": "c", "sdp_mline_index": 99}, "sdp_mline_index"),
        ({"kind": "candidate", "candidate": "c", "extra": 1}, "extra"),
    )
    for body, field in bad:
        r = client.post(f"{base}/{call_id}/signals", json=body, headers=doctors["wu"])
        assert r.status_code == 422, body
        assert r.json()["fields"][0]["field"] == field, r.json()
    r = client.post(base, json={"mode": "text"}, headers=doctors["wu"])
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "mode"
