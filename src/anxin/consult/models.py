"""Consultations, their attachments and messages, and the clinical record they produce."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id


def _enum(kind: type[StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Mode(StrEnum):
    TEXT = "text"
    VOICE = "voice"
    VIDEO = "video"


class ConsultationStatus(StrEnum):
    WAITING = "waiting"  # in the doctors' queue
    ACTIVE = "active"  # a doctor took it: only that doctor sees it from now on
    CLOSED = "closed"


class Consultation(Audited, Base):
    __tablename__ = "consultations"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    elder_id: Mapped[str] = mapped_column(ForeignKey("elders.id"), index=True)
    requested_by_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    mode: Mapped[Mode] = mapped_column(_enum(Mode))
    complaint: Mapped[str] = mapped_column(Text)
    status: Mapped[ConsultationStatus] = mapped_column(_enum(ConsultationStatus), index=True)
    doctor_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The encounter: the doctor's note, interpretation of reports, medication guidance.
    note: Mapped[str | None] = mapped_column(Text)
    interpretation: Mapped[str | None] = mapped_column(Text)
    guidance: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    taken_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class Attachment(Base):
    """A photo or lab report. Not `Audited`: the audit row would copy the bytes; the upload is
    recorded by the consultation's message that announces it."""

    __tablename__ = "consultation_attachments"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Message(Audited, Base):
    __tablename__ = "consultation_messages"
    # seq orders a thread (timestamps tie under a frozen or coarse clock) and lets a client
    # fetch what came after the last message it has; the constraint refuses a racing duplicate.
    __table_args__ = (UniqueConstraint("consultation_id", "seq"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    author_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Allergy(Audited, Base):
    """A recorded allergy of an elder; prescriptions are checked against it."""

    __tablename__ = "elder_allergies"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    elder_id: Mapped[str] = mapped_column(ForeignKey("elders.id"), index=True)
    substance: Mapped[str] = mapped_column(String(120))
    reaction: Mapped[str | None] = mapped_column(String(200))
    recorded_by_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class PrescriptionStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class Prescription(Audited, Base):
    __tablename__ = "prescriptions"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    elder_id: Mapped[str] = mapped_column(ForeignKey("elders.id"), index=True)
    doctor_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    drug: Mapped[str] = mapped_column(String(120))
    strength: Mapped[str] = mapped_column(String(40))
    dose: Mapped[str] = mapped_column(String(40))
    route: Mapped[str] = mapped_column(String(16))
    frequency: Mapped[str] = mapped_column(String(16))
    duration_days: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    # Reminder times in Shanghai time ("08:00"), from the frequency unless the doctor set them.
    times: Mapped[list[str]] = mapped_column(default=list)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[PrescriptionStatus] = mapped_column(_enum(PrescriptionStatus), index=True)
    # Why the doctor prescribed despite an allergy or duplicate warning (None: no warning).
    override_reason: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]


class FollowUp(Audited, Base):
    __tablename__ = "consultation_follow_ups"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    due_on: Mapped[date]
    plan: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class DoseStatus(StrEnum):
    DUE = "due"  # scheduled; a reminder once its time comes
    TAKEN = "taken"
    MISSED = "missed"  # not confirmed within the grace period: the family is told
    CANCELLED = "cancelled"  # the prescription was stopped


class Dose(Audited, Base):
    """One scheduled dose of a prescription, at one of its reminder times."""

    __tablename__ = "medication_doses"
    __table_args__ = (UniqueConstraint("prescription_id", "due_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    prescription_id: Mapped[str] = mapped_column(ForeignKey("prescriptions.id"), index=True)
    elder_id: Mapped[str] = mapped_column(ForeignKey("elders.id"), index=True)
    # Copied at scheduling so the sweep can raise a missed-dose alarm at the elder's home
    # without reading another domain's tables.
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"))
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[DoseStatus] = mapped_column(_enum(DoseStatus), index=True)
    confirmed_at: Mapped[datetime | None]
    confirmed_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # When the elder was reminded at the dose's time (app and home speaker); None: not yet.
    reminded_at: Mapped[datetime | None]


class CallStatus(StrEnum):
    RINGING = "ringing"  # the doctor is calling; the elder's side has not answered
    ACTIVE = "active"  # answered: the two browsers negotiate and talk peer to peer
    ENDED = "ended"  # hung up after it was answered
    MISSED = "missed"  # hung up before anyone answered


class Call(Audited, Base):
    """A voice or video call of a consultation. The media flows browser to browser (WebRTC);
    anxin only relays the signalling and records who called, who answered, when, how long.
    No SDP is stored: it is relayed live and means nothing once the call is over."""

    __tablename__ = "consultation_calls"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    mode: Mapped[Mode] = mapped_column(_enum(Mode))
    status: Mapped[CallStatus] = mapped_column(_enum(CallStatus), index=True)
    caller_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    answered_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    ended_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]  # when it started ringing
    started_at: Mapped[datetime | None]  # answered
    ended_at: Mapped[datetime | None]
    # Seconds from answer to hang-up (0 for a missed call), fixed when the call ends.
    duration_s: Mapped[int | None] = mapped_column(Integer)


class MedicineOrder(Audited, Base):
    """Prescribed medicines ordered for delivery: a home-services booking (scenario
    medicine_delivery) made through the services domain; its status lives there."""

    __tablename__ = "medicine_orders"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    prescription_id: Mapped[str] = mapped_column(ForeignKey("prescriptions.id"), index=True)
    consultation_id: Mapped[str] = mapped_column(ForeignKey("consultations.id"), index=True)
    # The services domain's booking (no foreign key across domains: its table is its own).
    booking_id: Mapped[str] = mapped_column(ID, unique=True)
    ordered_by_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
