"""Request and read schemas of the consultation API."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from anxin.consult.models import (
    CallStatus,
    ConsultationStatus,
    DoseStatus,
    Mode,
    PrescriptionStatus,
)
from anxin.core.bounds import SaneDate


class Route(StrEnum):
    ORAL = "oral"
    SUBLINGUAL = "sublingual"
    TOPICAL = "topical"
    INHALED = "inhaled"
    SUBCUTANEOUS = "subcutaneous"
    INTRAMUSCULAR = "intramuscular"
    INTRAVENOUS = "intravenous"
    RECTAL = "rectal"
    EYE = "eye"
    NASAL = "nasal"


class Frequency(StrEnum):
    QD = "qd"  # once a day
    BID = "bid"
    TID = "tid"
    QID = "qid"
    QN = "qn"  # every night
    PRN = "prn"  # as needed


class ConsultationCreate(BaseModel):
    elder_id: str = Field(max_length=64)
    mode: Mode
    complaint: str = Field(min_length=1, max_length=2000)


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class ConsultationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    elder_id: str
    mode: Mode
    complaint: str
    status: ConsultationStatus
    doctor_user_id: str | None
    note: str | None
    interpretation: str | None
    guidance: str | None
    created_at: datetime
    taken_at: datetime | None
    closed_at: datetime | None
    attachments: list[AttachmentRead] = Field(default_factory=list)


class QueueLine(BaseModel):
    consultation: ConsultationRead
    elder_name: str
    priority: int = Field(description="higher first: 2 for an active alarm, 1 for abnormal vitals")
    reasons: list[str] = Field(description="active_alarm, abnormal_vitals")


class MessageCreate(BaseModel):
    body: str = Field(min_length=1, max_length=4000)


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seq: int
    author_user_id: str
    author_name: str
    body: str
    created_at: datetime


class EncounterUpdate(BaseModel):
    note: str | None = Field(default=None, max_length=8000)
    interpretation: str | None = Field(default=None, max_length=8000)
    guidance: str | None = Field(default=None, max_length=8000)


class AllergyCreate(BaseModel):
    substance: str = Field(min_length=1, max_length=120)
    reaction: str | None = Field(default=None, max_length=200)


class AllergyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    elder_id: str
    substance: str
    reaction: str | None
    created_at: datetime


class PrescriptionCreate(BaseModel):
    drug: str = Field(min_length=1, max_length=120)
    strength: str = Field(min_length=1, max_length=40, examples=["5 mg"])
    dose: str = Field(min_length=1, max_length=40, examples=["1 tablet"])
    route: Route
    frequency: Frequency
    duration_days: int = Field(ge=1, le=365)
    quantity: int = Field(ge=1, le=10000)
    times: list[time] | None = Field(
        default=None, max_length=6, description="reminder times (Shanghai); default by frequency"
    )
    override_reason: str | None = Field(
        default=None,
        min_length=3,
        max_length=500,
        description="prescribe despite an allergy or duplicate warning, and say why",
    )


class PrescriptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    consultation_id: str
    elder_id: str
    drug: str
    strength: str
    dose: str
    route: str
    frequency: str
    duration_days: int
    quantity: int
    times: list[str]
    starts_on: date
    ends_on: date
    status: PrescriptionStatus
    override_reason: str | None
    warnings: list[Any]
    created_at: datetime


class FollowUpCreate(BaseModel):
    due_on: SaneDate
    plan: str = Field(min_length=1, max_length=2000)


class FollowUpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    consultation_id: str
    due_on: date
    plan: str
    created_at: datetime


class VitalRead(BaseModel):
    key: str
    value: Any
    ts: datetime
    abnormal: bool


class AlarmLine(BaseModel):
    id: str
    alarm_type: str
    state: str
    first_raised_at: datetime


class SleepLine(BaseModel):
    night: date
    time_in_bed_s: int
    heart_rate_mean: float | None
    respiration_rate_mean: float | None
    anomalies: list[str]


class DoseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    prescription_id: str
    due_at: datetime
    status: DoseStatus
    confirmed_at: datetime | None
    reminded_at: datetime | None


class AdherenceRead(BaseModel):
    taken: int
    missed: int
    due: int
    rate: float | None = Field(description="taken / (taken + missed); null before any")


class ElderCard(BaseModel):
    """What the doctor sees beside a request."""

    elder_id: str
    full_name: str
    birth_date: date
    sex: str
    conditions: list[str]
    medications: list[Any] = Field(description="as recorded by the care team")
    prescriptions: list[PrescriptionRead] = Field(description="active prescriptions")
    allergies: list[AllergyRead]
    vitals: list[VitalRead]
    sleep: SleepLine | None
    alarms: list[AlarmLine]
    adherence: AdherenceRead


class CallMode(StrEnum):
    VOICE = "voice"
    VIDEO = "video"


class CallCreate(BaseModel):
    mode: CallMode


class CallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    consultation_id: str
    mode: Mode
    status: CallStatus
    caller_user_id: str
    answered_by_user_id: str | None
    ended_by_user_id: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: int | None


class SignalKind(StrEnum):
    OFFER = "offer"
    ANSWER = "answer"
    CANDIDATE = "candidate"


class Signal(BaseModel):
    """One WebRTC negotiation message, relayed as is to the other side. Bounded, so the relay
    cannot be used to push megabytes through every viewer's event stream."""

    model_config = ConfigDict(extra="forbid")

    kind: SignalKind
    sdp: str | None = Field(default=None, min_length=1, max_length=20_000)
    candidate: str | None = Field(default=None, max_length=1_000)
    sdp_mid: str | None = Field(default=None, max_length=64)
    sdp_mline_index: int | None = Field(default=None, ge=0, le=64)


class MedicineOrderCreate(BaseModel):
    start: AwareDatetime = Field(description="When the medicines should arrive")


class MedicineOrderRead(BaseModel):
    id: str
    prescription_id: str
    booking_id: str
    status: str | None = Field(description="The booking's: requested, assigned, in_progress, "
                               "done or cancelled")  # fmt: skip
    start: datetime | None
    worker_name: str | None
    created_at: datetime


class SpeakerDoses(BaseModel):
    confirmed: list[DoseRead]
    say: str = Field(description="What the speaker says back to the elder")
