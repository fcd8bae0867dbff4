"""A second fall while the first fall's alarm is acknowledged (not cleared): the radar's
reading goes through ingest, the rule, the care flow and the alerts service, and the butler
is told again — on the outbox and in the alarm card's history."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from anxin.alerts.models import Alarm, Notification
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from tests.conftest import DEMO_PASSWORDS, login
from tests.homecare.test_care_alarms import post


def _fall_alarm(db: Database) -> Alarm:
    with db.session_scope() as session:
        [alarm] = session.scalars(select(Alarm).where(Alarm.alarm_type == "fall"))
        return alarm


def _renotified(db: Database, alarm_id: str) -> list[Notification]:
    with db.session_scope() as session:
        stmt = select(Notification).where(
            Notification.alarm_id == alarm_id, Notification.step_seq.is_(None)
        )
        return list(session.scalars(stmt))


def test_a_second_fall_reading_after_acknowledgement_reaches_the_butler(
    client: TestClient,
    demo_devices: dict[str, tuple[str, str]],
    db: Database,
    clock: FrozenClock,
) -> None:
    _, token = demo_devices["mmwave_radar"]
    post(client, token, {"fall": True, "posture": "lying"}, clock, "fall-1")
    alarm = _fall_alarm(db)
    butler = login(client, "butler", DEMO_PASSWORDS["butler"])
    acked = client.post(
        f"/api/v1/alarms/{alarm.id}/acknowledge", json={"note": "coming"}, headers=butler.headers
    )
    assert acked.status_code == 200, acked.text
    # She moves (so the first fall stays MAJOR), gets up; ten minutes later she falls again.
    clock.advance(20)
    post(client, token, {"fall": False, "posture": "standing", "motion": True}, clock, "up-1")
    clock.advance(600)
    post(client, token, {"fall": True, "posture": "lying"}, clock, "fall-2")

    again = _fall_alarm(db)
    assert again.id == alarm.id and again.count == 2 and again.state.value == "acknowledged"
    rows = _renotified(db, alarm.id)
    assert sorted((n.recipient_role, n.channel.value) for n in rows) == [
        ("butler", "console"),
        ("butler", "sms"),
    ]
    assert all("×2" in n.subject for n in rows)

    # The card: the repeat, the renotification and its messages, in Chinese.
    client.post("/login", data={"username": "butler", "password": DEMO_PASSWORDS["butler"]})
    card = client.get(f"/console/alarms/{alarm.id}").text
    history = card.split('<section class="card"><h2>')[1]
    assert "<td>再次发生</td><td>第 2 次</td>" in history
    assert "<td>再次通知</td><td>第 2 次 · 2 条通知</td>" in history
    messages = card.split('<section class="card"><h2>')[2]
    assert messages.count("<td>再次</td>") == 2  # the step column of the two messages
    assert "已确认" in card.split('id="escalation"')[1].split("</p>")[0]  # why it stopped
    english = client.get(f"/console/alarms/{alarm.id}?lang=en").text
    assert "<td>Happened again</td><td>#2</td>" in english
    assert "<td>Notified again</td><td>#2 · 2 messages</td>" in english
