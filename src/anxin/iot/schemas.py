from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

OwnerKind = Literal["household", "warehouse", "farm"]


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
