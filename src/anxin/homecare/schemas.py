from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from anxin.core.bounds import SaneDate
from anxin.homecare.models import HouseholdMode

PHONE = r"^\+?[0-9 -]{5,31}$"


class HouseholdCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=400)
    mode: HouseholdMode = HouseholdMode.HOME


class HouseholdRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_id: str
    name: str
    address: str
    mode: HouseholdMode
    created_at: datetime


class HouseholdModeUpdate(BaseModel):
    mode: HouseholdMode


class Medication(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    dose: str = Field(min_length=1, max_length=120)
    schedule: str = Field(min_length=1, max_length=120)


class EmergencyContact(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(pattern=PHONE)
    relation: str = Field(min_length=1, max_length=40)


class ElderCreate(BaseModel):
    household_id: str
    full_name: str = Field(min_length=1, max_length=120)
    birth_date: SaneDate
    sex: Literal["F", "M"]
    phone: str | None = Field(default=None, pattern=PHONE)
    butler_user_id: str | None = None
    conditions: list[str] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    emergency_contacts: list[EmergencyContact] = Field(default_factory=list)


class ElderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    household_id: str
    full_name: str
    birth_date: date
    sex: str
    phone: str | None
    butler_user_id: str | None
    conditions: list[str]
    medications: list[Medication]
    emergency_contacts: list[EmergencyContact]
    created_at: datetime


class FamilyLink(BaseModel):
    user_id: str
    relation: str = Field(min_length=1, max_length=40)
    consent: Literal[True] = Field(
        description="the family member agreed to receive alarms and data"
    )


class FamilyMemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    elder_id: str
    user_id: str
    relation: str
    consent_at: datetime


class SpanRead(BaseModel):
    start: datetime
    end: datetime


class AnomalyRead(BaseModel):
    kind: str
    start: datetime
    end: datetime
    duration_s: int
    value: float | None
    label_en: str
    label_zh: str


class VitalRead(BaseModel):
    mean: float | None
    min: float | None
    max: float | None
    samples: int


class SleepPointRead(BaseModel):
    start: datetime
    in_bed: float | None
    heart_rate: float | None
    respiration_rate: float | None
    movement: float | None


class SleepReportRead(BaseModel):
    """One night (20:00–10:00 Asia/Shanghai) from the sleep mat; times in UTC."""

    elder_id: str
    device_id: str | None
    night: date
    window_start: datetime
    window_end: datetime
    samples: int
    coverage_s: int
    time_in_bed_s: int
    sleep_onset: datetime | None
    wake: datetime | None
    sleep_period_s: int
    out_of_bed_count: int
    out_of_bed_longest_s: int
    out_of_bed: list[SpanRead]
    heart_rate: VitalRead
    respiration_rate: VitalRead
    anomalies: list[AnomalyRead]
    series: list[SleepPointRead]


class CareTeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    lead_user_id: str
    member_user_ids: list[str] = Field(default_factory=list)


class CareTeamRead(BaseModel):
    id: str
    name: str
    lead_user_id: str
    member_user_ids: list[str]
    created_at: datetime


class CareTeamMemberAdd(BaseModel):
    user_id: str
