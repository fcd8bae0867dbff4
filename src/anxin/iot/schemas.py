from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

OwnerKind = Literal["household", "warehouse", "farm", "lease_asset"]


class DeviceCreate(BaseModel):
    device_type: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    owner_kind: OwnerKind
    owner_id: str = Field(min_length=1, max_length=64)
    serial: str | None = Field(default=None, max_length=120)
    attributes: dict[str, Any] = Field(default_factory=dict)


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_id: str
    device_type: str
    name: str
    serial: str | None
    owner_kind: str
    owner_id: str
    attributes: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime | None
    online: bool
    rejected_count: int


class DeviceRegistered(DeviceRead):
    """Returned once, at registration or rotation: the only time the token is shown."""

    token: str


class DeviceTypeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_en: str
    name_zh: str
    offline_after_s: int
    metrics: dict[str, Any]


class RejectionRead(BaseModel):
    index: int | None
    message_id: str | None
    reason: str


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    rejections: list[RejectionRead]


class DeadLettered(IngestResult):
    """A handler failed on the payload: nothing stored, the payload kept for replay (202)."""

    dead_letter: int


class ReadingRead(BaseModel):
    ts: datetime
    key: str
    value: float | str | bool | None
    message_id: str


class ReadingPage(BaseModel):
    items: list[ReadingRead]
    next_cursor: str | None


class LatestRead(BaseModel):
    key: str
    ts: datetime
    value: float | str | bool | None


class DeadLetterRead(BaseModel):
    """A dead letter for an admin: what, why, where from; the body as a preview only (any
    device token in it masked), with its size and SHA-256 to match it against device logs."""

    id: int
    transport: str
    reason_code: str
    reason: str
    claimed_device: str | None
    device_id: str | None
    content_type: str | None
    size: int
    sha256: str
    truncated: bool
    body_preview: str
    first_at: datetime
    last_at: datetime
    occurrences: int
    replayed_at: datetime | None
    replay_note: str | None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterRead]
    next_before: int | None


class ReplayResult(BaseModel):
    id: int
    replayed: bool
    accepted: int
    duplicates: int
    rejected: int
    note: str
