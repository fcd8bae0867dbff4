"""Consultations through the API: request, triage in the queue, the card, the thread, files,
and who may see what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.core.audit import AuditLog
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.demo.seed import DemoInfo
from tests.consult.conftest import API, ask, post_reading

Headers = Callable[[str], dict[str, str]]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_elder_asks_doctor_takes_and_both_write_in_the_thread(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]]
) -> None:
    elder, son, wu, he = as_user("elder"), as_user("son"), doctors["wu"], doctors["he"]
    asked = ask(client, elder, demo.elder_id)
    assert asked["status"] == "waiting" and asked["doctor_user_id"] is None
    cid = asked["id"]

    # Both doctors see it waiting in the queue, with the elder's name.
    for doctor in (wu, he):
        [line] = client.get(f"{API}/queue", headers=doctor).json()
        assert line["consultation"]["id"] == cid and line["elder_name"].startswith("张桂芳")
    card = client.get(f"{API}/elders/{demo.elder_id}/card", headers=wu).json()
    assert card["conditions"] == ["高血压 hypertension"]
    assert card["medications"][0]["name"].startswith("氨氯地平")

    # A doctor cannot answer before taking it; once taken, the other doctor loses sight of it.
    r = client.post(f"{API}/consultations/{cid}/messages", json={"body": "您好"}, headers=wu)
    assert r.status_code == 409
    assert client.post(f"{API}/consultations/{cid}/take", headers=wu).json()["status"] == "active"
    assert client.post(f"{API}/consultations/{cid}/take", headers=he).status_code == 404
    assert client.get(f"{API}/queue", headers=he).json() == []
    assert client.get(f"{API}/elders/{demo.elder_id}/card", headers=he).status_code == 404

    r = client.post(f"{API}/consultations/{cid}/messages", json={"body": "量过血压吗?"}, headers=wu)
    assert r.status_code == 201
    r = client.post(f"{API}/consultations/{cid}/messages", json={"body": "150/95"}, headers=elder)
    assert r.status_code == 201
    thread = client.get(f"{API}/consultations/{cid}/messages", headers=son).json()
    assert [m["body"] for m in thread] == ["量过血压吗?", "150/95"]
    assert thread[0]["author_name"] == "dr.wu"

    r = client.put(f"{API}/consultations/{cid}/encounter", json={"note": "BP high"}, headers=elder)
    assert r.status_code == 403  # the elder sees the record but does not write it
    r = client.put(f"{API}/consultations/{cid}/encounter", json={"note": "BP high"}, headers=wu)
    assert r.status_code == 200 and r.json()["note"] == "BP high"
    assert client.post(f"{API}/consultations/{cid}/close", headers=wu).json()["status"] == "closed"
    r = client.post(f"{API}/consultations/{cid}/messages", json={"body": "谢谢"}, headers=elder)
    assert r.status_code == 409


def test_another_family_gets_404_on_every_consultation_route(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]]
) -> None:
    cid = ask(client, as_user("son"), demo.elder_id)["id"]
    client.post(f"{API}/consultations/{cid}/take", headers=doctors["wu"])
    pid = client.post(
        f"{API}/consultations/{cid}/prescriptions",
        json={"drug": "维生素D vitamin D", "strength": "400 IU", "dose": "1 tablet",
              "route": "oral", "frequency": "qd", "duration_days": 30, "quantity": 30},
        headers=doctors["wu"],
    ).json()["id"]  # fmt: skip
    aid = client.post(
        f"{API}/consultations/{cid}/attachments",
        files={"file": ("bp.pdf", PDF, "application/pdf")},
        headers=as_user("son"),
    ).json()["id"]
    zhao = as_user("neighbour-family")
    assert client.get(f"{API}/consultations", headers=zhao).json() == []
    base = f"{API}/consultations/{cid}"
    for method, path, body in (
        ("GET", base, None),
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/messages", {"body": "hi"}),
        ("GET", f"{base}/attachments/{aid}", None),
        ("GET", f"{base}/prescriptions", None),
        ("POST", f"{base}/prescriptions/{pid}/stop", None),
        ("GET", f"{base}/follow-ups", None),
        ("POST", f"{base}/follow-ups", {"due_on": "2026-12-30", "plan": "x"}),
        ("PUT", f"{base}/encounter", {"note": "x"}),
        ("POST", f"{base}/take", None),
        ("POST", f"{base}/close", None),
        ("GET", f"{API}/elders/{demo.elder_id}/card", None),
        ("GET", f"{API}/elders/{demo.elder_id}/allergies", None),
        ("GET", f"{API}/elders/{demo.elder_id}/prescriptions", None),
    ):
        r = client.request(method, path, json=body, headers=zhao)
        assert r.status_code == 404, (method, path, r.status_code)
    r = client.post(
        f"{base}/attachments", files={"file": ("x.pdf", PDF, "application/pdf")}, headers=zhao
    )
    assert r.status_code == 404
    # Nor may the neighbour ask on behalf of an elder not theirs.
    r = client.post(
        f"{API}/consultations",
        json={"elder_id": demo.elder_id, "mode": "video", "complaint": "x"},
        headers=zhao,
    )
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "elder_id"


def test_queue_puts_abnormal_vitals_and_alarms_first(
    client: TestClient,
    demo: DemoInfo,
    as_user: Headers,
    doctors: dict[str, dict[str, str]],
    demo_devices: dict[str, tuple[str, str]],
    clock: FrozenClock,
    zhao_id: str,
) -> None:
    zhao = ask(client, as_user("neighbour-family"), zhao_id)  # first in, no devices
    clock.advance(timedelta(minutes=1))
    zhang = ask(client, as_user("daughter"), demo.elder_id, mode="video")
    order = [
        line["consultation"]["id"]
        for line in client.get(f"{API}/queue", headers=doctors["wu"]).json()
    ]
    assert order == [zhao["id"], zhang["id"]]  # nothing urgent: oldest first

    _, mat = demo_devices["sleep_mat"]
    post_reading(
        client, mat, {"in_bed": True, "heart_rate": 128, "respiration_rate": 16}, clock, "m1"
    )
    lines = client.get(f"{API}/queue", headers=doctors["wu"]).json()
    assert [line["consultation"]["id"] for line in lines] == [zhang["id"], zhao["id"]]
    assert lines[0]["reasons"] == ["abnormal_vitals"] and lines[0]["priority"] == 1
    card = client.get(f"{API}/elders/{demo.elder_id}/card", headers=doctors["wu"]).json()
    vitals = {v["key"]: v for v in card["vitals"]}
    assert vitals["heart_rate"]["value"] == 128 and vitals["heart_rate"]["abnormal"]
    assert not vitals["respiration_rate"]["abnormal"]

    _, radar = demo_devices["mmwave_radar"]
    post_reading(client, radar, {"presence": True, "zone": "bathroom", "fall": True}, clock, "f1")
    lines = client.get(f"{API}/queue", headers=doctors["wu"]).json()
    assert lines[0]["reasons"] == ["active_alarm", "abnormal_vitals"]
    assert lines[0]["priority"] == 3 and lines[1]["priority"] == 0
    card = client.get(f"{API}/elders/{demo.elder_id}/card", headers=doctors["wu"]).json()
    assert [a["alarm_type"] for a in card["alarms"]] == ["fall"]
    # Not a doctor: no queue.
    assert client.get(f"{API}/queue", headers=as_user("butler")).status_code == 403


def test_attachments_are_checked_by_their_bytes_and_size(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]],
    clock: FrozenClock,
) -> None:  # fmt: skip
    butler = as_user("butler")
    cid = ask(client, butler, demo.elder_id)["id"]
    url = f"{API}/consultations/{cid}/attachments"
    r = client.post(url, files={"file": ("lab.pdf", PDF, "application/pdf")}, headers=butler)
    assert r.status_code == 201 and r.json()["content_type"] == "application/pdf"
    clock.advance(timedelta(seconds=1))
    # The claimed type does not matter: the bytes do.
    r = client.post(url, files={"file": ("rash.jpg", PNG, "image/jpeg")}, headers=butler)
    assert r.status_code == 201 and r.json()["content_type"] == "image/png"
    r = client.post(url, files={"file": ("notes.pdf", b"hello", "application/pdf")}, headers=butler)
    assert r.status_code == 422 and r.json()["fields"] == [
        {"field": "file", "reason": "not a PDF, PNG or JPEG file"}
    ]
    big = PDF + b"0" * (10 * 1024 * 1024)
    r = client.post(url, files={"file": ("big.pdf", big, "application/pdf")}, headers=butler)
    assert r.status_code == 422 and "MiB" in r.json()["fields"][0]["reason"]
    r = client.post(url, files={"file": ("e.pdf", b"", "application/pdf")}, headers=butler)
    assert r.status_code == 422

    detail = client.get(f"{API}/consultations/{cid}", headers=doctors["he"]).json()
    assert [a["filename"] for a in detail["attachments"]] == ["lab.pdf", "rash.jpg"]
    aid = detail["attachments"][0]["id"]
    r = client.get(f"{API}/consultations/{cid}/attachments/{aid}", headers=doctors["he"])
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-type"] == "application/pdf"


def test_requests_are_validated_and_reads_are_audited(
    client: TestClient, demo: DemoInfo, as_user: Headers, doctors: dict[str, dict[str, str]],
    db: Database,
) -> None:  # fmt: skip
    elder = as_user("elder")
    for body, field in (
        ({"elder_id": demo.elder_id, "mode": "fax", "complaint": "x"}, "mode"),
        ({"elder_id": demo.elder_id, "mode": "text", "complaint": ""}, "complaint"),
        ({"elder_id": "nobody", "mode": "text", "complaint": "x"}, "elder_id"),
    ):
        r = client.post(f"{API}/consultations", json=body, headers=elder)
        assert r.status_code == 422 and field in r.json()["fields"][0]["field"], r.text
    r = client.post(
        f"{API}/consultations",
        json={"elder_id": demo.elder_id, "mode": "text", "complaint": "x"},
        headers=doctors["wu"],
    )
    assert r.status_code == 403  # a doctor does not ask a doctor here

    cid = ask(client, elder, demo.elder_id)["id"]
    client.get(f"{API}/consultations/{cid}", headers=doctors["wu"])
    client.get(f"{API}/elders/{demo.elder_id}/card", headers=doctors["wu"])
    with db.session_scope() as session:
        reads = session.execute(
            select(AuditLog.actor, AuditLog.entity_type, AuditLog.entity_id).where(
                AuditLog.action == "read"
            )
        ).all()
    assert ("user:dr.wu", "consultations", cid) in reads
    assert ("user:dr.wu", "elders", demo.elder_id) in reads
