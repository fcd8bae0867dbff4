"""Device registry and telemetry storage. Keyword-only; flush, never commit."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol, cast

from sqlalchemy import Select, Table, and_, bindparam, case, insert, or_, select, update
from sqlalchemy import text as sql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from anxin.core.config import Settings
from anxin.core.db import insert_unnest
from anxin.core.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from anxin.core.events import Event
from anxin.core.security import Principal, Role, hash_device_token, new_device_token
from anxin.core.unit import UnitOfWork
from anxin.iot.ingest import (
    DEFAULT_LIMITS,
    Limits,
    ParsedReading,
    Rejection,
    Value,
    limits_for,
    parse_payload,
)
from anxin.iot.models import (
    Device,
    DeviceType,
    IngestedMessage,
    LatestValue,
    Reading,
    TelemetryRejection,
)
from anxin.iot.profiles import PROFILES, PROFILES_BY_CODE, metrics_of
from anxin.iot.schemas import DeviceCreate

# Roles that manage devices for their organisation.
DEVICE_ADMINS = frozenset({Role.ADMIN, Role.BUTLER, Role.WAREHOUSE_OPERATOR, Role.FARMER})
TELEMETRY_SUBJECT = "iot.telemetry.{device_type}"


def limits_from(settings: Settings) -> Limits:
    """The parsing limits the operator configured (see `iot.ingest.Limits`)."""
    return Limits(
        max_depth=settings.telemetry_max_depth,
        max_age=timedelta(seconds=settings.telemetry_max_age_s),
        max_future=timedelta(seconds=settings.telemetry_max_future_s),
    )


def sync_device_types(*, session: Session) -> int:
    """Make the device_types table match the profile catalogue; returns rows written."""
    for profile in PROFILES:
        row = session.get(DeviceType, profile.code) or DeviceType(code=profile.code)
        row.name_en = profile.name_en
        row.name_zh = profile.name_zh
        row.offline_after_s = profile.offline_after_s
        row.metrics = {k: m.as_dict() for k, m in metrics_of(profile).items()}
        session.add(row)
    session.flush()
    return len(PROFILES)


def list_device_types(*, session: Session) -> list[DeviceType]:
    return list(session.scalars(select(DeviceType).order_by(DeviceType.code)))


def register_device(
    *, session: Session, organisation_id: str, data: DeviceCreate, now: datetime
) -> tuple[Device, str]:
    """Create a device and its access token; the plain token is returned once, stored hashed."""
    profile = PROFILES_BY_CODE.get(data.device_type)
    if profile is None or session.get(DeviceType, data.device_type) is None:
        known = ", ".join(sorted(PROFILES_BY_CODE))
        raise InvalidInput.field(
            "device_type", f"unknown device type {data.device_type!r}; known: {known}"
        )
    if data.owner_kind not in profile.owner_kinds:
        allowed = " or ".join(profile.owner_kinds)
        raise InvalidInput.field(
            "owner_kind", f"a {profile.code} belongs to a {allowed}, not a {data.owner_kind}"
        )
    token = new_device_token()
    device = Device(
        organisation_id=organisation_id,
        device_type=data.device_type,
        name=data.name,
        serial=data.serial,
        owner_kind=data.owner_kind,
        owner_id=data.owner_id,
        token_hash=hash_device_token(token),
        attributes=data.attributes,
        created_at=now,
        online=False,
        rejected_count=0,
    )
    session.add(device)
    session.flush()
    return device, token


def rotate_token(*, uow: UnitOfWork, principal: Principal, device_id: str) -> tuple[Device, str]:
    device = get_device(uow=uow, principal=principal, device_id=device_id)
    _require_device_admin(principal)
    token = new_device_token()
    device.token_hash = hash_device_token(token)
    uow.session.flush()
    return device, token


def authenticate_device(*, session: Session, token: str) -> Device:
    device = session.scalar(select(Device).where(Device.token_hash == hash_device_token(token)))
    if device is None:
        raise Unauthenticated("unknown device token")
    return device


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    """A device as a plain row: enough to authenticate and store without an ORM object."""

    id: str
    device_type: str
    organisation_id: str
    owner_kind: str
    owner_id: str
    token_hash: str

    @classmethod
    def of_row(cls, row: Sequence[Any]) -> DeviceSnapshot:
        """From a row of `SNAPSHOT_COLUMNS`; the few distinct texts are interned (a consumer
        caches a snapshot per device)."""
        return cls(
            row[0], sys.intern(row[1]), sys.intern(row[2]), sys.intern(row[3]), row[4], row[5]
        )


SNAPSHOT_COLUMNS = ("id", "device_type", "organisation_id", "owner_kind", "owner_id", "token_hash")


@cache
def _device_by_token() -> Select[Any]:
    devices = cast(Table, Device.__table__)
    columns = [devices.c[name] for name in SNAPSHOT_COLUMNS]
    return select(*columns).where(devices.c.token_hash == bindparam("token_hash"))


def authenticate_device_snapshot(*, session: Session, token: str) -> DeviceSnapshot:
    """The device of `token` as a snapshot (the telemetry route's path: one indexed read per
    request, never cached, so a rotated or revoked token fails at once in every process)."""
    found = session.connection().execute(
        _device_by_token(), {"token_hash": hash_device_token(token)}
    )
    row = found.first()
    if row is None:
        raise Unauthenticated("unknown device token")
    return DeviceSnapshot.of_row(row)


def _require_device_admin(principal: Principal) -> None:
    if principal.role not in DEVICE_ADMINS:
        raise PermissionDenied(f"role {principal.role.value!r} may not manage devices")


def _visible(uow: UnitOfWork, principal: Principal, device: Device) -> bool:
    if device.organisation_id != principal.organisation_id:
        return False
    owners = uow.owners.visible_ids(uow.session, principal, device.owner_kind)
    return owners is None or device.owner_id in owners


def get_device(*, uow: UnitOfWork, principal: Principal, device_id: str) -> Device:
    """A device the principal may see; 404 otherwise, so existence does not leak."""
    device = uow.session.get(Device, device_id)
    if device is None or not _visible(uow, principal, device):
        raise NotFound(f"no device {device_id}")
    return device


def list_devices(
    *,
    uow: UnitOfWork,
    principal: Principal,
    owner_kind: str | None = None,
    owner_id: str | None = None,
) -> list[Device]:
    session = uow.session
    stmt = select(Device).where(Device.organisation_id == principal.organisation_id)
    if owner_kind:
        stmt = stmt.where(Device.owner_kind == owner_kind)
    if owner_id:
        stmt = stmt.where(Device.owner_id == owner_id)
    devices = session.scalars(stmt.order_by(Device.created_at, Device.id))
    return [d for d in devices if _visible(uow, principal, d)]


def create_device(
    *, uow: UnitOfWork, principal: Principal, data: DeviceCreate, now: datetime
) -> tuple[Device, str]:
    _require_device_admin(principal)
    # The owner must exist in the caller's organisation (a scope of None means "all of it",
    # which alone would let an admin attach a device to another organisation's owner) and be
    # one the caller may see.
    owners = uow.owners.visible_ids(uow.session, principal, data.owner_kind)
    if not uow.owners.belongs(
        uow.session, data.owner_kind, data.owner_id, principal.organisation_id
    ) or (owners is not None and data.owner_id not in owners):
        raise InvalidInput.field("owner_id", f"no {data.owner_kind} {data.owner_id} you manage")
    return register_device(
        session=uow.session, organisation_id=principal.organisation_id, data=data, now=now
    )


@dataclass(frozen=True)
class IngestOutcome:
    accepted: int
    duplicates: int
    rejections: list[Rejection]
    stored: list[ParsedReading]


def ingest(
    *,
    uow: UnitOfWork,
    device: DeviceRef,
    body: bytes,
    content_type: str,
    now: datetime,
    max_items: int = 5000,
    limits: Limits = DEFAULT_LIMITS,
) -> IngestOutcome:
    """Decode, validate and store one payload from one device (the transport-free entry point)."""
    profile = PROFILES_BY_CODE[device.device_type]
    parsed, rejections = parse_payload(
        body,
        content_type=content_type,
        metrics=metrics_of(profile),
        now=now,
        max_items=max_items,
        limits=limits_for(profile, limits),
    )
    return store_readings(uow=uow, device=device, parsed=parsed, rejections=rejections, now=now)


def store_readings(
    *,
    uow: UnitOfWork,
    device: DeviceRef,
    parsed: Sequence[ParsedReading],
    rejections: Sequence[Rejection],
    now: datetime,
) -> IngestOutcome:
    """Store one device's validated readings: `store_batch` with a single device."""
    (outcome,) = store_batch(uow=uow, batches=[DeviceBatch(device, parsed, rejections)], now=now)
    return outcome


class DeviceRef(Protocol):
    """What storage needs to know of a device: a `Device` row or a cached snapshot of one."""

    @property
    def id(self) -> str: ...
    @property
    def device_type(self) -> str: ...
    @property
    def organisation_id(self) -> str: ...
    @property
    def owner_kind(self) -> str: ...
    @property
    def owner_id(self) -> str: ...


@dataclass(frozen=True)
class DeviceBatch:
    device: DeviceRef
    parsed: Sequence[ParsedReading]
    rejections: Sequence[Rejection]


# Rows per statement: under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
CHUNK_ROWS = 5000
# One stored message: (device id, ts, message id, values by key).
ReadingRow = tuple[str, datetime, str, dict[str, Value]]


def store_batch(
    *, uow: UnitOfWork, batches: Sequence[DeviceBatch], now: datetime
) -> list[IngestOutcome]:
    """Store validated readings of many devices in one unit of work (every transport's path),
    then publish one telemetry event per device with new readings.

    Idempotent per (device, message id): a message id already claimed stores nothing. Rows are
    written in (device, key) order so that concurrent workers take row locks in the same order.
    """
    session = uow.session
    session.flush()
    fresh = _claim_many(session, batches, now)
    readings: list[ReadingRow] = []
    newest: dict[tuple[str, str], tuple[datetime, Value]] = {}
    for batch in batches:
        device_id = batch.device.id
        for reading in fresh[device_id]:
            readings.append((device_id, reading.ts, reading.message_id, dict(reading.values)))
            for key, value in reading.values.items():
                known = newest.get((device_id, key))
                if known is None or reading.ts >= known[0]:
                    newest[(device_id, key)] = (reading.ts, value)
    _write_readings(session, readings)
    _upsert_latest_many(session, newest)
    _record_rejections_many(session, batches, now)
    _mark_seen(session, sorted({b.device.id for b in batches if fresh[b.device.id]}), now)
    for batch in batches:
        if isinstance(batch.device, Device):
            session.expire(batch.device, ["last_seen_at", "online", "rejected_count"])
    events = [
        _telemetry_event(b.device, fresh[b.device.id], now) for b in batches if fresh[b.device.id]
    ]
    uow.publish_many(events)
    outcomes: list[IngestOutcome] = []
    for batch in batches:
        stored = fresh[batch.device.id]
        outcomes.append(
            IngestOutcome(
                accepted=len(stored),
                duplicates=len(batch.parsed) - len(stored),
                rejections=list(batch.rejections),
                stored=stored,
            )
        )
    return outcomes


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _mark_seen(session: Session, device_ids: Sequence[str], now: datetime) -> None:
    if device_ids and _is_postgres(session):
        session.execute(
            sql(
                "UPDATE devices SET online = true, last_seen_at = CASE WHEN last_seen_at IS NULL "
                "OR last_seen_at < :now THEN CAST(:now AS timestamptz) ELSE last_seen_at END "
                "WHERE id = ANY(CAST(:ids AS varchar[])) AND (NOT online OR last_seen_at IS NULL "
                "OR last_seen_at < :now)"
            ),
            {"now": now, "ids": list(device_ids)},
        )
        return
    devices = cast(Table, Device.__table__)
    last_seen = devices.c.last_seen_at
    for start in range(0, len(device_ids), CHUNK_ROWS):
        session.execute(
            update(devices)
            .where(devices.c.id.in_(device_ids[start : start + CHUNK_ROWS]))
            .values(
                online=True,
                last_seen_at=case(
                    (or_(last_seen.is_(None), last_seen < now), now), else_=last_seen
                ),
            )
        )


def _claim_many(
    session: Session, batches: Sequence[DeviceBatch], now: datetime
) -> dict[str, list[ParsedReading]]:
    """Insert idempotency rows; per device, the readings whose row is new (in batch order)."""
    wanted: dict[tuple[str, str], ParsedReading] = {}
    for batch in batches:
        for reading in batch.parsed:
            wanted.setdefault((batch.device.id, reading.message_id), reading)
    claimed: set[tuple[str, str]] = set()
    keys = sorted(wanted)
    if keys and _is_postgres(session):
        # One statement over arrays: no per-row SQL text to build, parse or plan.
        result = session.execute(
            sql(
                "INSERT INTO ingested_messages (device_id, message_id, received_at) "
                "SELECT d, m, CAST(:now AS timestamptz) FROM unnest("
                "CAST(:devices AS varchar[]), CAST(:messages AS varchar[])) AS t(d, m) "
                "ON CONFLICT (device_id, message_id) DO NOTHING RETURNING device_id, message_id"
            ),
            {"now": now, "devices": [d for d, _ in keys], "messages": [m for _, m in keys]},
        )
        claimed.update((d, m) for d, m in result)
    elif keys:
        # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs
        # ("insertmanyvalues") from one cached compiled statement.
        rows = [{"device_id": d, "message_id": m, "received_at": now} for d, m in keys]
        claimed.update((d, m) for d, m in session.execute(_sqlite_claim(), rows))
    fresh: dict[str, list[ParsedReading]] = {b.device.id: [] for b in batches}
    for (device_id, message_id), reading in wanted.items():
        if (device_id, message_id) in claimed:
            fresh[device_id].append(reading)
    return fresh


def _write_readings(session: Session, rows: Sequence[ReadingRow]) -> None:
    """Insert one row per message: COPY on PostgreSQL (psycopg 3), executemany elsewhere."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        raw: Any = connection.connection.driver_connection
        columns = "device_id, ts, message_id, data"
        # Text COPY: the JSON text goes straight into jsonb's input function.
        with raw.cursor() as cursor, cursor.copy(f"COPY readings ({columns}) FROM STDIN") as copy:
            for device_id, ts, message_id, data in rows:
                copy.write_row((device_id, ts, message_id, json.dumps(data)))
        return
    # The table, not the ORM entity: one executemany for all rows, where the ORM's bulk path
    # splits them into many small groups.
    table = cast(Table, Reading.__table__)
    session.execute(
        table.insert(),
        [{"device_id": d, "ts": ts, "message_id": m, "data": data} for d, ts, m, data in rows],
    )


def _upsert_latest_many(
    session: Session, newest: dict[tuple[str, str], tuple[datetime, Value]]
) -> None:
    rows = []
    for (device_id, key), (ts, value) in sorted(newest.items()):
        num, text = _encode(value)
        rows.append({"device_id": device_id, "key": key, "ts": ts, "num": num, "text": text})
    if not rows:
        return
    if _is_postgres(session):
        insert_unnest(
            session,
            "latest_values AS lv",
            (
                ("device_id", "varchar"),
                ("key", "varchar"),
                ("ts", "timestamptz"),
                ("num", "float8"),
                ("text", "text"),
            ),
            [(r["device_id"], r["key"], r["ts"], r["num"], r["text"]) for r in rows],
            suffix="ON CONFLICT (device_id, key) DO UPDATE SET ts = excluded.ts, "
            "num = excluded.num, text = excluded.text WHERE lv.ts <= excluded.ts",
        )
        return
    session.execute(_sqlite_latest_upsert(), rows)  # executemany, batched by the driver


# The SQLite statements of every unit of work, built once: building one costs more than
# running it (`excluded` sets up a column collection each time) and a statement object that
# is reused keeps its cache key. PostgreSQL takes arrays (`unnest`) instead.


@cache
def _sqlite_claim() -> Executable:
    table = cast(Table, IngestedMessage.__table__)
    return (
        sqlite_insert(table)
        .on_conflict_do_nothing(index_elements=["device_id", "message_id"])
        .returning(table.c.device_id, table.c.message_id)
    )


@cache
def _sqlite_latest_upsert() -> Executable:
    table = cast(Table, LatestValue.__table__)
    stmt = sqlite_insert(table)
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["device_id", "key"],
        set_={"ts": excluded.ts, "num": excluded.num, "text": excluded.text},
        # Late, out-of-order readings must not overwrite a newer latest value.
        where=table.c.ts <= excluded.ts,
    )


def _record_rejections_many(
    session: Session, batches: Sequence[DeviceBatch], now: datetime
) -> None:
    rows = [
        {
            "device_id": b.device.id,
            "at": now,
            "message_id": r.message_id,
            "item_index": r.index,
            "reason": r.reason[:500],
        }
        for b in batches
        for r in b.rejections
    ]
    if not rows:
        return
    session.execute(insert(TelemetryRejection), rows)
    counts: dict[str, int] = {}
    for b in batches:
        if b.rejections:
            counts[b.device.id] = counts.get(b.device.id, 0) + len(b.rejections)
    devices = cast(Table, Device.__table__)
    session.execute(
        update(devices)
        .where(devices.c.id == bindparam("b_id"))
        .values(rejected_count=devices.c.rejected_count + bindparam("b_n")),
        [{"b_id": d, "b_n": n} for d, n in sorted(counts.items())],
    )


def _encode(value: Value) -> tuple[float | None, str | None]:
    if isinstance(value, bool):
        return (1.0 if value else 0.0), None
    if isinstance(value, float | int):
        return float(value), None
    return None, value


def _record_rejections(
    session: Session, device: DeviceRef | None, rejections: Sequence[Rejection], now: datetime
) -> None:
    if not rejections:
        return
    rows = [
        {
            "device_id": device.id if device else None,
            "at": now,
            "message_id": r.message_id,
            "item_index": r.index,
            "reason": r.reason[:500],
        }
        for r in rejections
    ]
    session.execute(insert(TelemetryRejection), rows)
    if device is not None:
        session.execute(
            update(Device)
            .where(Device.id == device.id)
            .values(rejected_count=Device.rejected_count + len(rejections))
        )
        if isinstance(device, Device):
            session.expire(device, ["rejected_count"])


def record_payload_rejection(
    *, session: Session, device: DeviceRef | None, reason: str, now: datetime
) -> None:
    """A whole payload refused (malformed, too large): still counted against the device."""
    _record_rejections(session, device, [Rejection(None, None, reason)], now)


def _telemetry_event(device: DeviceRef, fresh: Sequence[ParsedReading], now: datetime) -> Event:
    return Event(
        subject=TELEMETRY_SUBJECT.format(device_type=device.device_type),
        occurred_at=now,
        payload={
            "device_id": device.id,
            "device_type": device.device_type,
            "organisation_id": device.organisation_id,
            "owner_kind": device.owner_kind,
            "owner_id": device.owner_id,
            "readings": [
                {"message_id": r.message_id, "ts": r.ts.isoformat(), "values": dict(r.values)}
                for r in sorted(fresh, key=lambda r: r.ts)
            ],
        },
    )


def _stored_value(device_type: str, key: str, value: Any) -> Value:
    """A value as stored in a message row: JSON keeps bools, numbers and text apart, but a
    row converted from the narrow shape (migration iot_0005) may hold 1.0 for true."""
    metric = metrics_of(PROFILES_BY_CODE[device_type]).get(key)
    if metric is not None and metric.kind == "bool" and not isinstance(value, bool):
        return bool(value)
    return cast(Value, value)


def _decode(device_type: str, key: str, num: float | None, text: str | None) -> Value | None:
    metric = metrics_of(PROFILES_BY_CODE[device_type]).get(key)
    if metric is not None and metric.kind == "bool" and num is not None:
        return num != 0.0
    return num if num is not None else text


def encode_cursor(ts: datetime, row_id: int, key: str) -> str:
    return base64.urlsafe_b64encode(f"{ts.isoformat()}|{row_id}|{key}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        ts_text, id_text, key = raw.split("|", 2)
        return datetime.fromisoformat(ts_text), int(id_text), key
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.field("cursor", "not a cursor returned by this API") from exc


def list_readings(
    *,
    uow: UnitOfWork,
    principal: Principal,
    device_id: str,
    start: datetime | None,
    end: datetime | None,
    key: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A device's readings, one item per value (time, key), oldest first, paged by a cursor.

    Rows are messages; a page may end inside one, so the cursor names the message and the
    last key returned from it.
    """
    device = get_device(uow=uow, principal=principal, device_id=device_id)
    session = uow.session
    if start and end and start >= end:
        raise InvalidInput.field("start", "must be before end")
    stmt = select(Reading.id, Reading.ts, Reading.message_id, Reading.data).where(
        Reading.device_id == device.id
    )
    if start:
        stmt = stmt.where(Reading.ts >= start)
    if end:
        stmt = stmt.where(Reading.ts < end)
    after: tuple[datetime, int, str] | None = decode_cursor(cursor) if cursor else None
    items: list[dict[str, Any]] = []
    last: tuple[datetime, int, str] | None = None
    while True:
        page = stmt
        if after is not None:
            after_ts, after_id, _ = after
            page = page.where(
                or_(Reading.ts > after_ts, and_(Reading.ts == after_ts, Reading.id >= after_id))
            )
        # Every message holds at least one value, so limit + 1 messages fill the page
        # unless a key filter skips some; then the loop reads on.
        rows = session.execute(page.order_by(Reading.ts, Reading.id).limit(limit + 1)).all()
        for row_id, ts, message_id, data in rows:
            for k in sorted(data):
                if key is not None and k != key:
                    continue
                if after is not None and (ts, row_id) == after[:2] and k <= after[2]:
                    continue
                if len(items) == limit:
                    assert last is not None
                    return items, encode_cursor(*last)
                items.append(
                    {
                        "ts": ts,
                        "key": k,
                        "value": _stored_value(device.device_type, k, data[k]),
                        "message_id": message_id,
                    }
                )
                last = (ts, row_id, k)
        if len(rows) <= limit:
            return items, None
        last_id, last_ts = rows[-1][0], rows[-1][1]
        after = (last_ts, last_id, "\uffff")  # that whole message is done


def latest_values(*, uow: UnitOfWork, principal: Principal, device_id: str) -> list[dict[str, Any]]:
    device = get_device(uow=uow, principal=principal, device_id=device_id)
    rows = uow.session.scalars(
        select(LatestValue).where(LatestValue.device_id == device.id).order_by(LatestValue.key)
    )
    return [
        {"key": r.key, "ts": r.ts, "value": _decode(device.device_type, r.key, r.num, r.text)}
        for r in rows
    ]


def list_rejections(
    *, uow: UnitOfWork, principal: Principal, device_id: str, limit: int = 100
) -> list[TelemetryRejection]:
    device = get_device(uow=uow, principal=principal, device_id=device_id)
    session = uow.session
    stmt = (
        select(TelemetryRejection)
        .where(TelemetryRejection.device_id == device.id)
        .order_by(TelemetryRejection.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


# --- for owning domains (they checked that the caller may see the owner) -------------------


def devices_of_owner(
    *, session: Session, owner_kind: str, owner_id: str, device_type: str | None = None
) -> list[Device]:
    """An owner's devices, oldest first; the caller has checked the owner's visibility."""
    stmt = select(Device).where(Device.owner_kind == owner_kind, Device.owner_id == owner_id)
    if device_type is not None:
        stmt = stmt.where(Device.device_type == device_type)
    return list(session.scalars(stmt.order_by(Device.created_at, Device.id)))


def messages_between(
    *,
    session: Session,
    device: Device,
    start: datetime,
    end: datetime,
    keys: Sequence[str],
) -> list[tuple[datetime, dict[str, Value]]]:
    """A device's readings in [start, end) with the given keys, one entry per message (time,
    values by key), oldest first."""
    wanted = set(keys)
    rows = session.execute(
        select(Reading.ts, Reading.data)
        .where(Reading.device_id == device.id, Reading.ts >= start, Reading.ts < end)
        .order_by(Reading.ts, Reading.id)
    )
    found: list[tuple[datetime, dict[str, Value]]] = []
    for ts, data in rows:
        values = {
            k: _stored_value(device.device_type, k, v)
            for k, v in data.items()
            if k in wanted and v is not None
        }
        if values:
            found.append((ts, values))
    return found
