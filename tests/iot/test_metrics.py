"""Prometheus /metrics: ingestion counters by outcome and reason, batch sizes, lag, alarms."""

from __future__ import annotations

import json

from prometheus_client import REGISTRY

from anxin.alerts.metrics import ALARMS_RAISED
from anxin.core.metrics import asgi_app
from anxin.iot import metrics  # noqa: F401  (registers the ingestion metrics)
from anxin.iot.pipeline import BatchIngestor, RawMessage


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_endpoint_exposes_ingestion_counters(client, context, demo_devices):
    radar, token = demo_devices["mmwave_radar"]
    before_ok = sample(
        "anxin_telemetry_readings_total", transport="metrics-test", outcome="accepted"
    )
    before_bad = sample(
        "anxin_telemetry_rejected_total", transport="metrics-test", reason="malformed"
    )
    ingestor = BatchIngestor(context=context, transport="metrics-test", publish=False)
    ingestor.process(
        [
            RawMessage(
                radar,
                json.dumps({"token": token, "message_id": "1", "values": {"fall": False}}).encode(),
            ),
            RawMessage(radar, b"[oops"),
        ]
    )
    ALARMS_RAISED.labels("critical", "fall").inc()

    response = client.get("/metrics/")
    assert response.status_code == 200
    text = response.text
    assert 'anxin_telemetry_readings_total{outcome="accepted",transport="metrics-test"}' in text
    assert 'anxin_telemetry_rejected_total{reason="malformed",transport="metrics-test"}' in text
    assert "anxin_ingest_batch_messages_bucket" in text
    assert 'anxin_ingest_lag_seconds{transport="metrics-test"}' in text
    assert 'anxin_alarms_raised_total{severity="critical",type="fall"}' in text
    after_ok = sample(
        "anxin_telemetry_readings_total", transport="metrics-test", outcome="accepted"
    )
    assert after_ok - before_ok == 1
    after_bad = sample(
        "anxin_telemetry_rejected_total", transport="metrics-test", reason="malformed"
    )
    assert after_bad - before_bad == 1


def test_metrics_token_closes_the_endpoint():
    from starlette.testclient import TestClient

    scraper = TestClient(asgi_app("s3cret"))
    assert scraper.get("/").status_code == 401
    wrong = scraper.get("/", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    good = scraper.get("/", headers={"Authorization": "Bearer s3cret"})
    assert good.status_code == 200
    assert "anxin_telemetry_readings_total" in good.text


def test_json_log_lines_carry_device_and_reason(context, demo_devices, caplog):
    import logging

    from anxin.core.logs import JsonFormatter

    radar, _ = demo_devices["mmwave_radar"]
    ingestor = BatchIngestor(context=context, transport="log-test", publish=False)
    with caplog.at_level(logging.WARNING, logger="anxin.iot.pipeline"):
        ingestor.process([RawMessage(radar, b"{}")])
    record = next(r for r in caplog.records if r.getMessage() == "telemetry rejected")
    line = json.loads(JsonFormatter().format(record))
    assert line["device"] == radar
    assert line["reason_code"] == "unauthenticated"
    assert line["reason"] == "no device token in the message"
    assert line["level"] == "WARNING"
