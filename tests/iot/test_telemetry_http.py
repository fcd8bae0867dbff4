"""HTTP ingestion end to end: shapes, idempotency, partial rejection, errors, reads."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.iot.models import Device, IngestedMessage, Reading, TelemetryRejection
from tests.conftest import START, device_headers


def _post(client: TestClient, token: str, payload: object, content_type: str = "application/json"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        "/api/v1/telemetry", content=body, headers=device_headers(token, content_type)
    )


def _count(db: Database, model: type, **where: object) -> int:
    with db.session_scope() as session:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(session.scalar(stmt) or 0)


def test_single_reading_is_stored_with_latest_values(client, demo_devices, db, as_user):
    device_id, token = demo_devices["sleep_mat"]
    reading = {
        "message_id": "m-1",
        "ts": "2026-11-29T01:59:00Z",
        "values": {"in_bed": True, "heart_rate": 64, "respiration_rate": 15},
    }
    response = _post(client, token, reading)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": 0, "rejections": []}
    # One row per message, its values together.
    assert _count(db, Reading, device_id=device_id) == 1
    with db.session_scope() as session:
        row = session.scalars(select(Reading).where(Reading.device_id == device_id)).one()
        assert row.data == {"in_bed": True, "heart_rate": 64, "respiration_rate": 15}

    latest = client.get(f"/api/v1/devices/{device_id}/latest", headers=as_user("son")).json()
    assert {v["key"]: v["value"] for v in latest} == {
        "heart_rate": 64.0,
        "in_bed": True,
        "respiration_rate": 15.0,
    }
    device = client.get(f"/api/v1/devices/{device_id}", headers=as_user("son")).json()
    assert device["online"] is True
    assert device["last_seen_at"].startswith("2026-11-29T02:00")


def test_batch_and_wrapped_batch(client, demo_devices, db):
    device_id, token = demo_devices["mmwave_radar"]
    batch = [
        {
            "message_id": f"b-{i}",
            "ts": 1795916400 + i,
            "values": {"presence": True, "motion": i % 2 == 0},
        }
        for i in range(5)
    ]
    assert _post(client, token, batch).json()["accepted"] == 5
    wrapped = {"readings": [{"message_id": "w-1", "values": {"posture": "standing"}}]}
    assert _post(client, token, wrapped).json()["accepted"] == 1
    assert _count(db, IngestedMessage, device_id=device_id) == 6


def test_senml_pack_is_resolved_with_base_fields(client, demo_devices, as_user):
    device_id, token = demo_devices["sleep_mat"]
    pack = [
        {"bn": "urn:dev:mat:42:", "bt": 1795916400, "n": "heart_rate", "u": "beat/min", "v": 61},
        {"n": "respiration_rate", "t": 1, "v": 14},
        {"n": "in_bed", "t": 2, "vb": True},
    ]
    response = _post(client, token, pack, "application/senml+json")
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 3
    page = client.get(f"/api/v1/devices/{device_id}/readings", headers=as_user("butler")).json()
    by_key = {item["key"]: item for item in page["items"]}
    assert by_key["heart_rate"]["value"] == 61.0
    assert by_key["in_bed"]["value"] is True
    assert by_key["respiration_rate"]["ts"].startswith("2026-11-29T01:40:01")
    # A retry of the same pack is recognised record by record.
    assert _post(client, token, pack, "application/senml+json").json()["duplicates"] == 3


def test_retry_of_same_batch_stores_nothing_twice_and_says_so(client, demo_devices, db):
    device_id, token = demo_devices["door_sensor"]
    batch = [
        {"message_id": "d-1", "values": {"open": True}},
        {"message_id": "d-2", "values": {"open": False}},
    ]
    first = _post(client, token, batch).json()
    second = _post(client, token, batch).json()
    assert (first["accepted"], first["duplicates"]) == (2, 0)
    assert (second["accepted"], second["duplicates"]) == (0, 2)
    assert _count(db, Reading, device_id=device_id) == 2


def test_same_message_id_twice_in_one_batch_is_one_reading(client, demo_devices, db):
    device_id, token = demo_devices["door_sensor"]
    batch = [
        {"message_id": "x", "values": {"open": True}},
        {"message_id": "x", "values": {"open": True}},
    ]
    assert _post(client, token, batch).json() == {
        "accepted": 1,
        "duplicates": 1,
        "rejected": 0,
        "rejections": [],
    }
    assert _count(db, Reading, device_id=device_id) == 1


def test_partially_invalid_batch_keeps_the_valid_items(client, demo_devices, db, as_user):
    device_id, token = demo_devices["sleep_mat"]
    batch = [
        {"message_id": "ok-1", "values": {"heart_rate": 70}},
        {"message_id": "bad-1", "values": {"heart_rate": 900}},
        {"message_id": "bad-2", "values": {"temperature": 21}},
        {"values": {"heart_rate": 71}},
        {"message_id": "bad-4", "ts": "2026-11-29T10:00:00", "values": {"heart_rate": 71}},
        {"message_id": "ok-2", "values": {"in_bed": False}},
    ]
    response = _post(client, token, batch)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 4)
    reasons = {r["index"]: r["reason"] for r in body["rejections"]}
    assert reasons[1] == "values.heart_rate: 900 is above the maximum 250"
    assert reasons[2] == "values.temperature: not a metric of this device type"
    assert reasons[3].startswith("message_id: required")
    assert reasons[4] == "ts: needs a time zone (e.g. 'Z' or '+08:00')"
    assert _count(db, Reading, device_id=device_id) == 2
    # Rejections are counted on the device and visible to its carers.
    device = client.get(f"/api/v1/devices/{device_id}", headers=as_user("butler")).json()
    assert device["rejected_count"] == 4
    listed = client.get(f"/api/v1/devices/{device_id}/rejections", headers=as_user("butler")).json()
    assert {r["message_id"] for r in listed} == {"bad-1", "bad-2", "bad-4", None}


def test_all_items_rejected_is_422_and_stores_no_reading(client, demo_devices, db):
    device_id, token = demo_devices["door_sensor"]
    response = _post(client, token, [{"message_id": "a", "values": {"open": "yes"}}])
    assert response.status_code == 422
    assert response.json()["rejections"][0]["reason"] == "values.open: must be true or false"
    assert _count(db, Reading, device_id=device_id) == 0
    assert _count(db, TelemetryRejection, device_id=device_id) == 1


@pytest.mark.usefixtures("no_seeded_readings")
def test_wrong_or_missing_token_is_401_and_changes_nothing(client, demo_devices, db):
    reading = {"message_id": "m", "values": {"open": True}}
    assert _post(client, "dt_not-a-real-token", reading).status_code == 401
    response = client.post("/api/v1/telemetry", json=reading)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert _count(db, IngestedMessage) == 0


@pytest.mark.usefixtures("no_seeded_readings")
def test_malformed_json_is_422_with_a_clear_reason(client, demo_devices, db):
    _, token = demo_devices["door_sensor"]
    response = _post(client, token, b'{"message_id": "m", "values": {"open": tru}')
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert body["fields"][0]["field"] == "body"
    assert body["fields"][0]["reason"].startswith("malformed JSON at line 1 column")
    assert _count(db, Reading) == 0


def test_wrong_shapes_are_422(client, demo_devices):
    _, token = demo_devices["door_sensor"]
    assert _post(client, token, "just a string").json()["fields"][0]["field"] == "body"
    assert _post(client, token, {"readings": {"a": 1}}).json()["fields"][0]["field"] == "readings"
    assert _post(client, token, []).json()["message"] == "readings: no readings in the payload"
    assert _post(client, token, {"bn": "x"}, "application/senml+json").status_code == 422


def test_payload_over_the_limit_is_413(client, demo_devices, settings):
    _, token = demo_devices["door_sensor"]
    huge = [{"message_id": str(i), "values": {"open": True}} for i in range(40_000)]
    response = _post(client, token, huge)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_future_timestamps_are_refused_but_late_ones_do_not_overwrite_latest(
    client, demo_devices, clock, as_user
):
    device_id, token = demo_devices["sleep_mat"]
    future = (START + timedelta(hours=1)).isoformat()
    body = _post(
        client, token, [{"message_id": "f", "ts": future, "values": {"heart_rate": 60}}]
    ).json()
    assert "in the future" in body["rejections"][0]["reason"]
    _post(
        client, token, {"message_id": "new", "ts": START.isoformat(), "values": {"heart_rate": 80}}
    )
    late = (START - timedelta(hours=2)).isoformat()
    _post(client, token, {"message_id": "late", "ts": late, "values": {"heart_rate": 50}})
    latest = client.get(f"/api/v1/devices/{device_id}/latest", headers=as_user("butler")).json()
    assert latest == [{"key": "heart_rate", "ts": "2026-11-29T02:00:00Z", "value": 80.0}]


def test_readings_are_paged_and_filtered_by_time(client, demo_devices, clock: FrozenClock, as_user):
    device_id, token = demo_devices["sleep_mat"]
    base = START - timedelta(minutes=30)
    batch = [
        {
            "message_id": f"p{i}",
            "ts": (base + timedelta(minutes=i)).isoformat(),
            "values": {"heart_rate": 60 + i},
        }
        for i in range(25)
    ]
    assert _post(client, token, batch).json()["accepted"] == 25
    headers = as_user("daughter")
    seen: list[float] = []
    cursor = None
    while True:
        params = {
            "limit": 10,
            "start": (base + timedelta(minutes=5)).isoformat(),
            "key": "heart_rate",
        }
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            f"/api/v1/devices/{device_id}/readings", params=params, headers=headers
        ).json()
        seen += [item["value"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [float(60 + i) for i in range(5, 25)]
    bad = client.get(f"/api/v1/devices/{device_id}/readings", params={"limit": 0}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "query.limit"
    naive = client.get(
        f"/api/v1/devices/{device_id}/readings",
        params={"start": "2026-11-29T00:00:00"},
        headers=headers,
    )
    assert naive.status_code == 422 and naive.json()["fields"][0]["field"] == "start"
    assert (
        client.get(
            f"/api/v1/devices/{device_id}/readings", params={"cursor": "zz"}, headers=headers
        ).status_code
        == 422
    )


def _register_for_household(client, demo, headers, device_type):
    body = {"device_type": device_type, "name": "x", "owner_kind": "household"}
    return client.post(
        "/api/v1/devices", json={**body, "owner_id": demo.household_id}, headers=headers
    )


def test_unknown_device_type_is_422(client, demo, as_user, db):
    before = _count(db, Device)
    response = _register_for_household(client, demo, as_user("admin"), "toaster")
    assert response.status_code == 422
    problem = response.json()["fields"][0]
    assert problem["field"] == "device_type"
    assert problem["reason"].startswith("unknown device type 'toaster'")
    assert _count(db, Device) == before


def test_registered_device_token_is_shown_once_and_stored_hashed(client, demo, as_user, db):
    response = client.post(
        "/api/v1/devices",
        json={
            "device_type": "smart_speaker",
            "name": "客厅音箱",
            "owner_kind": "household",
            "owner_id": demo.household_id,
        },
        headers=as_user("butler"),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["token"].startswith("dt_")
    with db.session_scope() as session:
        device = session.get(Device, created["id"])
        assert device is not None and created["token"] not in device.token_hash
    listed = client.get("/api/v1/devices", headers=as_user("butler")).json()
    assert all("token" not in d for d in listed)
    ok = _post(client, created["token"], {"message_id": "s1", "values": {"sos": True}})
    assert ok.json()["accepted"] == 1


def test_family_cannot_register_devices(client, demo, as_user):
    response = client.post(
        "/api/v1/devices",
        json={
            "device_type": "door_sensor",
            "name": "x",
            "owner_kind": "household",
            "owner_id": demo.household_id,
        },
        headers=as_user("son"),
    )
    assert response.status_code == 403


def test_admin_of_another_organisation_cannot_attach_a_device_to_its_household(
    client, demo, as_user, db
):
    # "coop" administers the trace brand's organisation; the household is the care home's.
    # An admin's household scope is "all in the organisation", which must not reach across.
    before = _count(db, Device)
    response = _register_for_household(client, demo, as_user("coop"), "smart_speaker")
    assert response.status_code == 422, response.text
    problem = response.json()["fields"][0]
    assert problem["field"] == "owner_id"
    assert _count(db, Device) == before


def test_rotated_token_is_refused_at_once_and_the_new_one_works(client, demo_devices, as_user):
    """The route reads the device by token hash on every request (no cache to go stale)."""
    device_id, old = demo_devices["sleep_mat"]
    assert _post(client, old, {"message_id": "r-1", "values": {"in_bed": True}}).status_code == 200
    rotated = client.post(f"/api/v1/devices/{device_id}/token", headers=as_user("butler"))
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["token"]
    refused = _post(client, old, {"message_id": "r-2", "values": {"in_bed": True}})
    assert refused.status_code == 401
    accepted = _post(client, new, {"message_id": "r-3", "values": {"in_bed": True}})
    assert accepted.status_code == 200 and accepted.json()["accepted"] == 1
