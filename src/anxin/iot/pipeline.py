"""The transport-free batch ingestion unit of work behind the MQTT and NATS consumers.

A consumer hands over a list of raw messages (device id taken from the topic or subject, body
bytes, time of receipt); `BatchIngestor.process` checks each message (size, rate, device,
token, JSON shape, items), groups the good ones per device and stores them with
`iot.service.store_batch`, in one unit of work on PostgreSQL and in units of about 250 readings
on SQLite (whose single write lock the API's requests wait for). The caller acknowledges the
messages only after `process` returns, so a crash before the last commit means redelivery, and
the idempotency claim makes the redelivered copy store nothing (at-least-once delivery,
exactly-once storage).

No message can stop it: a message that cannot be processed (not JSON, too deep, not UTF-8,
too large, no valid token, or one that breaks the checks themselves) is written to the
dead-letter store (`iot.dead_letters`) and acknowledged with the rest. When a unit of work
fails for another reason than the database (a rule or bus subscriber raised), its messages are
stored again one by one, each in its own unit: the one that fails goes to the dead letters and
the others commit. Only a database that stays unusable makes `process` raise.

Device authentication: the message envelope carries the device token (see docs/telemetry.md):

    {"token": "...", "message_id": "m1", "ts": ..., "values": {...}}     one reading
    {"token": "...", "readings": [{...}, ...]}                             a batch
    {"token": "...", "senml": [{"bn": ..., "n": ..., "v": ...}, ...]}      SenML (RFC 8428)

The SHA-256 of the token must equal the stored hash of the device named by the topic.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.core.errors import InvalidInput
from anxin.core.events import EventBus, InProcessBus
from anxin.core.security import hash_device_token
from anxin.core.unit import UnitOfWork
from anxin.iot import dead_letters, metrics
from anxin.iot.ingest import (
    DEFAULT_LIMITS,
    Limits,
    ParsedReading,
    Rejection,
    TooDeep,
    decode_json,
    limits_for,
    parse_document,
)
from anxin.iot.limits import RateLimiter, size_problem
from anxin.iot.models import Device
from anxin.iot.profiles import PROFILES_BY_CODE, Metric, metrics_of
from anxin.iot.service import (
    SNAPSHOT_COLUMNS,
    DeviceBatch,
    DeviceSnapshot,
    IngestOutcome,
    record_payload_rejection,
    store_batch,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# Whole messages refused for what they are (not for the device's rate): kept for replay.
DEAD_LETTER_CODES = frozenset(
    {
        metrics.MALFORMED,
        metrics.TOO_DEEP,
        metrics.TOO_LARGE,
        metrics.UNAUTHENTICATED,
        metrics.UNKNOWN_DEVICE,
    }
)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


@dataclass(frozen=True)
class RawMessage:
    """One transport message: the claimed device, the body and when the consumer got it."""

    device_id: str | None
    body: bytes
    received: float = field(default_factory=time.monotonic)
    broker_time: datetime | None = None  # when the broker stored it, if the transport says


class DeviceCache:
    """Device snapshots by id, loaded in bulk and refreshed after ``ttl_s``.

    A rotated token or a new device takes effect within ``ttl_s`` seconds; an unknown id is
    looked up again at most every ``ttl_s`` seconds, so a flood of made-up ids costs one query
    per batch, not one per message.
    """

    def __init__(self, db: Database, *, ttl_s: float = 30.0) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, DeviceSnapshot | None]] = {}

    def load(self, device_ids: Sequence[str], now: float) -> dict[str, DeviceSnapshot | None]:
        wanted = set(device_ids)
        stale = [
            d for d in wanted if (e := self._entries.get(d)) is None or now - e[0] > self.ttl_s
        ]
        if stale:
            found: dict[str, DeviceSnapshot] = {}
            table = Device.__table__
            columns = [table.c[name] for name in SNAPSHOT_COLUMNS]
            with self.db.engine.connect() as conn:
                for start in range(0, len(stale), 5000):
                    chunk = stale[start : start + 5000]
                    for row in conn.execute(select(*columns).where(table.c.id.in_(chunk))):
                        found[row[0]] = DeviceSnapshot.of_row(row)
            for device_id in stale:
                self._entries[device_id] = (now, found.get(device_id))
        return {d: self._entries[d][1] for d in wanted}

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class BatchResult:
    messages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    dead_lettered: int = 0
    # The dead letters of the batch (written by `process` unless told not to: a replay).
    dead: list[dead_letters.Draft] = field(default_factory=list)


class _LogThrottle:
    """At most ``per_s`` rejection log lines a second: a flood is counted, not echoed."""

    def __init__(self, per_s: int = 50) -> None:
        self.per_s = per_s
        self._second = 0
        self._count = 0
        self._lock = threading.Lock()

    def ok(self) -> bool:
        with self._lock:
            second = int(time.monotonic())
            if second != self._second:
                self._second, self._count = second, 0
            self._count += 1
            return self._count <= self.per_s


@dataclass
class _Part:
    """What one message brought for its device: stored again on its own if its unit fails."""

    message: RawMessage
    parsed: list[ParsedReading]
    rejections: list[Rejection]


@dataclass
class _Pending:
    device: DeviceSnapshot
    parts: list[_Part] = field(default_factory=list)

    def batch(self) -> DeviceBatch:
        parsed = [r for part in self.parts for r in part.parsed]
        return DeviceBatch(self.device, parsed, [r for part in self.parts for r in part.rejections])


# Readings per unit of work. SQLite has one write lock for every process: a unit holds it
# from its first insert to its commit, and an API request (a fall) waits that long, so units
# there stay short (~250 readings: 10-30 ms on this machine's cores). PostgreSQL locks rows,
# so bigger units only cost the consumer's own latency.
SQLITE_UNIT_READINGS = 250
POSTGRES_UNIT_READINGS = 20_000


def default_unit_readings(db: Database) -> int:
    return SQLITE_UNIT_READINGS if db.engine.dialect.name == "sqlite" else POSTGRES_UNIT_READINGS


def split_units(batches: Sequence[DeviceBatch], unit_readings: int) -> list[list[DeviceBatch]]:
    """Consecutive groups of device batches of at most `unit_readings` readings each (a device
    with more readings than that is a unit of its own); always at least one group."""
    units: list[list[DeviceBatch]] = [[]]
    size = 0
    for batch in batches:
        count = len(batch.parsed) + len(batch.rejections)
        if units[-1] and size + count > unit_readings:
            units.append([])
            size = 0
        units[-1].append(batch)
        size += count
    return units


class BatchIngestor:
    """Checks, stores and commits a batch of transport messages; safe to call from one thread."""

    def __init__(
        self,
        *,
        context: AppContext,
        transport: str,
        publish: bool = True,
        max_payload_bytes: int = 1_048_576,
        max_items: int = 5000,
        limiter: RateLimiter | None = None,
        cache: DeviceCache | None = None,
        max_attempts: int = 5,
        unit_readings: int | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.context = context
        self.db = context.db
        self.clock = context.clock
        # The bus of each unit: the context's (None), or, storing only (benchmarks), an empty
        # one that tells no rule engine and no consumer.
        self.unit_bus: EventBus | None = None if publish else InProcessBus()
        self.transport = transport
        self.max_payload_bytes = max_payload_bytes
        self.max_items = max_items
        self.limiter = limiter
        self.cache = cache or DeviceCache(self.db)
        self.max_attempts = max_attempts
        self.unit_readings = unit_readings or default_unit_readings(self.db)
        self._throttle = _LogThrottle()
        self._metrics: dict[str, dict[str, Metric]] = {
            code: metrics_of(profile) for code, profile in PROFILES_BY_CODE.items()
        }
        self.limits = limits
        self._limits = {code: limits_for(p, limits) for code, p in PROFILES_BY_CODE.items()}

    def process(
        self, messages: Sequence[RawMessage], *, write_dead_letters: bool = True
    ) -> BatchResult:
        """Store the batch in as few units of work as the database allows (see
        `default_unit_readings`); raises only if the database stays unusable. Messages that
        cannot be processed end in `result.dead` and, unless told not to (a replay reports
        instead), in the dead-letter store."""
        started = time.perf_counter()
        mono = time.monotonic()
        now = self.clock.now()
        result = BatchResult(messages=len(messages))
        metrics.MESSAGES.labels(self.transport).inc(len(messages))
        snapshots = self.cache.load([m.device_id for m in messages if m.device_id], mono)
        pending: dict[str, _Pending] = {}
        unknown: list[tuple[str | None, str]] = []
        for message in messages:
            try:
                self._check(message, snapshots, pending, unknown, result, mono, now)
            except Exception as exc:  # a bug this message found: keep it, go on with the rest
                log.exception("message broke the checks", extra={"transport": self.transport})
                snapshot = snapshots.get(message.device_id) if message.device_id else None
                self._dead(result, message, snapshot, metrics.INTERNAL_ERROR, describe(exc))
        batches = [p.batch() for p in pending.values()]
        outcomes: list[IngestOutcome] = []
        for unit in split_units(batches, self.unit_readings):
            outcomes.extend(self._store_unit(unit, pending, result, now))
        self._store_extras(unknown, result, now, write_dead_letters=write_dead_letters)
        for outcome in outcomes:
            result.accepted += outcome.accepted
            result.duplicates += outcome.duplicates
        metrics.READINGS.labels(self.transport, "accepted").inc(result.accepted)
        metrics.READINGS.labels(self.transport, "duplicate").inc(result.duplicates)
        metrics.BATCH_MESSAGES.labels(self.transport).observe(len(messages))
        metrics.BATCH_READINGS.labels(self.transport).observe(result.accepted)
        metrics.BATCH_SECONDS.labels(self.transport).observe(time.perf_counter() - started)
        if messages:
            metrics.LAG.labels(self.transport).set(self._lag(messages))
        return result

    def _commit(self, work: Callable[[UnitOfWork], _T]) -> _T:
        """Run `work` in a unit of work, retried while the database reports a transient error
        (deadlock, serialisation failure, a locked SQLite file: the whole unit rolled back and
        is safe to repeat, the idempotency claims went with it)."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.context.unit(actor=f"ingest:{self.transport}", bus=self.unit_bus) as uow:
                    return work(uow)
            except OperationalError:
                if attempt == self.max_attempts:
                    raise
                metrics.RETRIES.labels(self.transport).inc()
                log.warning("ingestion batch retried", extra={"attempt": attempt})
                time.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _store_unit(
        self,
        batches: list[DeviceBatch],
        pending: dict[str, _Pending],
        result: BatchResult,
        now: datetime,
    ) -> list[IngestOutcome]:
        """Store one unit of work; if it fails for a reason other than the database, store
        its messages one by one and send the ones that still fail to the dead letters."""

        def store(uow: UnitOfWork, unit: list[DeviceBatch]) -> list[IngestOutcome]:
            return store_batch(uow=uow, batches=unit, now=now)

        try:
            return self._commit(partial(store, unit=batches))
        except OperationalError:
            raise
        except Exception:
            log.exception("unit of work failed; storing its messages one by one")
        outcomes: list[IngestOutcome] = []
        for batch in batches:
            entry = pending[batch.device.id]
            for part in entry.parts:
                single = [DeviceBatch(entry.device, part.parsed, part.rejections)]
                try:
                    outcomes.extend(self._commit(partial(store, unit=single)))
                except OperationalError:
                    raise
                except Exception as exc:
                    self._dead(
                        result, part.message, entry.device, metrics.HANDLER_FAILED, describe(exc)
                    )
        return outcomes

    def _store_extras(
        self,
        unknown: list[tuple[str | None, str]],
        result: BatchResult,
        now: datetime,
        *,
        write_dead_letters: bool,
    ) -> None:
        """Rejections of messages from no known device, and the batch's dead letters."""
        drafts = result.dead if write_dead_letters else []
        if not unknown and not drafts:
            return

        def write(uow: UnitOfWork) -> None:
            for device_id, reason in unknown:
                detail = f"{reason} (device {device_id!r})" if device_id else reason
                record_payload_rejection(session=uow.session, device=None, reason=detail, now=now)
            dead_letters.record(session=uow.session, drafts=drafts, now=now)

        try:
            self._commit(write)
        except OperationalError:
            raise
        except Exception:  # never expected; the messages are logged, then acknowledged
            log.exception(
                "dead letters could not be written",
                extra={"sha256": [hashlib.sha256(d.body).hexdigest() for d in drafts]},
            )

    def _dead(
        self,
        result: BatchResult,
        message: RawMessage,
        snapshot: DeviceSnapshot | None,
        code: str,
        reason: str,
    ) -> None:
        """Keep a message that cannot be processed for the dead-letter store."""
        result.dead_lettered += 1
        result.dead.append(
            dead_letters.Draft(
                transport=self.transport,
                reason_code=code,
                reason=reason,
                body=message.body,
                claimed_device=message.device_id,
                device_id=snapshot.id if snapshot else None,
                organisation_id=snapshot.organisation_id if snapshot else None,
            )
        )
        if code in (metrics.HANDLER_FAILED, metrics.INTERNAL_ERROR):
            result.reasons[code] = result.reasons.get(code, 0) + 1

    def _lag(self, messages: Sequence[RawMessage]) -> float:
        broker_times = [m.broker_time for m in messages if m.broker_time is not None]
        if broker_times:
            return max(0.0, (self.clock.now() - min(broker_times)).total_seconds())
        return max(0.0, time.monotonic() - min(m.received for m in messages))

    def _reject(
        self,
        result: BatchResult,
        message: RawMessage,
        code: str,
        reason: str,
        pending: dict[str, _Pending],
        unknown: list[tuple[str | None, str]],
        snapshot: DeviceSnapshot | None,
    ) -> None:
        device_id = message.device_id
        result.rejected += 1
        result.reasons[code] = result.reasons.get(code, 0) + 1
        metrics.REJECTED.labels(self.transport, code).inc()
        if snapshot is not None:
            entry = pending.setdefault(snapshot.id, _Pending(snapshot))
            entry.parts.append(_Part(message, [], [Rejection(None, None, reason)]))
        else:
            unknown.append((device_id, reason))
        if code in DEAD_LETTER_CODES:
            self._dead(result, message, snapshot, code, reason)
        if self._throttle.ok():
            log.warning(
                "telemetry rejected",
                extra={
                    "transport": self.transport,
                    "device": device_id,
                    "reason_code": code,
                    "reason": reason,
                },
            )

    def _check(
        self,
        message: RawMessage,
        snapshots: dict[str, DeviceSnapshot | None],
        pending: dict[str, _Pending],
        unknown: list[tuple[str | None, str]],
        result: BatchResult,
        mono: float,
        now: datetime,
    ) -> None:
        device_id = message.device_id
        snapshot = snapshots.get(device_id) if device_id else None

        def reject(code: str, reason: str, known: DeviceSnapshot | None = None) -> None:
            self._reject(result, message, code, reason, pending, unknown, known)

        if device_id is None:
            return reject(metrics.MALFORMED, "topic does not name a device")
        problem = size_problem(len(message.body), self.max_payload_bytes)
        if problem:
            return reject(metrics.TOO_LARGE, problem, snapshot)
        if self.limiter is not None and not self.limiter.allow(device_id, mono):
            return reject(metrics.RATE_LIMITED, self.limiter.reason(), snapshot)
        if snapshot is None:
            return reject(metrics.UNKNOWN_DEVICE, "unknown device")
        limits = self._limits[snapshot.device_type]
        try:
            doc = decode_json(message.body, max_depth=limits.max_depth)
        except TooDeep as exc:
            return reject(metrics.TOO_DEEP, exc.message, snapshot)
        except InvalidInput as exc:
            return reject(metrics.MALFORMED, exc.message[:300], snapshot)
        if not isinstance(doc, dict):
            return reject(
                metrics.MALFORMED, "expected a JSON object with the device token", snapshot
            )
        token = doc.pop("token", None)
        if not isinstance(token, str) or not token:
            return reject(metrics.UNAUTHENTICATED, "no device token in the message", snapshot)
        if not hmac.compare_digest(hash_device_token(token), snapshot.token_hash):
            return reject(
                metrics.UNAUTHENTICATED, "device token does not match the topic's device", snapshot
            )
        senml = "senml" in doc
        body: Any = doc["senml"] if senml else doc
        try:
            parsed, rejections = parse_document(
                body,
                senml=senml,
                metrics=self._metrics[snapshot.device_type],
                now=now,
                max_items=self.max_items,
                limits=limits,
            )
        except InvalidInput as exc:
            return reject(metrics.MALFORMED, exc.message, snapshot)
        entry = pending.setdefault(snapshot.id, _Pending(snapshot))
        entry.parts.append(_Part(message, parsed, rejections))
        if rejections:
            result.rejected += len(rejections)
            result.reasons[metrics.INVALID_READING] = result.reasons.get(
                metrics.INVALID_READING, 0
            ) + len(rejections)
            metrics.REJECTED.labels(self.transport, metrics.INVALID_READING).inc(len(rejections))
        return None
