"""Small-business loan applications: the business, its owner, documents and decisions.

Money is Numeric(18, 2) (fen). Document contents are stored once per SHA-256 (`LendingBlob`),
so the same file uploaded twice is one blob and a document's hash is its address.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Integer, LargeBinary, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id
from anxin.lending.lifecycle import Stage
from anxin.people.models import OrganisationKind

# A borrower's login belongs to an organisation of this kind (their business), not the bank.
BORROWER_ORG_KIND = OrganisationKind.BUSINESS


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


# --- consumer-protection gates -------------------------------------------------------------


class QcOutcome(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CallbackOutcome(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # reached, every answer as expected
    REFUSED = "refused"  # reached, and an answer stops the loan
    UNREACHED = "unreached"


class KeyFactsDisclosure(Audited, Base):
    """The key facts shown to the borrower, frozen when disclosed, and their acknowledgement.

    `facts_sha256` is the SHA-256 of the canonical key facts (JSON), so the acknowledgement is
    of exactly these figures. The cooling-off period is kept here too: it starts when the dual
    recording passes its quality check."""

    __tablename__ = "lending_disclosures"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("lending_applications.id"), unique=True)
    facts: Mapped[dict[str, Any]]
    facts_sha256: Mapped[str] = mapped_column(String(64))
    disclosed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    disclosed_at: Mapped[datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    cooling_off_ends_at: Mapped[datetime | None]


class DualRecording(Audited, Base):
    """A dual recording (双录) of the disclosure conversation and its quality check."""

    __tablename__ = "lending_recordings"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("lending_applications.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(ForeignKey("lending_blobs.sha256"))
    size: Mapped[int] = mapped_column(Integer)
    checklist: Mapped[list[Any]]  # [{"statement", "at_seconds"}]
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]
    qc_outcome: Mapped[QcOutcome] = mapped_column(_enum(QcOutcome))
    qc_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    qc_at: Mapped[datetime | None]
    qc_note: Mapped[str] = mapped_column(String(2000), default="")
    ledger_seq: Mapped[int | None] = mapped_column(Integer)


class LoanCallback(Audited, Base):
    """One callback (回访) attempt: a call task raised through the alarm engine, its answers."""

    __tablename__ = "lending_callbacks"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("lending_applications.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    alarm_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[CallbackOutcome] = mapped_column(_enum(CallbackOutcome))
    answers: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(String(2000), default="")
    raised_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None]


# --- loans -----------------------------------------------------------------------------------


class LoanStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


class LoanAccount(Audited, Base):
    __tablename__ = "lending_loans"
    __table_args__ = (UniqueConstraint("organisation_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("lending_applications.id"), unique=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("lending_borrowers.id"), index=True)
    product: Mapped[str] = mapped_column(String(40))
    principal: Mapped[Decimal]
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    upfront_fee: Mapped[Decimal]
    net_disbursed: Mapped[Decimal]
    start: Mapped[date]
    status: Mapped[LoanStatus] = mapped_column(_enum(LoanStatus), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    disbursed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    disbursed_at: Mapped[datetime]
    closed_on: Mapped[date | None]
    write_off_reason: Mapped[str | None] = mapped_column(String(2000))
    write_off_amount: Mapped[Decimal | None]
    write_off_ledger_seq: Mapped[int | None] = mapped_column(Integer)
    # The schedule in force (1 at payout; each applied prepayment or rescheduling adds one).
    schedule_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class LoanLine(Base):
    """One scheduled instalment and what has been paid against each of its parts (not audited:
    the repayment that changes it is)."""

    __tablename__ = "lending_loan_lines"
    __table_args__ = (UniqueConstraint("loan_id", "number"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("lending_loans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due: Mapped[date] = mapped_column(index=True)
    principal: Mapped[Decimal]
    interest: Mapped[Decimal]
    fee: Mapped[Decimal]
    paid_principal: Mapped[Decimal]
    paid_interest: Mapped[Decimal]
    paid_fee: Mapped[Decimal]
    paid_penalty: Mapped[Decimal]
    # Default interest accrued on the unpaid principal up to `penalty_to` (crystallised at each
    # repayment, so a part-payment stops the accrual on what it paid from that day).
    penalty: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    penalty_to: Mapped[date | None]
    reminded_before: Mapped[bool] = mapped_column(default=False)
    reminded_overdue: Mapped[bool] = mapped_column(default=False)

    @property
    def outstanding(self) -> Decimal:
        return (
            self.principal
            + self.interest
            + self.fee
            - self.paid_principal
            - self.paid_interest
            - self.paid_fee
        )


class LoanRepayment(Audited, Base):
    __tablename__ = "lending_repayments"
    __table_args__ = (UniqueConstraint("loan_id", "reference"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("lending_loans.id"), index=True)
    reference: Mapped[str] = mapped_column(String(120))
    amount: Mapped[Decimal]
    received_on: Mapped[date]
    source: Mapped[str] = mapped_column(String(8))  # api | csv
    allocation: Mapped[list[Any]]  # [{"instalment", "component", "amount"}]
    unapplied: Mapped[Decimal]
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


class LoanCollectionNote(Audited, Base):
    __tablename__ = "lending_collection_notes"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("lending_loans.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(2000))
    promise_amount: Mapped[Decimal | None]
    promise_on: Mapped[date | None]
    written_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[datetime]


class ComplaintStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class LoanComplaint(Audited, Base):
    __tablename__ = "lending_complaints"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("lending_applications.id"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(String(4000))
    status: Mapped[ComplaintStatus] = mapped_column(_enum(ComplaintStatus), index=True)
    filed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime]
    due_at: Mapped[datetime]
    resolution: Mapped[str | None] = mapped_column(String(4000))
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]


class ChangeKind(StrEnum):
    PREPAYMENT = "prepayment"
    RESCHEDULE = "reschedule"


class ChangeStatus(StrEnum):
    PENDING = "pending"  # a rescheduling awaiting its second officer
    APPLIED = "applied"
    REJECTED = "rejected"


class LoanScheduleChange(Audited, Base):
    """A change to a loan's schedule: a prepayment, or a rescheduling approved by a second
    officer. An applied change made schedule `version`; `params` are what the cash-flow core is
    given to replay it (so every version can be rebuilt from the payout), `replaced` the lines
    of the version before, with what had been paid on them, kept for audit."""

    __tablename__ = "lending_schedule_changes"
    __table_args__ = (UniqueConstraint("loan_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("lending_loans.id"), index=True)
    kind: Mapped[ChangeKind] = mapped_column(_enum(ChangeKind))
    status: Mapped[ChangeStatus] = mapped_column(_enum(ChangeStatus))
    version: Mapped[int | None] = mapped_column(Integer)
    effective_on: Mapped[date]
    params: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(String(2000), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    replaced: Mapped[list[Any]]
    requested_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(String(2000), default="")
    ledger_seq: Mapped[int | None] = mapped_column(Integer)
