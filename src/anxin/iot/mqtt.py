"""MQTT ingestion consumer: `anxin ingest mqtt --url mqtt://host:port`.

Devices publish to ``anxin/devices/{device_id}/telemetry`` with QoS 1. The consumer subscribes
with QoS 1 through a shared subscription (``$share/<group>/anxin/devices/+/telemetry``), so
several consumers split the load (Mosquitto 2, EMQX, HiveMQ; NATS's MQTT listener has no
shared subscriptions: pass an empty group and scale out with `anxin ingest nats` instead).

Messages are acknowledged by hand (paho ``manual_ack``) only after the batch that holds them has
committed: a crash before commit leaves them un-acknowledged and the broker delivers them again,
and the idempotency claims make the second delivery store nothing. The broker's in-flight
window (Mosquitto ``max_inflight_messages``, NATS ``mqtt.max_ack_pending``) bounds how many
un-acknowledged messages a consumer holds; the local queue is bounded as well.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from anxin.iot import metrics
from anxin.iot.pipeline import BatchIngestor, BatchResult, RawMessage

log = logging.getLogger(__name__)

TOPIC = "anxin/devices/+/telemetry"


def device_of_topic(topic: str) -> str | None:
    parts = topic.split("/")
    if (
        len(parts) == 4
        and parts[0] == "anxin"
        and parts[1] == "devices"
        and parts[3] == ("telemetry")
    ):
        return parts[2] or None
    return None


def parse_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"expected mqtt://host:port, got {url!r}")
    return parts.hostname or "127.0.0.1", parts.port or 1883


@dataclass
class _Item:
    message: RawMessage
    mid: int
    qos: int


@dataclass
class ConsumerStats:
    batches: int = 0
    messages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, result: BatchResult) -> None:
        self.batches += 1
        self.messages += result.messages
        self.accepted += result.accepted
        self.duplicates += result.duplicates
        self.rejected += result.rejected
        for code, count in result.reasons.items():
            self.reasons[code] = self.reasons.get(code, 0) + count


class MqttConsumer:
    """Receives on paho's network thread, stores in batches on the calling thread."""

    def __init__(
        self,
        *,
        url: str,
        ingestor: BatchIngestor,
        group: str = "anxin",
        client_id: str | None = None,
        batch_size: int = 1000,
        batch_wait_s: float = 0.05,
        queue_size: int = 20_000,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port = parse_url(url)
        self.ingestor = ingestor
        self.topic = f"$share/{group}/{TOPIC}" if group else TOPIC
        # A named client keeps a persistent session: after a restart it gets back what it had
        # not acknowledged. An anonymous one gets a unique id and a clean session.
        persistent = client_id is not None
        self.client_id = client_id or (
            f"anxin-ingest-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.batch_size = batch_size
        self.batch_wait_s = batch_wait_s
        self.queue: queue.Queue[_Item] = queue.Queue(maxsize=queue_size)
        self.stats = ConsumerStats()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=not persistent,
            manual_ack=True,
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.error("mqtt connect refused", extra={"reason": str(reason)})
            return
        log.info("mqtt connected", extra={"broker": f"{self.host}:{self.port}"})
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, codes: Any, _p: Any) -> None:
        if any(getattr(code, "is_failure", False) for code in codes):
            log.error("mqtt subscription refused", extra={"topic": self.topic})
            return
        self.subscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.subscribed.clear()
        log.warning("mqtt disconnected", extra={"reason": str(reason)})

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        item = _Item(RawMessage(device_of_topic(msg.topic), bytes(msg.payload)), msg.mid, msg.qos)
        # Bounded: a full queue blocks the network thread, and the broker stops sending once
        # its in-flight window is used up (back-pressure all the way to the devices' broker).
        self.queue.put(item)
        metrics.QUEUE_DEPTH.labels(self.ingestor.transport).set(self.queue.qsize())

    def start(self) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _next_batch(self, timeout: float) -> list[_Item]:
        try:
            first = self.queue.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_size:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self.queue.get(timeout=left))
                except queue.Empty:
                    break
        return batch

    def run_once(self, timeout: float = 0.5) -> BatchResult | None:
        """Store one batch (waiting up to `timeout` for the first message), then acknowledge."""
        batch = self._next_batch(timeout)
        if not batch:
            return None
        result = self.ingestor.process([item.message for item in batch])
        for item in batch:
            if item.qos > 0:
                self.client.ack(item.mid, item.qos)
        metrics.QUEUE_DEPTH.labels(self.ingestor.transport).set(self.queue.qsize())
        self.stats.add(result)
        return result

    def run(self, stop: threading.Event) -> ConsumerStats:
        self.start()
        try:
            while not stop.is_set():
                self.run_once()
        finally:
            self.stop()
        return self.stats
