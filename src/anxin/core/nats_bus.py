"""The NATS JetStream event bus: the same `EventBus` protocol as the in-process default.

`publish(uow, event)` writes the event to `event_outbox` in the publisher's transaction;
nothing leaves the process unless that transaction commits. After commit a relay thread
publishes outbox rows to the stream ``ANXIN_EVENTS`` (subject ``anxin.events.<subject>``) with
``Nats-Msg-Id`` = event id, so a relay that crashes between publishing and deleting its rows
publishes them again and JetStream drops the copy (within the stream's duplicate window).

`subscribe(pattern, handler)` registers a handler; `run_consumer` (``anxin ingest events``)
pulls from a durable consumer and runs each event's handlers in their own unit of work,
acknowledging after commit. Handlers must therefore be idempotent per event id (redelivery).
An event that cannot be decoded, or whose handler raises, is handed to `dead_letters` (the
iot domain's store, set by `anxin ingest events`) and acknowledged, so it never holds up the
events behind it; a database error is retried by redelivery, and dead-lettered on the last.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import OperationalError

from anxin.core.db import Database
from anxin.core.events import Event, Handler, Preparer, subject_matches
from anxin.core.outbox import EventOutbox
from anxin.core.unit import UnitOfWork

# Opens a unit of work for a handler (`AppContext.unit`).
Units = Callable[..., AbstractContextManager[UnitOfWork]]

log = logging.getLogger(__name__)

EVENTS_RELAYED = Counter(
    "anxin_events_relayed", "Domain events relayed from the outbox to JetStream."
)
EVENTS_HANDLED = Counter(
    "anxin_events_handled", "Domain events handled by bus consumers, by outcome.", ["outcome"]
)
STREAM = "ANXIN_EVENTS"
PREFIX = "anxin.events."
MAX_DELIVER = 10
# Where an event goes that cannot be handled: (reason code, reason, raw message body).
DeadLetterSink = Callable[[str, str, bytes], None]


def decode_event(data: bytes) -> Event:
    """An event as the relay publishes it; ValueError for anything else."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or not isinstance(doc.get("payload"), dict):
            raise ValueError("not an event object")
        return Event(
            subject=str(doc["subject"]),
            payload=doc["payload"],
            occurred_at=datetime.fromisoformat(doc["at"]),
            id=str(doc["id"]),
        )
    except (KeyError, TypeError, RecursionError, UnicodeDecodeError) as exc:
        raise ValueError(f"not an event: {type(exc).__name__}: {exc}") from exc


def servers(url: str) -> list[str]:
    return [u.strip() for u in url.split(",") if u.strip()]


class JetStreamBus:
    def __init__(self, url: str, db: Database, *, replicas: int = 1) -> None:
        self.url = url
        self.db = db
        self.replicas = replicas
        self._subscriptions: list[tuple[str, Handler]] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._relay: threading.Thread | None = None
        self._lock = threading.Lock()
        self.relayed = 0
        self.dead_letters: DeadLetterSink | None = None

    # -- EventBus ------------------------------------------------------------------------
    def publish(self, uow: UnitOfWork, event: Event) -> None:
        self.publish_many(uow, [event])

    def publish_many(self, uow: UnitOfWork, events: Sequence[Event]) -> None:
        if not events:
            return
        uow.session.execute(
            insert(EventOutbox),
            [
                {
                    "event_id": event.id,
                    "subject": event.subject,
                    "payload": event.payload,
                    "occurred_at": event.occurred_at,
                }
                for event in events
            ],
        )
        uow.after_commit(self._after_commit, key=self)

    def subscribe(self, pattern: str, handler: Handler) -> None:
        self._subscriptions.append((pattern, handler))

    def prepare(self, pattern: str, preparer: Preparer) -> None:
        """Accepted for the protocol; consumers here handle one event per unit of work."""

    def subscriptions(self) -> list[str]:
        return [pattern for pattern, _ in self._subscriptions]

    # -- relay ---------------------------------------------------------------------------
    def _after_commit(self) -> None:
        self.start_relay()
        self._wake.set()

    def start_relay(self) -> None:
        with self._lock:
            if self._stop.is_set():  # a stopped bus stays stopped; rows wait for another relay
                return
            if self._relay is None or not self._relay.is_alive():
                self._relay = threading.Thread(
                    target=lambda: asyncio.run(self._relay_loop()), name="outbox-relay", daemon=True
                )
                self._relay.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._relay is not None:
            self._relay.join(timeout=10)

    async def _relay_loop(self) -> None:
        import nats

        nc = await nats.connect(servers=servers(self.url), max_reconnect_attempts=-1)
        js = nc.jetstream(timeout=5)
        await ensure_events_stream(js, replicas=self.replicas)
        try:
            while not self._stop.is_set():
                try:
                    sent = await self.relay_once(js)
                except Exception:
                    log.exception("outbox relay failed; retrying")
                    sent = 0
                    await asyncio.sleep(0.5)
                if sent == 0:
                    await asyncio.to_thread(self._wake.wait, 1.0)
                    self._wake.clear()
        finally:
            await nc.close()

    async def relay_once(self, js: Any, limit: int = 1000) -> int:
        """Publish up to `limit` outbox rows in order, then delete them; returns rows sent."""
        with self.db.sessions() as session:
            rows = session.execute(
                select(
                    EventOutbox.seq,
                    EventOutbox.event_id,
                    EventOutbox.subject,
                    EventOutbox.payload,
                    EventOutbox.occurred_at,
                )
                .order_by(EventOutbox.seq)
                .limit(limit)
            ).all()
        if not rows:
            return 0
        futures = [
            js.publish(
                PREFIX + subject,
                json.dumps(
                    {"id": event_id, "subject": subject, "payload": payload, "at": at.isoformat()}
                ).encode(),
                headers={"Nats-Msg-Id": event_id},
            )
            for _, event_id, subject, payload, at in rows
        ]
        await asyncio.gather(*futures)
        with self.db.session_scope() as session:
            session.execute(delete(EventOutbox).where(EventOutbox.seq <= rows[-1][0]))
        self.relayed += len(rows)
        EVENTS_RELAYED.inc(len(rows))
        return len(rows)

    # -- consumers -----------------------------------------------------------------------
    def handle(self, event: Event, units: Units) -> int:
        """Run the matching handlers in one unit of work; returns how many ran."""
        matching = [h for p, h in self._subscriptions if subject_matches(p, event.subject)]
        if matching:
            with units(actor="bus:jetstream", bus=self) as uow:
                for handler in matching:
                    handler(uow, event)
        return len(matching)

    async def _consume(self, msg: Any, units: Units) -> bool:
        """Handle one delivered event; True if its handlers ran and committed."""
        try:
            event = decode_event(msg.data)
        except ValueError as exc:
            await self._dead_letter(msg, "malformed", str(exc))
            return False
        try:
            await asyncio.to_thread(self.handle, event, units)
        except OperationalError as exc:  # transient: redeliver, and give up on the last try
            log.warning("event handler hit a database error", extra={"event": event.id})
            EVENTS_HANDLED.labels("failed").inc()
            if _deliveries(msg) >= MAX_DELIVER:
                await self._dead_letter(msg, "handler_failed", f"{type(exc).__name__}: {exc}")
            else:
                await msg.nak(delay=1.0)
            return False
        except Exception as exc:  # a bug in a handler: redelivery would fail the same way
            log.exception("event handler failed", extra={"event": event.id})
            EVENTS_HANDLED.labels("failed").inc()
            await self._dead_letter(msg, "handler_failed", f"{type(exc).__name__}: {exc}")
            return False
        await msg.ack()
        EVENTS_HANDLED.labels("ok").inc()
        return True

    async def _dead_letter(self, msg: Any, code: str, reason: str) -> None:
        """Keep the message where an admin can see and replay it, then acknowledge it."""
        EVENTS_HANDLED.labels("dead_letter").inc()
        if self.dead_letters is not None:
            try:
                await asyncio.to_thread(self.dead_letters, code, reason[:500], bytes(msg.data))
            except Exception:  # the store is unusable: leave the event to be redelivered
                log.exception("dead letter not written; event left for redelivery")
                await msg.nak(delay=1.0)
                return
        else:
            log.error("event dropped (no dead-letter store)", extra={"reason": reason[:500]})
        await msg.ack()

    async def run_consumer(
        self,
        stop: threading.Event,
        units: Units,
        *,
        durable: str = "anxin-events",
        batch: int = 100,
    ) -> int:
        import nats
        from nats.errors import TimeoutError as NatsTimeoutError
        from nats.js.api import AckPolicy, ConsumerConfig

        nc = await nats.connect(servers=servers(self.url), max_reconnect_attempts=-1)
        handled = 0
        try:
            js = nc.jetstream(timeout=5)
            await ensure_events_stream(js, replicas=self.replicas)
            sub = await js.pull_subscribe(
                PREFIX + ">",
                durable=durable,
                stream=STREAM,
                config=ConsumerConfig(
                    ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_deliver=MAX_DELIVER
                ),
            )
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(batch, timeout=0.5)
                except (TimeoutError, NatsTimeoutError):
                    continue
                for msg in msgs:
                    if await self._consume(msg, units):
                        handled += 1
        finally:
            await nc.close()
        return handled


def _deliveries(msg: Any) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:  # not a JetStream message
        return 1


async def ensure_js_stream(js: Any, config: Any) -> None:
    """Create the JetStream stream `config` describes unless it exists, retrying while a
    cluster elects a leader or another process creates it at the same moment."""
    from nats.js.errors import NotFoundError

    for attempt in range(60):
        try:
            await js.stream_info(config.name)
            return
        except NotFoundError:
            pass
        except Exception:  # no JetStream leader yet: wait and retry
            await asyncio.sleep(0.5)
            continue
        try:
            await js.add_stream(config)
            return
        except Exception:  # raced with another process, or no leader yet
            if attempt == 59:
                raise
            await asyncio.sleep(0.5)


async def ensure_events_stream(js: Any, *, replicas: int = 1) -> None:
    from nats.js.api import StorageType, StreamConfig

    config = StreamConfig(
        name=STREAM,
        subjects=[PREFIX + ">"],
        num_replicas=replicas,
        storage=StorageType.FILE,
        duplicate_window=120.0,
    )
    await ensure_js_stream(js, config)
