"""Back-pressure: the token bucket, payload size limits and their reasons in the pipeline."""

from __future__ import annotations

import json

from sqlalchemy import select

from anxin.iot.limits import RateLimiter, size_problem
from anxin.iot.models import TelemetryRejection
from anxin.iot.pipeline import BatchIngestor, RawMessage


def test_token_bucket_allows_burst_then_rate():
    limiter = RateLimiter(rate=2, burst=3)
    assert [limiter.allow("d", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("d", 0.4) is False  # 0.8 tokens refilled
    assert limiter.allow("d", 0.5) is True  # 1.0 token
    assert limiter.allow("other", 0.5) is True  # buckets are per device
    assert limiter.allow("d", 100.0) and limiter.allow("d", 100.0) and limiter.allow("d", 100.0)
    assert limiter.allow("d", 100.0) is False  # refills cap at the burst


def test_bucket_memory_is_bounded():
    limiter = RateLimiter(rate=1, burst=1, max_keys=100)
    for i in range(1000):
        limiter.allow(f"made-up-{i}", 0.0)
    assert len(limiter) == 100


def test_size_problem_reason():
    assert size_problem(10, 10) is None
    assert size_problem(11, 10) == "payload too large: 11 bytes over the limit of 10"


def test_pipeline_rejects_over_limit_with_reasons_and_keeps_the_rest(context, db, demo_devices):
    radar, token = demo_devices["mmwave_radar"]
    mat, mat_token = demo_devices["sleep_mat"]
    ingestor = BatchIngestor(
        context=context,
        transport="test",
        publish=False,
        max_payload_bytes=300,
        max_items=3,
        limiter=RateLimiter(rate=0.001, burst=2),
    )

    def msg(device: str, doc: object) -> RawMessage:
        return RawMessage(device, json.dumps(doc).encode())

    result = ingestor.process(
        [
            msg(radar, {"token": token, "message_id": "a", "values": {"motion": True}}),
            msg(radar, {"token": token, "message_id": "b", "values": {"motion": True}}),
            msg(radar, {"token": token, "message_id": "c", "values": {"motion": True}}),
            msg(mat, {"token": mat_token, "pad": "x" * 400}),
            msg(
                mat,
                {
                    "token": mat_token,
                    "readings": [
                        {"message_id": str(i), "values": {"in_bed": True}} for i in range(4)
                    ],
                },
            ),
            msg(mat, {"token": mat_token, "message_id": "ok", "values": {"in_bed": True}}),
        ]
    )
    assert result.accepted == 3
    assert result.reasons == {"rate_limited": 1, "too_large": 1, "malformed": 1}
    with db.session_scope() as session:
        reasons = sorted(session.scalars(select(TelemetryRejection.reason)))
    assert len(reasons) == 3
    assert any(r.endswith("4 items exceed the limit of 3") for r in reasons)
    assert any(
        r.startswith("payload too large: ") and "over the limit of 300" in r for r in reasons
    )
    assert "rate limited: more than 0.001 messages/s from this device (burst 2)" in reasons


def test_http_device_over_its_rate_gets_429_with_the_reason(context, client, demo_devices, db):
    from anxin.iot.limits import TELEMETRY_LIMITER, RateLimiter
    from tests.conftest import device_headers

    context.put(TELEMETRY_LIMITER, RateLimiter(rate=0.001, burst=2))
    _radar, token = demo_devices["mmwave_radar"]
    codes = []
    for i in range(3):
        body = json.dumps({"message_id": f"h-{i}", "values": {"motion": True}}).encode()
        response = client.post("/api/v1/telemetry", content=body, headers=device_headers(token))
        codes.append(response.status_code)
    assert codes == [200, 200, 429]
    assert response.json()["error"] == "rate_limited"
    with db.session_scope() as session:
        reasons = list(session.scalars(select(TelemetryRejection.reason)))
    assert reasons == ["rate limited: more than 0.001 messages/s from this device (burst 2)"]
