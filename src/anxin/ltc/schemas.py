"""API shapes of the ltc domain. Money travels as strings with two places, as stored."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from anxin.core.bounds import SaneDateTime
from anxin.core.money import Money
from anxin.ltc.applications import ApplicationKind, ApplicationState
from anxin.ltc.settlement import ClaimState, Direction, LineKind, Source, split_codes

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class ContributionCreate(BaseModel):
    month: str = Field(pattern=MONTH, examples=["2026-11"])
    source: Source
    amount: Money = Field(gt=Decimal(0))
    reference: str = Field(min_length=1, max_length=64)


class FundEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    month: str
    direction: Direction
    category: str
    amount: Decimal
    reference: str
    created_at: datetime


class FundMonth(BaseModel):
    month: str
    paid_in: Decimal
    paid_out: Decimal
    balance: Decimal  # after the month


class RegisterCount(BaseModel):
    insured: int


Ratio = Field(ge=Decimal(0), le=Decimal(1), max_digits=5, decimal_places=4)


class RuleCreate(BaseModel):
    """A city's entitlement for one grade from its effective date (valid_to exclusive)."""

    city: str = Field(min_length=1, max_length=40)
    grade: int = Field(ge=0, le=5)
    valid_from: date
    valid_to: date | None = None
    monthly_cash: Money = Field(ge=Decimal(0))
    visits_per_week: int = Field(ge=0, le=14)
    services: list[str] = Field(max_length=50)
    visit_copay_ratio: Decimal = Ratio
    rental_fund_ratio: Decimal = Ratio

    @model_validator(mode="after")
    def _dates(self) -> RuleCreate:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    city: str
    grade: int
    valid_from: date
    valid_to: date | None
    monthly_cash: Decimal
    visits_per_week: int
    services: list[str]
    visit_copay_ratio: Decimal
    rental_fund_ratio: Decimal


class SettlementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    month: str
    lines: int
    rejected: int
    fund_out: Decimal
    copay: Decimal
    summary: dict[str, Any]
    ledger_seq: int | None
    closed_at: datetime


class SettlementRun(BaseModel):
    settlement: SettlementRead
    reconciled: bool


class ClaimLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: LineKind
    ref: int
    beneficiary_id: int
    payee: str
    amount: Decimal
    fund: Decimal
    copay: Decimal
    state: ClaimState
    reason: str  # in words, with the detail
    reason_codes: list[str] = Field(examples=[["too_short", "not_confirmed"]])

    @field_validator("reason_codes", mode="before")
    @classmethod
    def _stored_codes(cls, value: object) -> object:
        return split_codes(value) if isinstance(value, str) else value


class ApplicationCreate(BaseModel):
    """An application for the insured person with this ID number; `self_assessment` holds the
    ten Barthel items as the applicant or family scored them (the gate)."""

    id_number: str = Field(min_length=18, max_length=18, examples=["32060219550312002X"])
    city: str = Field(min_length=1, max_length=40)
    self_assessment: dict[str, int] = Field(max_length=10)
    kind: ApplicationKind = ApplicationKind.INITIAL


class AppealCreate(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class AssessmentCreate(BaseModel):
    """One assessor's scores: the ten Barthel items, four cognition and three perception and
    communication items (0-4 each)."""

    visited_on: date
    adl: dict[str, int] = Field(max_length=10)
    cognition: dict[str, int] = Field(max_length=4)
    perception: dict[str, int] = Field(max_length=3)


class AssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    assessor: str
    visited_on: date
    barthel: int
    cognition_score: int
    perception_score: int
    grade: int
    table: str


class ServiceRead(BaseModel):
    code: str
    name_zh: str
    name_en: str
    price: Decimal


class EntitlementRead(BaseModel):
    """What a grade brings in a city on a day, by the rule in force then."""

    grade: int
    city: str
    on: date
    valid_from: date
    valid_to: date | None
    monthly_cash: Decimal
    visits_per_week: int
    services: list[ServiceRead]
    visit_copay_ratio: Decimal
    rental_fund_ratio: Decimal


class ApplicationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ApplicationKind
    parent_id: int | None
    city: str
    self_barthel: int
    reason: str
    state: ApplicationState
    grade: int | None
    consensus: str | None
    decided_on: date | None
    created_at: datetime
    assessments: list[AssessmentRead] = []
    entitlement: EntitlementRead | None = None


class InstitutionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    provider_org_id: str | None = Field(default=None, max_length=36)


class InstitutionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    provider_org_id: str | None


QUALIFICATIONS = ("nurse", "care_worker", "rehab_therapist")  # 护士, 医疗护理员, 康复治疗师


class CaregiverCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32, description="certificate or staff number")
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    qualification: str = Field(pattern="^(" + "|".join(QUALIFICATIONS) + ")$")
    areas: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )
    user_id: str | None = Field(default=None, max_length=36, description="their app's login")


class CaregiverRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    institution_id: int
    code: str
    name: str
    phone: str | None
    qualification: str
    areas: list[str]
    user_id: str | None
    active: bool


class CheckIn(BaseModel):
    """The caregiver's app at the door: the time is the server's, the place the phone's. The
    caregiver is named by id or by code; a caregiver's own login may leave both out."""

    institution_id: int = Field(ge=1, le=2**63 - 1)
    beneficiary_id: int = Field(ge=1, le=2**63 - 1)
    caregiver_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    caregiver: str | None = Field(default=None, min_length=1, max_length=32)
    plan_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="the planned visit")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class PlanCreate(BaseModel):
    """A visit on the institution's rota: who goes to whom, when, to do what."""

    institution_id: int = Field(ge=1, le=2**63 - 1)
    beneficiary_id: int = Field(ge=1, le=2**63 - 1)
    caregiver_id: int = Field(ge=1, le=2**63 - 1)
    planned_at: SaneDateTime
    services: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        min_length=1, max_length=20
    )


class PlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    institution_id: int
    beneficiary_id: int
    caregiver_id: int
    planned_at: datetime
    services: list[str]
    visit_id: int | None
    alarmed_at: datetime | None


class CheckOut(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    services: list[str] = Field(max_length=20)


class FindingRead(BaseModel):
    check: str
    severity: str
    reason: str


class VisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    beneficiary_id: int
    institution_id: int
    caregiver: str
    caregiver_id: int | None
    check_in: datetime
    check_out: datetime | None
    services: list[str]
    confirmed: bool
    presence: bool | None
    findings: list[FindingRead] = []


class InstitutionQuality(BaseModel):
    institution_id: int
    name: str
    visits: int  # checked in during the month
    settled_lines: int  # visit lines of the settled month (0 until it is settled)
    rejected: int
    rejection_rate: float | None  # rejected / settled lines; None before settlement


class Dashboard(BaseModel):
    """The city supervisor's month: who is insured and cared for, visits, rejections, the fund."""

    month: str
    insured: int
    beneficiaries_by_grade: dict[str, int]
    visits: int
    settled: bool
    claim_lines: int
    rejected_lines: int
    rejection_rate: float | None
    paid_in: Decimal
    paid_out: Decimal  # the month's burn
    balance: Decimal  # after the month
    months_of_reserve: float | None  # balance / burn
    institutions: list[InstitutionQuality]


class Item(StrEnum):
    NURSING_BED = "nursing_bed"
    WHEELCHAIR = "wheelchair"


class DepotCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    nursing_beds: int = Field(ge=0, le=100_000)
    wheelchairs: int = Field(ge=0, le=100_000)


class DepotRead(BaseModel):
    id: int
    name: str
    nursing_beds: int
    wheelchairs: int
    beds_out: int  # delivered and not yet returned
    wheelchairs_out: int


class RentalCreate(BaseModel):
    """Deliver a piece of equipment to a beneficiary from a depot, rented from `start`."""

    depot_id: int = Field(ge=1, le=2**63 - 1)
    beneficiary_id: int = Field(ge=1, le=2**63 - 1)
    item: Item
    monthly_rent: Money = Field(gt=Decimal(0), le=Decimal(100_000))
    start: date


class RentalReturn(BaseModel):
    end: date  # exclusive: the first day not rented


class RentalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    depot_id: int
    beneficiary_id: int
    item: str
    monthly_rent: Decimal
    start: date
    end: date | None


class ViewerCreate(BaseModel):
    """A login that may see the beneficiary's entitlement page: the person or family."""

    user_id: str = Field(min_length=1, max_length=36)
    relation: str = Field(pattern="^(self|family)$")


class ViewerRead(BaseModel):
    """A login that may see the beneficiary's entitlement page."""

    model_config = ConfigDict(from_attributes=True)

    user_id: str
    beneficiary_id: int
    relation: str


class RentedItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item: str
    since: date
    monthly_rent: Decimal
    fund_pays: Decimal
    you_pay: Decimal


class VisitLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    caregiver: str
    services: list[str]
    done: bool
    confirmed: bool


class CaseRead(BaseModel):
    """One beneficiary's month as they and their family see it."""

    model_config = ConfigDict(from_attributes=True)

    beneficiary_id: int
    name: str
    age: int
    city: str
    grade: int
    entitled_from: date
    month: str
    entitlement: EntitlementRead | None
    allowance: int = Field(description="visits this month by the rule's visits per week")
    used: int
    left: int
    rentals: list[RentedItemRead]
    visits: list[VisitLineRead]
