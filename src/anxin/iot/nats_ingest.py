"""Ingestion workers on NATS JetStream: `anxin ingest nats`.

Device traffic lands in the stream ``ANXIN_TELEMETRY`` (subjects ``anxin.devices.*.telemetry``):
devices publishing over MQTT to NATS's MQTT listener on ``anxin/devices/{id}/telemetry`` arrive
on exactly those subjects, and bridges or gateways may publish there directly (with a
``Nats-Msg-Id`` header so the stream drops their retries). Workers share one durable pull
consumer, so N processes split the load. A worker acknowledges a batch only after it has
committed; a worker killed mid-batch leaves its messages un-acknowledged and JetStream hands
them to another worker after ``ack_wait``; the idempotency claims make that copy store nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

import nats
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from anxin.core.nats_bus import ensure_js_stream, servers
from anxin.iot import metrics
from anxin.iot.mqtt import ConsumerStats
from anxin.iot.pipeline import BatchIngestor, RawMessage

log = logging.getLogger(__name__)

STREAM = "ANXIN_TELEMETRY"
SUBJECT = "anxin.devices.*.telemetry"
DURABLE = "anxin-ingest"


def subject_for(device_id: str) -> str:
    return f"anxin.devices.{device_id}.telemetry"


def device_of_subject(subject: str) -> str | None:
    parts = subject.split(".")
    if len(parts) == 4 and parts[:2] == ["anxin", "devices"] and parts[3] == "telemetry":
        return parts[2] or None
    return None


async def ensure_stream(js: Any, *, replicas: int = 1, max_age_s: float = 7 * 86400) -> None:
    """Create the telemetry stream if it is missing (retrying while a cluster elects a leader)."""
    config = StreamConfig(
        name=STREAM,
        subjects=[SUBJECT],
        num_replicas=replicas,
        storage=StorageType.FILE,
        duplicate_window=120.0,
        max_age=max_age_s,
    )
    await ensure_js_stream(js, config)


@dataclass
class NatsWorker:
    """One worker of the durable pull-consumer group."""

    url: str
    ingestor: BatchIngestor
    durable: str = DURABLE
    batch_size: int = 500
    ack_wait_s: float = 30.0
    replicas: int = 1

    def __post_init__(self) -> None:
        self.stats = ConsumerStats()
        self.ready = threading.Event()

    async def run(self, stop: threading.Event) -> ConsumerStats:
        nc = await nats.connect(
            servers=servers(self.url),
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.25,
            name=f"anxin-ingest-{self.durable}",
        )
        try:
            js = nc.jetstream(timeout=5)
            await ensure_stream(js, replicas=self.replicas)
            sub = await self._subscribe(js)
            self.ready.set()
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(self.batch_size, timeout=0.5)
                except (TimeoutError, NatsTimeoutError):
                    continue
                except Exception as exc:  # a node left; the client reconnects
                    log.warning("fetch failed, retrying", extra={"error": repr(exc)})
                    await asyncio.sleep(0.25)
                    continue
                await self._handle(msgs)
                await self._pending(sub)
        finally:
            await nc.close()
        return self.stats

    async def _subscribe(self, js: Any) -> Any:
        config = ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait_s,
            max_ack_pending=50_000,
            filter_subject=SUBJECT,
        )
        for attempt in range(60):
            try:
                return await js.pull_subscribe(
                    SUBJECT, durable=self.durable, stream=STREAM, config=config
                )
            except Exception:  # consumer being created by a peer, or no leader
                if attempt == 59:
                    raise
                await asyncio.sleep(0.5)
        raise AssertionError("unreachable")

    async def _handle(self, msgs: list[Any]) -> None:
        raw = []
        for msg in msgs:
            try:
                broker_time = msg.metadata.timestamp
            except Exception:  # not a JetStream message
                broker_time = None
            raw.append(
                RawMessage(device_of_subject(msg.subject), msg.data, broker_time=broker_time)
            )
        # The database work runs in a thread so the client keeps answering heartbeats.
        result = await asyncio.to_thread(self.ingestor.process, raw)
        for msg in msgs:
            try:
                await msg.ack()
            except Exception as exc:  # lost ack: JetStream redelivers, we dedupe
                log.warning("ack failed", extra={"error": repr(exc)})
        self.stats.add(result)

    async def _pending(self, sub: Any) -> None:
        try:
            info = await sub.consumer_info()
            metrics.PENDING.labels(self.ingestor.transport).set(info.num_pending)
        except Exception:  # metrics only
            return


async def publish_json(js: Any, device_id: str, body: bytes, msg_id: str) -> None:
    """Publish device traffic into the stream, de-duplicated by `msg_id` (bridges, tests)."""
    await js.publish(subject_for(device_id), body, headers={"Nats-Msg-Id": msg_id})
