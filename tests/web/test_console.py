"""Console pages without a browser: who sees which page, and the forms change what they say."""

import json
from datetime import UTC, datetime

from anxin.ui.charts import axis_time
from tests.conftest import DEMO_PASSWORDS
from tests.web.chart_options import chart_options, series_named


def _console_login(client, username):
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORDS[username]}
    )
    assert response.status_code == 200


def _fall(client, demo_devices):
    _, token = demo_devices["mmwave_radar"]
    body = {"message_id": "f-1", "values": {"fall": True, "posture": "lying"}}
    response = client.post(
        "/api/v1/telemetry",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.json()["accepted"] == 1


def test_butler_works_an_alarm_from_the_queue_to_resolution(client, demo, demo_devices):
    _fall(client, demo_devices)
    _console_login(client, "butler")
    queue = client.get("/console/alarms")
    assert queue.status_code == 200 and 'data-type="fall"' in queue.text
    alarm_id = client.get("/api/v1/alarms").json()[0]["id"]

    card = client.get(f"/console/alarms/{alarm_id}")
    assert "张桂芳" in card.text and 'data-channel="sms"' in card.text
    client.post(f"/console/alarms/{alarm_id}/acknowledge", data={"note": "called, she is ok"})
    history = client.get(f"/console/alarms/{alarm_id}").text.split("<h2>")[1]
    # who acknowledged is a person's name; the radar raised it, the platform escalated
    assert "<td>管家 陈静 Chen Jing</td>" in history and "<td>设备</td>" in history
    assert "<td>系统</td>" in history and "anonymous" not in history
    assert "user:butler" not in history, history
    client.post(f"/console/alarms/{alarm_id}/resolve", data={"note": "no injury"})
    detail = client.get(f"/api/v1/alarms/{alarm_id}").json()
    assert detail["state"] == "resolved"
    notes = [h["note"] for h in detail["history"]]
    assert "called, she is ok" in notes and "no injury" in notes
    assert 'data-type="fall"' not in client.get("/console/alarms/rows").text

    elder = client.get(f"/console/elders/{demo.elder_id}")
    assert elder.status_code == 200
    assert "卫生间跌倒雷达" in elder.text and alarm_id in elder.text
    assert "sms" in client.get("/console/outbox").text


def test_family_cannot_open_the_queue_or_another_elder(client, demo, db, demo_devices):
    from sqlalchemy import select

    from anxin.homecare.models import Elder

    _fall(client, demo_devices)
    _console_login(client, "neighbour-family")
    assert client.get("/console/alarms").status_code == 403
    assert client.get(f"/console/elders/{demo.elder_id}").status_code == 404
    with db.session_scope() as session:
        own = session.scalars(select(Elder.id).where(Elder.id != demo.elder_id)).one()
    assert client.get(f"/console/elders/{own}").status_code == 200
    assert 'data-type="fall"' not in client.get("/family/cards").text


def test_resolving_twice_is_a_clear_error_page(client, demo, demo_devices):
    _fall(client, demo_devices)
    _console_login(client, "butler")
    alarm_id = client.get("/api/v1/alarms").json()[0]["id"]
    client.post(f"/console/alarms/{alarm_id}/resolve", data={"note": ""})
    again = client.post(f"/console/alarms/{alarm_id}/resolve", data={"note": ""})
    assert again.status_code == 409 and "resolved already" in again.text


def test_the_stream_needs_a_session(client):
    assert client.get("/console/stream").status_code == 401


def _night_of_sleep(client, token):
    """22:00–06:30 Shanghai in bed (HR 62, RR 15), up for ten minutes at 03:00."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    batch = []
    for minute in range(8 * 60 + 30):
        ts = start + timedelta(minutes=minute)
        up = 5 * 60 <= minute < 5 * 60 + 10
        values = {"in_bed": not up, "movement": 5.0}
        if not up:
            values.update(heart_rate=62.0, respiration_rate=15.0)
        batch.append({"message_id": f"n{minute}", "ts": ts.isoformat(), "values": values})
    response = client.post(
        "/api/v1/telemetry",
        content=json.dumps(batch),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.json()["accepted"] == len(batch)


def test_elder_card_shows_last_nights_sleep_with_a_chart(client, demo, demo_devices):
    _, token = demo_devices["sleep_mat"]
    _night_of_sleep(client, token)
    _console_login(client, "daughter")
    card = client.get(f"/console/elders/{demo.elder_id}")  # the clock says 10:00 on the 29th
    assert card.status_code == 200
    assert 'data-night="2026-11-28"' in card.text
    chart = chart_options(card.text)["sleep-chart"]
    assert chart["useUTC"] is True and chart["xAxis"]["type"] == "time"
    heart = series_named(chart, "心率")
    # the night starts at 20:00 Shanghai with no data (a gap, not a zero); 22:00 has the mat's
    # 62 bpm, each at its wall-clock hour on the axis
    assert heart["data"][0] == [axis_time(datetime(2026, 11, 28, 12, 0, tzinfo=UTC)), None]
    assert [axis_time(datetime(2026, 11, 28, 14, 0, tzinfo=UTC)), 62.0] in heart["data"]
    assert axis_time(datetime(2026, 11, 28, 14, 0, tzinfo=UTC)) == int(
        datetime(2026, 11, 28, 22, 0, tzinfo=UTC).timestamp() * 1000
    )
    assert series_named(chart, "呼吸频率")["yAxisIndex"] == 1
    assert series_named(chart, "在床")["step"] == "end"
    # the ten minutes up at 03:00 are a band on the time axis
    band_start, band_end = heart["markArea"]["data"][0]
    assert band_start["name"] == "离床"
    assert band_start["xAxis"] == axis_time(datetime(2026, 11, 28, 19, 0, tzinfo=UTC))
    assert band_end["xAxis"] == axis_time(datetime(2026, 11, 28, 19, 10, tzinfo=UTC))
    assert "/static/vendor/echarts/echarts.min.js" in card.text
    assert 'data-field="out_of_bed_count">1<' in card.text
    assert 'data-field="heart_rate_mean">62<' in card.text
    empty = client.get(f"/console/elders/{demo.elder_id}?night=2026-11-20")
    assert "sleep-chart" not in empty.text and "echarts" not in empty.text
    bad = client.get(f"/console/elders/{demo.elder_id}?night=yesterday")
    assert bad.status_code == 422 and "night" in bad.text
