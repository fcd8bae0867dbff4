from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class RuleCreate(BaseModel):
    """A rule for a device type, or for one device (`device_id`); `spec` is stored even when it
    fails validation, marked invalid with the reason, and skipped by the engine."""

    device_type: str = Field(min_length=1, max_length=40)
    device_id: str | None = None
    name: str = Field(min_length=1, max_length=80)
    spec: dict[str, Any]
    enabled: bool = True


class RuleUpdate(BaseModel):
    spec: dict[str, Any] | None = None
    enabled: bool | None = None


class RuleRead(BaseModel):
    id: str | None = Field(description="null for a built-in default")
    name: str
    device_type: str
    device_id: str | None
    source: Literal["default", "organisation", "device"]
    enabled: bool
    valid: bool
    invalid_reason: str | None
    effective: bool = Field(description="this rule is the one the engine runs for its name")
    spec: dict[str, Any]
    updated_at: datetime | None = None


class SweepResult(BaseModel):
    fired: int
