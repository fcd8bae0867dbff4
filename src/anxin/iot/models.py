from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class DeviceType(Base):
    """Mirror of the profile catalogue in `iot.profiles`, kept for integrity and listing."""

    __tablename__ = "device_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120))
    offline_after_s: Mapped[int]
    metrics: Mapped[dict[str, Any]]


class Device(Audited, Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    device_type: Mapped[str] = mapped_column(ForeignKey("device_types.code"))
    name: Mapped[str] = mapped_column(String(120))
    serial: Mapped[str | None] = mapped_column(String(120))
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    online: Mapped[bool] = mapped_column(default=False)
    rejected_count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_devices_owner", "owner_kind", "owner_id"),)


class IngestedMessage(Base):
    """One row per (device, message id): the idempotency record for at-most-once storage.

    No foreign key, as `Reading`: a claim is written for every stored message, and the consumer
    resolved the device before claiming (migration iot_0006)."""

    __tablename__ = "ingested_messages"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime]


# The message's values: JSONB on PostgreSQL (binary, no re-parse on read), JSON text on SQLite.
ValuesJSON = JSON().with_variant(JSONB(), "postgresql")


class Reading(Base):
    """The time series: one row per accepted message, its values by metric key in `data`.

    One row per message, not per value: a message of 25 values costs one sequence value, one
    heap tuple and two B-tree entries instead of 25 of each (docs/performance.md). `device_id`
    carries no foreign key: the consumer resolved the device before storing, and a per-row
    check on the hottest table is the cost this shape removes.
    """

    __tablename__ = "readings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(36))
    ts: Mapped[datetime]
    message_id: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(ValuesJSON)

    __table_args__ = (Index("ix_readings_device_ts", "device_id", "ts", "id"),)


class LatestValue(Base):
    __tablename__ = "latest_values"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    ts: Mapped[datetime]
    num: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)


class TelemetryRejection(Base):
    """Every rejected reading, with its reason: counted and visible, never silently dropped."""

    __tablename__ = "telemetry_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    message_id: Mapped[str | None] = mapped_column(String(128))
    item_index: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(500))


class DeviceRule(Audited, Base):
    """A stored alarm rule (see `iot.rules`) for a device type, or for one device.

    Rows of an organisation override the built-in defaults by `name`; a row with `device_id`
    overrides both for that device. Validity is decided when the row is written and again
    whenever it is loaded, so a rule broken by a profile change is skipped, never fatal.
    """

    __tablename__ = "device_rules"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    device_type: Mapped[str] = mapped_column(ForeignKey("device_types.code"))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    spec: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(default=True)
    valid: Mapped[bool] = mapped_column(default=False)
    invalid_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_device_rules_org_type", "organisation_id", "device_type"),)


class RuleState(Base):
    """The engine's memory per (device, rule): timers and edges that must survive a restart.

    `due_at` is the next moment the periodic sweep must look at the row (a for-duration
    deadline, an absence deadline or the end of a corroboration window).
    """

    __tablename__ = "rule_state"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    rule_name: Mapped[str] = mapped_column(String(80), primary_key=True)
    state: Mapped[dict[str, Any]]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime]


class DeadLetter(Base):
    """A transport message that could not be processed, kept so that it can be replayed.

    The consumer acknowledges it (so the broker stops redelivering it) only after this row has
    committed. `claimed_device` is the device id its topic or subject named (untrusted, needed
    to replay it); `device_id` and `organisation_id` are set when that device exists, and scope
    the admin's list. The body is kept up to a bound (`size` and `sha256` describe the whole
    of it); the same body from the same claimed device and transport, while not yet replayed,
    is one row whose `occurrences` counts the redeliveries.
    """

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transport: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    claimed_device: Mapped[str | None] = mapped_column(String(200))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    occurrences: Mapped[int] = mapped_column(default=1)
    replayed_at: Mapped[datetime | None]
    replay_note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_dead_letters_org_id", "organisation_id", "id"),
        Index("ix_dead_letters_sha256", "sha256"),
    )
