"""Read schemas of the services API."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from anxin.core.money import Money
from anxin.services.catalogue import ScenarioCode, Skill
from anxin.services.models import BookingSource, BookingStatus


class CheckItemRead(BaseModel):
    code: str
    zh: str
    en: str


class ScenarioRead(BaseModel):
    code: ScenarioCode
    zh: str
    en: str
    duration_minutes: int
    price: Money
    skills: list[Skill]
    checklist: list[CheckItemRead]


class ShiftIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="Monday = 0, Shanghai time")
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> ShiftIn:
        if self.end <= self.start:
            raise ValueError("a shift ends after it starts")
        return self


class ShiftRead(BaseModel):
    """A shift as stored: "HH:MM" local times. Not `time`: OpenAPI's "time" format is RFC 3339's,
    which wants a UTC offset a weekly shift in Shanghai time does not have."""

    weekday: int
    start: str = Field(pattern=r"^[0-2][0-9]:[0-5][0-9]$", description="HH:MM, Shanghai time")
    end: str = Field(pattern=r"^[0-2][0-9]:[0-5][0-9]$", description="HH:MM, Shanghai time")


class ProviderCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class ProviderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime


class WorkerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    user_id: str | None = None
    skills: list[Skill] = Field(min_length=1)
    areas: list[str] = Field(min_length=1)
    week: list[ShiftIn] = Field(min_length=1)


class WorkerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    provider_id: str
    user_id: str | None
    name: str
    skills: list[Skill]
    areas: list[str]
    week: list[ShiftRead]


class BookingCreate(BaseModel):
    elder_id: str
    scenario: ScenarioCode
    start: AwareDatetime | None = Field(
        default=None, description="Required except for emergency help, which is now"
    )
    notes: str = Field(default="", max_length=1000)


class BookingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    elder_id: str
    household_id: str
    scenario: ScenarioCode
    area: str
    start: datetime
    minutes: int
    price: Money
    status: BookingStatus
    source: BookingSource
    notes: str
    worker_id: str | None
    assigned_by: str | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    checklist_done: list[str]
    rating: int | None
    comment: str | None
    alarm_open: bool = False  # on the butler's board: the home has an open alarm


class AssignRequest(BaseModel):
    worker_id: str


class ChecklistUpdate(BaseModel):
    done: list[str]


class RatingCreate(BaseModel):
    stars: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)


class SpeakerRequest(BaseModel):
    text: str = Field(min_length=1, max_length=500, description="What the speaker recognised")


class SpeakerReply(BaseModel):
    understood: bool
    reason: str | None = None  # why not, when not understood
    say_zh: str
    say_en: str
    booking: BookingRead | None = None  # the draft to confirm


class ComplaintCreate(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class ComplaintClose(BaseModel):
    resolution: str = Field(min_length=1, max_length=2000)


class ComplaintRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    booking_id: str
    provider_id: str
    text: str
    opened_at: datetime
    closed_at: datetime | None
    resolution: str | None


class TallyRead(BaseModel):
    on_time: int
    late: int
    missed: int
    pending: int
    rate: Decimal | None = Field(description="On time among decided, 0–1; null when none")


class ProviderScoreRead(BaseModel):
    provider_id: str
    name: str
    visits: TallyRead
    complaints: TallyRead
    mean_rating: Decimal | None
    score: Decimal | None


class TargetsRead(BaseModel):
    alarm_ack_minutes: int
    arrival_grace_minutes: int
    complaint_close_days: int


class SupervisionRead(BaseModel):
    month: date
    as_of: datetime
    targets: TargetsRead
    alarms: TallyRead
    visits: TallyRead
    complaints: TallyRead
    providers: list[ProviderScoreRead]
