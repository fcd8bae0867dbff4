"""The `Recipient` of the contract, and the API's read/write models."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from anxin.alerts.models import AlarmState, Channel, NotificationStatus, Severity


@dataclass(frozen=True)
class Recipient:
    """Someone an escalation may notify; steps pick recipients by `role`.

    role: 'elder' | 'family' | 'butler' | 'emergency_contact' | 'team_lead' | 'bank_officer' | ...
    user_id: a platform user (gets console/push); None for phone-only contacts.
    """

    role: str
    name: str
    user_id: str | None
    phone: str | None
    webhook_url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipient:
        return cls(
            role=str(data["role"]),
            name=str(data["name"]),
            user_id=data.get("user_id"),
            phone=data.get("phone"),
            webhook_url=data.get("webhook_url"),
        )


class AlarmRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_id: str
    owner_kind: str
    owner_id: str
    source_kind: str
    source_id: str
    alarm_type: str
    severity: Severity
    state: AlarmState
    cleared: bool
    title: str
    details: dict[str, Any]
    policy: str
    count: int
    first_raised_at: datetime
    last_raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    cleared_at: datetime | None


class AlarmEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    note: str | None
    data: dict[str, Any]


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    alarm_id: str | None
    step_seq: int | None
    purpose: str
    channel: Channel
    provider: str | None
    recipient_role: str
    recipient_name: str
    recipient_user_id: str | None
    address: str
    subject: str
    body: str
    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime | None
    provider_message_id: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt_no: int
    attempt_key: str
    provider: str
    status: str
    error: str | None
    provider_message_id: str | None
    started_at: datetime
    finished_at: datetime | None


class EscalationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    policy_code: str
    status: str
    step_index: int
    repeats_done: int
    fired: int
    next_at: datetime | None
    stop_reason: str | None
    started_at: datetime


class AlarmDetail(AlarmRead):
    history: list[AlarmEventRead]
    escalation: EscalationRead | None
    notifications: list[NotificationRead]


class AlarmAction(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    definition: dict[str, Any]
    valid: bool
    error: str | None
    origin: str
    updated_at: datetime


class LocalMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    idempotency_key: str
    channel: str
    address: str
    subject: str
    body: str
    accepted_at: datetime
    receipt_at: datetime
    outcome: str


class ReceiptIn(BaseModel):
    """A delivery receipt a gateway pushes: its message id and the outcome."""

    id: str = Field(min_length=1, max_length=120)
    status: Literal["delivered", "failed"]
    error: str | None = Field(default=None, max_length=500)


class ReceiptAccepted(BaseModel):
    id: str
    status: NotificationStatus
