"""The consultation pages: a son asks with a lab report, the doctor sees the card and the queue,
takes, answers and prescribes; the thread's changes reach the live hub for its viewers only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.consult.models import Consultation
from anxin.core.clock import FrozenClock
from anxin.demo.seed import DemoInfo
from anxin.people import service as people
from anxin.web.live import _visibility, live_hub
from tests.conftest import console_login
from tests.consult.test_consultations import PDF


def test_son_asks_doctor_answers_and_prescribes_through_the_pages(
    client: TestClient, demo: DemoInfo, app: FastAPI
) -> None:
    pings: list[dict[str, Any]] = []
    live_hub(app).publish = pings.append  # type: ignore[method-assign,assignment]
    console_login(client, "son")
    page = client.get("/consult?lang=en")
    assert page.status_code == 200 and "Ask a doctor" in page.text
    r = client.post(
        "/consult",
        data={"elder_id": demo.elder_id, "mode": "video", "complaint": "胸闷 chest tightness"},
        files={"file": ("ecg.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    cid = r.headers["location"].rsplit("/", 1)[1]
    assert pings[-1]["owner_kind"] == "consultation" and pings[-1]["owner_id"] == cid
    r = client.post("/consult", data={"elder_id": demo.elder_id, "mode": "fax", "complaint": "x"})
    assert r.status_code == 422 and "mode" in r.text

    console_login(client, "doctor")
    queue = client.get("/consult?lang=zh").text
    assert cid in queue and "视频" in queue and "胸闷" in queue
    page = client.get(f"/consult/{cid}?lang=en").text
    assert "青霉素 penicillin" in page and "高血压 hypertension" in page  # the card beside it
    assert "ecg.pdf" in page and 'id="take"' in page
    client.post(f"/consult/{cid}/take")
    before = len(pings)
    client.post(f"/consult/{cid}/messages", data={"body": "请拍一张心电图 Please send an ECG"})
    assert len(pings) == before + 1 and pings[-1]["subject"] == "consult.consultation.message"
    rx = {"drug": "阿莫西林 amoxicillin", "strength": "500 mg", "dose": "1 粒", "route": "oral",
          "frequency": "tid", "duration_days": "7", "quantity": "21"}  # fmt: skip
    refused = client.post(f"/consult/{cid}/prescriptions", data=rx)
    assert refused.status_code == 422 and "青霉素 penicillin" in refused.text
    bad = client.post(f"/consult/{cid}/prescriptions", data={**rx, "duration_days": "many"})
    assert bad.status_code == 422 and "duration_days" in bad.text
    ok = client.post(f"/consult/{cid}/prescriptions", data={**rx, "drug": "硝酸甘油 nitroglycerin",
                     "route": "sublingual", "frequency": "prn"})  # fmt: skip
    assert ok.status_code == 200  # followed the redirect back to the page
    thread = client.get(f"/consult/{cid}/thread?lang=zh").text
    assert "请拍一张心电图" in thread and "硝酸甘油" in thread and "舌下" in thread

    console_login(client, "son")
    assert "请拍一张心电图" in client.get(f"/consult/{cid}/thread").text
    console_login(client, "neighbour-family")
    assert client.get(f"/consult/{cid}").status_code == 404
    assert client.get(f"/consult/{cid}/thread").status_code == 404
    assert cid not in client.get("/consult").text


def test_the_live_hub_tells_only_a_consultations_viewers(demo: DemoInfo, app: FastAPI) -> None:
    context = app.state.context
    with context.unit(actor="test") as uow:
        cid = uow.session.scalar(select(Consultation.id))
        ping = {"subject": "consult.consultation.message", "organisation_id": demo.organisation_id,
                "owner_kind": "consultation", "owner_id": cid}  # fmt: skip
        heard = {}
        for username in ("son", "elder", "butler", "doctor", "neighbour-family"):
            user = people.get_user_by_username(session=uow.session, username=username)
            heard[username] = _visibility(uow, people.principal_of(user))(ping)
    assert heard == {"son": True, "elder": True, "butler": True, "doctor": True,
                     "neighbour-family": False}  # fmt: skip


def test_the_elder_confirms_tonights_dose_on_the_page(
    client: TestClient, demo: DemoInfo, clock: FrozenClock
) -> None:
    console_login(client, "elder")
    page = client.get("/consult?lang=zh").text
    assert "今日用药" in page and "阿托伐他汀 atorvastatin 20 mg" in page  # the demo's, at 21:00
    dose_id = re.search(r'data-dose-id="([^"]+)" data-status="due"', page)[1]  # type: ignore[index]
    early = client.post(f"/consult/doses/{dose_id}/confirm")
    assert early.status_code == 409  # 10:00: too early for the 21:00 dose
    clock.advance(timedelta(hours=10, minutes=45))
    client.post(f"/consult/doses/{dose_id}/confirm")
    assert f'data-dose-id="{dose_id}" data-status="taken"' in client.get("/consult").text
    console_login(client, "doctor")
    card = client.get(f"/consult/{demo.consultation_id}?lang=en").text
    assert "Adherence" in card and "100%" in card
