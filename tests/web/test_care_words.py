"""The home-care pages a family, an elder and a butler read (issue 14): readings, relations,
system notes and the messages people receive are in the reader's language; the elder's home
page is in large type; an elder with no devices says so instead of an empty table."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.alerts.models import Notification
from anxin.core.clock import FrozenClock, to_local
from anxin.core.db import Database
from anxin.demo.seed import DemoInfo
from tests.conftest import console_login
from tests.homecare.test_care_alarms import alarms, post, sweep
from tests.homecare.test_sleep import _post_night, night
from tests.web.test_alarm_words import visible


def test_latest_readings_show_metric_names_values_and_units(
    client: TestClient,
    demo: DemoInfo,
    demo_devices: dict[str, tuple[str, str]],
    clock: FrozenClock,
) -> None:
    _, radar = demo_devices["mmwave_radar"]
    post(client, radar, {"posture": "lying", "heart_rate": 62, "fall": False}, clock, "r-1")
    console_login(client, "son")
    for path in ("/", f"/console/elders/{demo.elder_id}"):
        zh = visible(client.get(f"{path}?lang=zh").text)
        assert "姿态 躺卧" in zh and "心率 62 次/分" in zh and "跌倒 否" in zh, (path, zh)
        assert "=" not in zh and not re.search(r"\b(lying|heart_rate|posture|bpm)\b", zh), path
        en = visible(client.get(f"{path}?lang=en").text)
        assert "Posture lying" in en and "Heart rate 62 bpm" in en and "Fall no" in en, path


def test_emergency_contact_relation_is_labelled(client: TestClient, demo: DemoInfo) -> None:
    console_login(client, "son")
    zh = visible(client.get(f"/console/elders/{demo.elder_id}?lang=zh").text)
    assert "(儿子)" in zh and "(son)" not in zh
    en = visible(client.get(f"/console/elders/{demo.elder_id}?lang=en").text)
    assert "(son)" in en


def test_a_rule_clearing_an_alarm_is_told_in_the_readers_language(
    client: TestClient,
    app: object,
    demo_devices: dict[str, tuple[str, str]],
    db: Database,
    clock: FrozenClock,
) -> None:
    _, token = demo_devices["mmwave_radar"]
    still = {"zone": "bathroom", "presence": True, "motion": False}
    post(client, token, still, clock, "b-1")
    for i in range(6):
        clock.advance(timedelta(minutes=4))
        post(client, token, still, clock, f"b{i}")
    clock.advance(timedelta(minutes=6))
    sweep(app, clock)
    post(client, token, {**still, "motion": True}, clock, "b-9")
    [alarm] = alarms(db, "long_bathroom_stay")
    assert alarm.cleared
    console_login(client, "butler")
    zh = visible(client.get(f"/console/alarms/{alarm.id}?lang=zh").text)
    assert "设备规则的告警条件已结束" in zh and "condition ended" not in zh
    en = visible(client.get(f"/console/alarms/{alarm.id}?lang=en").text)
    assert "The device rule's condition ended" in en
    # the API keeps the stored English note
    detail = client.get(f"/api/v1/alarms/{alarm.id}").json()
    notes = [h["note"] for h in detail["history"] if h["action"] == "cleared"]
    assert notes and "condition ended" in notes[0]


def test_messages_name_the_severity_in_words_and_beijing_time(
    client: TestClient,
    demo_devices: dict[str, tuple[str, str]],
    db: Database,
    clock: FrozenClock,
) -> None:
    _, radar = demo_devices["mmwave_radar"]
    post(client, radar, {"fall": True, "motion": True}, clock, "m-1")
    with db.session_scope() as session:
        rows = list(session.scalars(select(Notification)))
    assert rows
    local = f"{to_local(clock.now()):%m-%d %H:%M}"
    for n in rows:
        assert re.search(r"\[安心 (紧急|重要|次要|提示)\]", n.subject), n.subject
        assert not re.search(r"CRITICAL|MAJOR|MINOR|WARNING|UTC", n.subject + n.body), n
    told = [n.body for n in rows if n.purpose == "alert"]
    assert told and all(f"{local} 北京时间" in body for body in told), told


def test_the_elders_home_page_is_in_large_type(client: TestClient, demo: DemoInfo) -> None:
    console_login(client, "elder")
    assert '<body class="large">' in client.get("/").text
    console_login(client, "son")
    assert '<body class="large">' not in client.get("/").text


def test_family_home_page_links_to_the_elders_card(client: TestClient, demo: DemoInfo) -> None:
    console_login(client, "son")
    assert f'href="/console/elders/{demo.elder_id}"' in client.get("/").text


def test_an_elder_without_devices_says_so(client: TestClient, demo: DemoInfo) -> None:
    console_login(client, "neighbour-family")
    for path in ("/", "/family", "/family/cards"):
        page = client.get(f"{path}?lang=zh").text
        assert "还没有设备" in page, path
        assert "<th>设备</th>" not in page and 'class="devices"></ul>' not in page, path
    assert "No devices yet" in client.get("/?lang=en").text


def test_the_sleep_report_units_are_in_the_readers_language(
    client: TestClient, demo: DemoInfo, demo_devices: dict[str, tuple[str, str]]
) -> None:
    _, token = demo_devices["sleep_mat"]
    _post_night(client, token, night())
    console_login(client, "son")
    path = f"/console/elders/{demo.elder_id}?night=2026-11-28"
    zh = client.get(f"{path}&lang=zh").text
    assert "次/分" in visible(zh) and "bpm" not in visible(zh) and "/min" not in visible(zh)
    assert "(bpm)" not in zh  # nor on the chart's axis
    assert "bpm" in visible(client.get(f"{path}&lang=en").text)
