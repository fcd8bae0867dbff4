"""Alarms, their history, escalation state and the notification outbox (SQLAlchemy 2)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        return _RANK[self]


# A severity in words (zh, en): the console's labels and the messages people read share them.
SEVERITY_NAMES: dict[Severity, tuple[str, str]] = {
    Severity.CRITICAL: ("紧急", "Critical"),
    Severity.MAJOR: ("重要", "Major"),
    Severity.MINOR: ("次要", "Minor"),
    Severity.WARNING: ("提示", "Warning"),
}


_RANK = {Severity.CRITICAL: 4, Severity.MAJOR: 3, Severity.MINOR: 2, Severity.WARNING: 1}


class AlarmState(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class EscalationStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"
    EXHAUSTED = "exhausted"


class NotificationStatus(StrEnum):
    PENDING = "pending"  # in the outbox, due at next_attempt_at
    SENDING = "sending"  # claimed by a dispatcher; the lease ends at next_attempt_at
    SENT = "sent"  # accepted by the provider, waiting for a delivery receipt
    DELIVERED = "delivered"
    FAILED = "failed"  # refused, or out of attempts
    UNDELIVERED = "undelivered"  # accepted, but the receipt said failed or never came


class Channel(StrEnum):
    SMS = "sms"
    VOICE = "voice"
    PUSH = "push"
    WEBHOOK = "webhook"
    CONSOLE = "console"


def _enum(kind: type[StrEnum], length: int = 16) -> Enum:
    return Enum(kind, native_enum=False, length=length, values_callable=_values)


def _values(kind: type[StrEnum]) -> list[str]:
    return [member.value for member in kind]


class Alarm(Audited, Base):
    """One alarm; `active_key` is set while it is active, so the database keeps it unique."""

    __tablename__ = "alarms"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    owner_kind: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    source_kind: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(64), index=True)
    alarm_type: Mapped[str] = mapped_column(String(60))
    # "<source_kind>|<source_id>|<alarm_type>" while active (not resolved, not cleared), else NULL.
    active_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    severity: Mapped[Severity] = mapped_column(_enum(Severity))
    state: Mapped[AlarmState] = mapped_column(_enum(AlarmState), index=True)
    cleared: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy: Mapped[str] = mapped_column(String(60))
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_raised_at: Mapped[datetime] = mapped_column(index=True)
    last_raised_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    cleared_at: Mapped[datetime | None]


class AlarmEvent(Base):
    """The history of an alarm: who did what, when, with a note."""

    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[str] = mapped_column(ForeignKey("alarms.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EscalationPolicy(Audited, Base):
    """A policy stored as data; an invalid one is kept with its reason and never used."""

    __tablename__ = "escalation_policies"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    valid: Mapped[bool] = mapped_column(default=True)
    error: Mapped[str | None] = mapped_column(Text)
    # builtin rows follow the code catalogue; an edited row is "custom" and sync leaves it alone.
    origin: Mapped[str] = mapped_column(String(16), default="builtin")
    updated_at: Mapped[datetime]


class Escalation(Base):
    """Where an alarm's escalation stands; persisted so it survives a restart."""

    __tablename__ = "escalations"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alarm_id: Mapped[str] = mapped_column(ForeignKey("alarms.id"), unique=True)
    policy_code: Mapped[str] = mapped_column(String(60))
    # The policy as it was when the escalation started: later edits do not change a running one.
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[EscalationStatus] = mapped_column(_enum(EscalationStatus), index=True)
    step_index: Mapped[int] = mapped_column(Integer, default=-1)
    repeats_done: Mapped[int] = mapped_column(Integer, default=0)
    # How many steps have fired; notifications carry the value of their step.
    fired: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(index=True)
    stop_reason: Mapped[str | None] = mapped_column(String(60))
    overdue_flagged: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Notification(Base):
    """One message to one recipient on one channel: the transactional outbox row."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    alarm_id: Mapped[str | None] = mapped_column(ForeignKey("alarms.id"), index=True)
    escalation_id: Mapped[str | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    step_seq: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(20), default="alert")
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    provider: Mapped[str | None] = mapped_column(String(40))
    recipient_role: Mapped[str] = mapped_column(String(40))
    recipient_name: Mapped[str] = mapped_column(String(120))
    recipient_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    address: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # Sent to the provider with every attempt, so a provider never delivers a message twice.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[NotificationStatus] = mapped_column(_enum(NotificationStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(120))
    receipt_due_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]


class NotificationAttempt(Base):
    """One try at handing a notification to its provider."""

    __tablename__ = "notification_attempts"
    __table_args__ = (UniqueConstraint("notification_id", "attempt_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), index=True)
    attempt_no: Mapped[int] = mapped_column(Integer)
    attempt_key: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(40))
    # started (claimed, not yet known) | accepted | error | abandoned (the sender died mid-send)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class LocalMessage(Base):
    """What the offline `local` provider 'sent': the console's Outbox shows these."""

    __tablename__ = "local_messages"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    accepted_at: Mapped[datetime]
    # Simulated delivery receipt: when it arrives and what it says.
    receipt_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))
