"""Request and read models of the lending API. Identifiers are checked here with their check
characters, so a bad one is a 422 naming the field and the reason."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from anxin.core.money import Money
from anxin.lending.identifiers import InvalidIdentifier, parse_resident_id, parse_uscc
from anxin.lending.lifecycle import Stage
from anxin.lending.models import (
    CallbackOutcome,
    ChangeKind,
    ChangeStatus,
    ComplaintStatus,
    DecisionKind,
    LoanStatus,
    Outcome,
    QcOutcome,
)
from anxin.lending.schedule import PrepaymentEffect
from anxin.people.schemas import USERNAME_PATTERN

AccountStatus = Literal["none", "overdrawn", "low", "healthy"]
CreditHistory = Literal["no_credit", "all_repaid", "repaying_duly", "past_delay", "critical"]
Purpose = Literal["working_capital", "equipment", "vehicle", "renovation", "other"]
Savings = Literal["none", "under_10k", "10k_50k", "50k_100k", "over_100k"]
PropertyKind = Literal["real_estate", "insurance_or_savings", "vehicle_or_other", "none"]
OtherLoans = Literal["none", "bank", "other"]
Housing = Literal["own", "rent", "free"]
Guarantor = Literal["none", "co_applicant", "guarantor"]


class BusinessIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(description="统一社会信用代码, GB 32100 (checked)")
    industry: str = Field(min_length=1, max_length=80)
    years_trading: int = Field(ge=0, le=100)
    monthly_turnover: Money = Field(gt=0)

    @field_validator("credit_code")
    @classmethod
    def _uscc(cls, value: str) -> str:
        try:
            return parse_uscc(value).code
        except InvalidIdentifier as e:
            raise ValueError(e.reason) from None


class OwnerIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    resident_id: str = Field(description="公民身份号码, GB 11643 (checked)")
    phone: str = Field(pattern=r"^\+?[0-9 -]{5,31}$")

    @field_validator("resident_id")
    @classmethod
    def _resident_id(cls, value: str) -> str:
        try:
            return parse_resident_id(value).number
        except InvalidIdentifier as e:
            raise ValueError(e.reason) from None


class CreditProfile(BaseModel):
    """What the scorecard reads besides term and years trading (docs/lending.md, model card)."""

    account_status: AccountStatus
    credit_history: CreditHistory
    savings: Savings
    property: PropertyKind
    other_loans: OtherLoans
    housing: Housing
    guarantor: Guarantor


class ApplicationCreate(BaseModel):
    business: BusinessIn
    owner: OwnerIn
    amount: Money = Field(gt=0)
    term_months: int = Field(ge=1, le=360)
    purpose: Purpose
    purpose_detail: str = Field(default="", max_length=500)
    profile: CreditProfile
    existing_overdue_days: int = Field(
        default=0, ge=0, description="Days past due on existing debts (credit report)"
    )


class BusinessRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    credit_code: str
    industry: str
    years_trading: int
    monthly_turnover: Decimal


class BorrowerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    resident_id_masked: str
    birth_date: date
    phone: str


class DocumentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    filename: str
    content_type: str
    sha256: str
    size: int
    uploaded_at: datetime


class ReasonRead(BaseModel):
    feature: str
    points_lost: int
    zh: str
    en: str


class PolicyCheckRead(BaseModel):
    rule: str
    passed: bool
    zh: str
    en: str


class DecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: DecisionKind
    outcome: Outcome
    model_version: str
    inputs: dict[str, object]
    score: int
    cutoff: int
    points: dict[str, int]
    reasons: list[ReasonRead]
    policy: list[PolicyCheckRead]
    override_reason: str | None
    decided_by: str
    decided_at: datetime


class ApplicationRead(BaseModel):
    id: str
    stage: Stage
    amount: Decimal
    term_months: int
    purpose: str
    purpose_detail: str
    profile: dict[str, str]
    existing_overdue_days: int
    officer_id: str
    created_at: datetime
    updated_at: datetime
    business: BusinessRead
    borrower: BorrowerRead


class ApplicationDetail(ApplicationRead):
    documents: list[DocumentRead]
    decisions: list[DecisionRead]


class OverrideCreate(BaseModel):
    outcome: Outcome
    reason: str = Field(min_length=10, max_length=2000, description="Why the officer overrides")


class PortfolioStats(BaseModel):
    applications: int
    decided: int
    approved: int
    approval_rate: float | None
    psi: float | None = Field(description="Scores of decided applications vs. the training set")
    psi_reading: Literal["stable", "watch", "shifted"] | None
    model_version: str
    cv_auc: float
    cv_ks: float
    cv_gini: float


# --- gates -------------------------------------------------------------------------------------


class BorrowerAccountCreate(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=8, max_length=200)


class BorrowerAccountRead(BaseModel):
    user_id: str
    username: str


class DisclosureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    facts: dict[str, Any]
    facts_sha256: str
    disclosed_at: datetime
    acknowledged_at: datetime | None
    cooling_off_ends_at: datetime | None


class Acknowledgement(BaseModel):
    facts_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="The digest of the key facts the borrower read"
    )


class RecordingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    content_type: str
    sha256: str
    size: int
    checklist: list[dict[str, Any]]
    uploaded_by: str
    uploaded_at: datetime
    qc_outcome: QcOutcome
    qc_by: str | None
    qc_at: datetime | None
    qc_note: str
    ledger_seq: int | None


class RecordingReview(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=2000)


class Cancellation(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class CallbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    attempt: int
    alarm_id: str | None
    outcome: CallbackOutcome
    answers: dict[str, bool]
    note: str
    raised_at: datetime
    recorded_at: datetime | None


class CallbackRecord(BaseModel):
    reached: bool
    answers: dict[str, bool] = Field(
        default_factory=dict, description="Each scripted question's code and the answer"
    )
    note: str = Field(default="", max_length=2000)


class GateRead(BaseModel):
    code: str
    passed: bool
    detail: str


class GatesRead(BaseModel):
    stage: Stage
    gates: list[GateRead]
    ready_to_disburse: bool


# --- loans -------------------------------------------------------------------------------------


class Disbursement(BaseModel):
    idempotency_key: str = Field(min_length=8, max_length=120)


class LoanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    application_id: str
    product: str
    principal: Decimal
    annual_rate: Decimal
    upfront_fee: Decimal
    net_disbursed: Decimal
    start: date
    status: LoanStatus
    disbursed_at: datetime
    closed_on: date | None
    write_off_reason: str | None
    write_off_amount: Decimal | None
    write_off_ledger_seq: int | None
    schedule_version: int


class RepaymentCreate(BaseModel):
    amount: Money = Field(gt=0)
    received_on: date
    reference: str = Field(min_length=1, max_length=120, description="The bank's reference")


class AllocationRead(BaseModel):
    instalment: int
    component: str
    amount: Decimal


class RepaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    reference: str
    amount: Decimal
    received_on: date
    source: str
    allocation: list[AllocationRead]
    unapplied: Decimal
    recorded_at: datetime


class ImportRejection(BaseModel):
    line: int
    field: str | None
    reason: str


class ImportResult(BaseModel):
    imported: int
    duplicates: int
    rejected: list[ImportRejection]


class StatementLineRead(BaseModel):
    number: int
    due: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    paid: Decimal
    outstanding: Decimal
    penalty: Decimal = Field(description="Default interest owed on the statement's date")
    status: Literal["paid", "overdue", "due", "future"]


class StatementRead(BaseModel):
    loan: LoanRead
    on: date
    lines: list[StatementLineRead]
    repayments: list[RepaymentRead]
    paid: Decimal
    outstanding: Decimal
    principal_outstanding: Decimal
    arrears: Decimal
    penalties: Decimal
    days_past_due: int
    bucket: str


class NoteCreate(BaseModel):
    channel: Literal["phone", "sms", "visit", "letter", "other"]
    note: str = Field(min_length=1, max_length=2000)
    promise_amount: Money | None = Field(default=None, gt=0)
    promise_on: date | None = None


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    channel: str
    note: str
    promise_amount: Decimal | None
    promise_on: date | None
    written_by: str
    written_at: datetime


class WriteOff(BaseModel):
    reason: str = Field(min_length=10, max_length=2000)


class ReminderRunRead(BaseModel):
    before_due: int
    overdue: int


class BucketRead(BaseModel):
    code: str
    zh: str
    en: str
    loans: int
    principal: Decimal


class ComplaintCreate(BaseModel):
    category: Literal["fees", "rates", "collection", "service", "other"]
    text: str = Field(min_length=5, max_length=4000)


class ComplaintResolve(BaseModel):
    resolution: str = Field(min_length=5, max_length=4000)


class ComplaintRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    application_id: str
    category: str
    text: str
    status: ComplaintStatus
    filed_at: datetime
    due_at: datetime
    resolution: str | None
    resolved_at: datetime | None
    sla_breached: bool = False


# --- schedule changes ------------------------------------------------------------------------


class PrepaymentQuoteRead(BaseModel):
    on: date
    principal: Decimal = Field(description="Principal outstanding after the instalments due")
    accrued: Decimal = Field(description="Interest accrued since the last due date")
    fee: Decimal = Field(description="The product's prepayment fee")
    total: Decimal = Field(description="What repays the loan in full today")
    arrears: Decimal = Field(description="Owed on instalments due up to today: paid first")


class PrepaymentCreate(BaseModel):
    amount: Money = Field(gt=0)
    effect: PrepaymentEffect = Field(description="shorten_term or lower_instalment")
    idempotency_key: str = Field(min_length=8, max_length=120)


class RescheduleCreate(BaseModel):
    annual_rate: Decimal | None = Field(default=None, ge=0, le=Decimal("0.24"), decimal_places=6)
    periods: int | None = Field(default=None, ge=1, le=360, description="Instalments from now")
    grace: int = Field(default=0, ge=0, le=24, description="Interest-only periods first")
    reason: str = Field(min_length=10, max_length=2000, description="The borrower's hardship")


class RescheduleDecision(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=2000)


class ScheduleChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: ChangeKind
    status: ChangeStatus
    version: int | None
    effective_on: date
    params: dict[str, Any]
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    ledger_seq: int | None
    replaced: list[Any] = Field(description="The lines this change replaced, as they stood")


class ProductBucketRead(BaseModel):
    """Active loans of one product in one of its ageing buckets."""

    product: str
    product_zh: str
    product_en: str
    bucket: str
    zh: str
    en: str
    loans: int
    principal: Decimal = Field(description="Principal outstanding")
