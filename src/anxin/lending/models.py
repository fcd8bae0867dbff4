"""Small-business loan applications: the business, its owner, documents and decisions.

Money is Numeric(18, 2) (fen). Document contents are stored once per SHA-256 (`LendingBlob`),
so the same file uploaded twice is one blob and a document's hash is its address.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id
from anxin.lending.lifecycle import Stage


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=24)


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


class DecisionKind(StrEnum):
    SCORECARD = "scorecard"
    OVERRIDE = "override"


class Business(Audited, Base):
    __tablename__ = "lending_businesses"
    __table_args__ = (UniqueConstraint("organisation_id", "credit_code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    industry: Mapped[str] = mapped_column(String(80))
    years_trading: Mapped[int] = mapped_column(Integer)
    monthly_turnover: Mapped[Decimal]
    created_at: Mapped[datetime]


class Borrower(Audited, Base):
    """The business's owner, who signs for the loan (and, with an account, sees it)."""

    __tablename__ = "lending_borrowers"
    __table_args__ = (UniqueConstraint("organisation_id", "resident_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    resident_id: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[date]
    phone: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime]


class Application(Audited, Base):
    __tablename__ = "lending_applications"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("lending_businesses.id"), index=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("lending_borrowers.id"), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[Decimal]
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(24))
    purpose_detail: Mapped[str] = mapped_column(String(500), default="")
    # The credit profile the scorecard reads (scorecard.CATEGORY_MAP's codes).
    profile: Mapped[dict[str, Any]]
    existing_overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[Stage] = mapped_column(_enum(Stage), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LendingBlob(Base):
    """A document's bytes, addressed by their SHA-256 (not audited: the document row is)."""

    __tablename__ = "lending_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Document(Audited, Base):
    __tablename__ = "lending_documents"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("lending_applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(ForeignKey("lending_blobs.sha256"))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]


class Decision(Audited, Base):
    """One credit decision: the model's (with its inputs) or an officer's override."""

    __tablename__ = "lending_decisions"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("lending_applications.id"), index=True)
    kind: Mapped[DecisionKind] = mapped_column(_enum(DecisionKind))
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    model_version: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]]
    score: Mapped[int] = mapped_column(Integer)
    cutoff: Mapped[int] = mapped_column(Integer)
    points: Mapped[dict[str, Any]]
    reasons: Mapped[list[Any]]
    policy: Mapped[list[Any]]
    override_reason: Mapped[str | None] = mapped_column(String(2000))
    decided_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime]
