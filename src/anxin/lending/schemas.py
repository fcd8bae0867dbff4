"""Request and read models of the lending API. Identifiers are checked here with their check
characters, so a bad one is a 422 naming the field and the reason."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from anxin.core.money import Money
from anxin.lending.identifiers import InvalidIdentifier, parse_resident_id, parse_uscc
from anxin.lending.lifecycle import Stage
from anxin.lending.models import DecisionKind, Outcome

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
