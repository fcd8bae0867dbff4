"""Sleep report maths on synthetic nights, and the API with its visibility rules."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from anxin.homecare.sleep import MatSample, last_night, night_window, sleep_report
from tests.conftest import device_headers

NIGHT = date(2026, 11, 28)
# 22:30 Shanghai on the 28th = 14:30 UTC.
BED = datetime(2026, 11, 28, 14, 30, tzinfo=UTC)


def night(
    *,
    minutes: int = 8 * 60,
    hr: float = 62.0,
    rr: float = 15.0,
    out: tuple[tuple[int, int], ...] = (),
    override: dict[int, dict] | None = None,
    noise: float = 0.0,
    seed: int = 1,
) -> list[MatSample]:
    """A sample a minute from BED for `minutes`; `out` = (from, to) minutes out of bed."""
    rng = random.Random(seed)
    samples = []
    for minute in range(minutes + 1):
        in_bed = not any(a <= minute < b for a, b in out) and minute < minutes
        values: dict = {"in_bed": in_bed, "movement": 60.0 if minute < 15 else 5.0}
        if in_bed:
            values["heart_rate"] = hr + rng.uniform(-noise, noise)
            values["respiration_rate"] = rr + rng.uniform(-noise / 4, noise / 4)
        else:
            values.update(heart_rate=0.0, respiration_rate=0.0, movement=0.0)
        values.update((override or {}).get(minute, {}))
        samples.append(MatSample(BED + timedelta(minutes=minute), values))
    return samples


def test_a_quiet_night():
    report = sleep_report(night(), night=NIGHT)
    assert report.samples == 481
    assert report.time_in_bed_s == 8 * 3600
    assert report.sleep_onset == BED + timedelta(minutes=15)  # settled when movement dropped
    assert report.wake == BED + timedelta(hours=8)
    assert report.out_of_bed_count == 0 and report.out_of_bed_longest_s == 0
    assert report.heart_rate.mean == 62.0 and report.respiration_rate.mean == 15.0
    assert report.anomalies == []
    assert len(report.series) == 14 * 12  # 5-minute buckets over 20:00–10:00


def test_out_of_bed_events_are_counted_and_the_long_one_is_an_anomaly():
    report = sleep_report(night(out=((120, 125), (240, 270))), night=NIGHT)
    assert report.out_of_bed_count == 2
    assert report.out_of_bed_longest_s == 30 * 60
    assert report.time_in_bed_s == (8 * 60 - 35) * 60
    assert [(a.kind, a.duration_s) for a in report.anomalies] == [("long_out_of_bed", 1800)]
    assert report.anomalies[0].start == BED + timedelta(minutes=240)


def test_statistics_with_noise():
    report = sleep_report(night(noise=8.0, seed=7), night=NIGHT)
    assert 58 < report.heart_rate.mean < 66
    assert report.heart_rate.min >= 54 and report.heart_rate.max <= 70
    assert report.heart_rate.samples == 480
    assert 13 < report.respiration_rate.mean < 17


def test_sustained_fast_heart_rate_is_an_anomaly_but_a_blip_is_not():
    blip = {m: {"heart_rate": 120.0} for m in range(100, 103)}  # 3 minutes
    assert sleep_report(night(override=blip), night=NIGHT).anomalies == []
    run = {m: {"heart_rate": 112.0 + (m == 205)} for m in range(200, 210)}  # 10 minutes
    [anomaly] = sleep_report(night(override=run), night=NIGHT).anomalies
    assert anomaly.kind == "tachycardia"
    assert anomaly.duration_s == 600 and anomaly.value == 113.0


def test_slow_heart_rate_breathing_pauses_and_low_respiration():
    override = {m: {"heart_rate": 36.0} for m in range(60, 70)}
    override[150] = {"respiration_rate": 0.0}  # a pause
    override.update({m: {"respiration_rate": 7.0} for m in range(300, 310)})
    kinds = [a.kind for a in sleep_report(night(override=override), night=NIGHT).anomalies]
    assert kinds == ["bradycardia", "apnoea_like", "low_respiration"]


def test_a_silent_mat_is_missing_data_not_time_in_bed():
    samples = [s for s in night() if not (60 <= (s.ts - BED).total_seconds() / 60 < 180)]
    report = sleep_report(samples, night=NIGHT)
    # A sample stands for at most 10 minutes: the last one before the silence (minute 59)
    # covers 10 of the missing 120 minutes instead of 1, so 111 minutes are lost.
    assert report.time_in_bed_s == (8 * 60 - 111) * 60
    assert report.coverage_s < 8 * 3600
    assert report.out_of_bed_count == 0


def test_readings_outside_the_window_are_ignored_and_empty_nights_work():
    start, end = night_window(NIGHT)
    assert start.isoformat() == "2026-11-28T20:00:00+08:00"
    outside = [MatSample(end + timedelta(minutes=1), {"in_bed": True, "heart_rate": 60.0})]
    report = sleep_report(outside, night=NIGHT)
    assert report.samples == 0 and report.sleep_onset is None and report.time_in_bed_s == 0
    assert report.heart_rate.mean is None


def test_last_night():
    assert last_night(datetime(2026, 11, 29, 2, 0, tzinfo=UTC)) == date(2026, 11, 28)  # 10:00
    assert last_night(datetime(2026, 11, 29, 12, 30, tzinfo=UTC)) == date(2026, 11, 29)


def _post_night(client: TestClient, token: str, samples: list[MatSample]) -> None:
    batch = [
        {"message_id": f"n-{i}", "ts": s.ts.isoformat(), "values": dict(s.values)}
        for i, s in enumerate(samples)
    ]
    response = client.post(
        "/api/v1/telemetry", content=json.dumps(batch).encode(), headers=device_headers(token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(samples)


def test_sleep_report_api_for_the_family_only(client, demo, demo_devices, as_user):
    device_id, token = demo_devices["sleep_mat"]
    _post_night(client, token, night(out=((240, 270),)))
    url = f"/api/v1/elders/{demo.elder_id}/sleep-report?night=2026-11-28"
    response = client.get(url, headers=as_user("son"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["device_id"] == device_id
    assert body["time_in_bed_s"] == (8 * 60 - 30) * 60
    assert body["out_of_bed_count"] == 1
    assert body["anomalies"][0]["kind"] == "long_out_of_bed"
    assert body["heart_rate"]["mean"] == 62.0
    assert body["sleep_onset"].startswith("2026-11-28T14:45:00")
    assert len(body["series"]) == 168
    # The default night is the latest that has begun (the clock says 10:00 on the 29th).
    assert client.get(url.split("?")[0], headers=as_user("son")).json()["night"] == "2026-11-28"
    # Another family may not learn that this elder exists.
    assert client.get(url, headers=as_user("neighbour-family")).status_code == 404
    assert client.get(url).status_code == 401
