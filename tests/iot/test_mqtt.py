"""MQTT ingestion against real brokers started on loopback: Mosquitto 2 and NATS's MQTT listener.

Covers the three payload shapes, token authentication against the topic's device, duplicates
stored once (a republished message and a redelivery after a consumer dies before acking),
bad messages counted and skipped without blocking good traffic, and shared subscriptions.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.iot.limits import RateLimiter
from anxin.iot.localbrokers import Brokers, Server
from anxin.iot.models import Device, LatestValue, Reading, TelemetryRejection
from anxin.iot.mqtt import MqttConsumer
from anxin.iot.pipeline import BatchIngestor

pytestmark = pytest.mark.skipif(
    not (shutil.which("mosquitto") and shutil.which("nats-server")),
    reason="needs mosquitto and nats-server (scripts/system-deps.sh)",
)


@pytest.fixture(scope="module")
def brokers() -> Iterator[dict[str, Server]]:
    with Brokers() as launched:
        yield {"mosquitto": launched.mosquitto(), "nats": launched.nats()}


def publisher(port: int) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"dev-{time.monotonic_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def publish(client: mqtt.Client, device_id: str, doc: object) -> None:
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    client.publish(f"anxin/devices/{device_id}/telemetry", body, qos=1).wait_for_publish(15)


def count(db: Database, model: type, **where: object) -> int:
    with db.session_scope() as session:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(session.scalar(stmt) or 0)


def wait_until(
    condition: Callable[[], bool],
    timeout: float = 30.0,
    message: Callable[[], object] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met in time {message()}")


class Running:
    """A consumer on a background thread."""

    def __init__(self, consumer: MqttConsumer) -> None:
        self.consumer = consumer
        self.stop = threading.Event()
        self.thread = threading.Thread(target=consumer.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> MqttConsumer:
        self.thread.start()
        assert self.consumer.subscribed.wait(30), "consumer did not subscribe"
        return self.consumer

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)


def make_consumer(
    server: Server, context: AppContext, *, group: str, **kwargs: object
) -> MqttConsumer:
    limiter = kwargs.pop("limiter", None)
    ingestor = BatchIngestor(
        context=context,
        transport="mqtt",
        publish=False,
        max_payload_bytes=4096,
        limiter=limiter,  # type: ignore[arg-type]
    )
    return MqttConsumer(
        url=f"mqtt://127.0.0.1:{server.ports['mqtt']}",
        ingestor=ingestor,
        group=group,
        batch_wait_s=0.02,
        **kwargs,  # type: ignore[arg-type]
    )


# NATS's MQTT listener has no shared subscriptions: its consumer subscribes to the plain topic.
GROUPS = {"mosquitto": "anxin", "nats": ""}


@pytest.mark.parametrize("broker", ["mosquitto", "nats"])
def test_shapes_auth_duplicates_and_bad_messages(brokers, broker, context, db, demo_devices):
    server = brokers[broker]
    radar, radar_token = demo_devices["mmwave_radar"]
    mat, mat_token = demo_devices["sleep_mat"]
    with Running(make_consumer(server, context, group=GROUPS[broker])) as consumer:
        client = publisher(server.ports["mqtt"])
        one = {"token": radar_token, "message_id": "r-1", "values": {"presence": True}}
        publish(client, radar, one)
        publish(client, radar, one)  # the device retries: stored once
        publish(
            client,
            mat,
            {
                "token": mat_token,
                "readings": [
                    {"message_id": f"b-{i}", "ts": 1795916400 + i, "values": {"heart_rate": 60}}
                    for i in range(5)
                ],
            },
        )
        publish(
            client,
            mat,
            {
                "token": mat_token,
                "senml": [{"bn": f"urn:dev:{mat}:", "bt": 1795916500, "n": "movement", "v": 3}],
            },
        )
        # Bad traffic: malformed JSON, the radar's token on the mat's topic, no token, an
        # unknown device, an oversized payload, a reading with an invalid value.
        publish(client, radar, b"{not json")
        publish(client, mat, {"token": radar_token, "message_id": "x", "values": {"in_bed": True}})
        publish(client, radar, {"message_id": "y", "values": {"presence": True}})
        publish(client, "no-such-device", {"token": "t", "message_id": "z", "values": {}})
        publish(client, radar, {"token": radar_token, "pad": "x" * 5000})
        publish(
            client,
            radar,
            {"token": radar_token, "message_id": "r-bad", "values": {"heart_rate": 999}},
        )
        # Good traffic after the bad still flows.
        publish(
            client, radar, {"token": radar_token, "message_id": "r-2", "values": {"fall": True}}
        )
        wait_until(lambda: consumer.stats.messages >= 11, message=lambda: consumer.stats)
        client.loop_stop()
        client.disconnect()

    assert count(db, Reading, device_id=radar) == 2
    assert count(db, Reading, device_id=mat) == 6
    assert count(db, LatestValue, device_id=mat) == 2
    stats = consumer.stats
    assert stats.accepted == 8
    assert stats.duplicates == 1
    assert stats.reasons == {
        "malformed": 1,
        "unauthenticated": 2,
        "unknown_device": 1,
        "too_large": 1,
        "invalid_reading": 1,
    }
    # Every rejection is recorded with its reason; unknown devices without a device row.
    with db.session_scope() as session:
        reasons = sorted(session.scalars(select(TelemetryRejection.reason)))
    assert len(reasons) == 6
    assert any("does not match the topic's device" in r for r in reasons)
    assert any("unknown device (device 'no-such-device')" in r for r in reasons)
    assert any("heart_rate: 999" in r for r in reasons)
    with db.session_scope() as session:
        mat_row = session.get(Device, mat)
        assert mat_row is not None and mat_row.rejected_count == 1 and mat_row.online


def test_unacked_messages_are_redelivered_and_stored_once(brokers, context, db, demo_devices):
    """A consumer that dies after storing but before acking: the broker redelivers, and the
    second delivery stores nothing (persistent session, manual acks)."""
    server = brokers["mosquitto"]
    radar, token = demo_devices["mmwave_radar"]
    first = make_consumer(server, context, group="", client_id="anxin-redelivery")
    first.client.ack = lambda mid, qos: None  # type: ignore[method-assign,assignment,return-value]
    with Running(first):
        client = publisher(server.ports["mqtt"])
        for i in range(20):
            publish(
                client, radar, {"token": token, "message_id": f"m-{i}", "values": {"motion": True}}
            )
        wait_until(lambda: first.stats.messages >= 20)
    assert count(db, Reading, device_id=radar) == 20

    second = make_consumer(server, context, group="", client_id="anxin-redelivery")
    with Running(second):
        wait_until(lambda: second.stats.messages >= 20)
    client.loop_stop()
    client.disconnect()
    assert second.stats.duplicates == 20 and second.stats.accepted == 0
    assert count(db, Reading, device_id=radar) == 20


def test_shared_subscription_splits_the_load(brokers, context, db, demo_devices):
    server = brokers["mosquitto"]
    radar, token = demo_devices["mmwave_radar"]
    one = make_consumer(server, context, group="anxin")
    two = make_consumer(server, context, group="anxin")
    with Running(one), Running(two):
        client = publisher(server.ports["mqtt"])
        for i in range(60):
            publish(
                client, radar, {"token": token, "message_id": f"s-{i}", "values": {"motion": True}}
            )
        wait_until(lambda: one.stats.messages + two.stats.messages >= 60)
        client.loop_stop()
        client.disconnect()
    assert one.stats.messages > 0 and two.stats.messages > 0
    assert one.stats.messages + two.stats.messages == 60
    assert count(db, Reading, device_id=radar) == 60


def test_rate_limited_device_is_rejected_with_reason(brokers, context, db, demo_devices):
    server = brokers["mosquitto"]
    radar, token = demo_devices["mmwave_radar"]
    limiter = RateLimiter(rate=0.001, burst=5)
    consumer = make_consumer(server, context, group="", limiter=limiter)
    with Running(consumer):
        client = publisher(server.ports["mqtt"])
        for i in range(8):
            publish(
                client, radar, {"token": token, "message_id": f"l-{i}", "values": {"motion": True}}
            )
        wait_until(lambda: consumer.stats.messages >= 8)
        client.loop_stop()
        client.disconnect()
    assert consumer.stats.accepted == 5
    assert consumer.stats.reasons == {"rate_limited": 3}
    with db.session_scope() as session:
        reasons = list(session.scalars(select(TelemetryRejection.reason)))
    assert all(r.startswith("rate limited: more than 0.001 messages/s") for r in reasons)


def test_cli_consumer_stores_logs_json_and_stops_on_sigterm(
    brokers, database_url, demo_devices, db
):
    """`anxin ingest mqtt` as an operator runs it: a separate process, JSON logs, SIGTERM."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    server = brokers["mosquitto"]
    radar, token = demo_devices["mmwave_radar"]
    env = {**os.environ, "ANXIN_DATABASE_URL": database_url, "ANXIN_ENVIRONMENT": "test"}
    argv = [str(Path(sys.executable).parent / "anxin"), "ingest", "mqtt"]
    argv += ["--url", f"mqtt://127.0.0.1:{server.ports['mqtt']}", "--group", "cli"]
    proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    try:
        client = publisher(server.ports["mqtt"])
        deadline = time.monotonic() + 30
        while count(db, Reading, device_id=radar) == 0 and time.monotonic() < deadline:
            # Until the consumer has subscribed, a QoS 1 message to a shared group is dropped.
            publish(
                client, radar, {"token": token, "message_id": "cli-1", "values": {"fall": True}}
            )
            publish(client, radar, b"not json")
            time.sleep(0.3)
        client.loop_stop()
        client.disconnect()
        assert count(db, Reading, device_id=radar) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    rejected = [line for line in lines if line["msg"] == "telemetry rejected"]
    assert rejected and rejected[0]["device"] == radar and rejected[0]["reason_code"] == "malformed"
    assert lines[-1]["msg"] == "mqtt consumer stopped"


def test_cli_help_lists_the_commands():
    from typer.testing import CliRunner

    from anxin.cli import app

    runner = CliRunner()
    ingest = runner.invoke(app, ["ingest", "--help"])
    assert ingest.exit_code == 0
    assert all(name in ingest.output for name in ("mqtt", "nats", "events"))
    iot = runner.invoke(app, ["iot", "--help"])
    assert "partitions" in iot.output and "retention" in iot.output


@pytest.mark.parametrize("broker", ["mosquitto", "nats"])
def test_poison_messages_do_not_stop_the_consumer(brokers, broker, db, context, demo_devices):
    """Nested brackets, invalid UTF-8, a 1 MB blob and a message a rule raises on, each
    followed by a good message: the consumer lives, the good ones land, the bad are kept."""
    from tests.iot.test_dead_letters import (
        each_poison_kept_each_good_stored,
        poison_and_good,
        poisoned_bus,
    )

    server = brokers[broker]
    radar, token = demo_devices["mmwave_radar"]
    bus, _ = poisoned_bus()
    context.bus = bus
    ingestor = BatchIngestor(context=context, transport="mqtt")
    consumer = MqttConsumer(
        url=f"mqtt://127.0.0.1:{server.ports['mqtt']}",
        ingestor=ingestor,
        group=GROUPS[broker],
        batch_wait_s=0.02,
    )
    with Running(consumer):
        client = publisher(server.ports["mqtt"])
        for message in poison_and_good(radar, token):
            publish(client, radar, message.body)
        wait_until(lambda: consumer.stats.messages >= 8, message=lambda: consumer.stats)
        client.loop_stop()
        client.disconnect()
    each_poison_kept_each_good_stored(db, radar)
