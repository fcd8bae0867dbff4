"""Long-term care insurance rows.

Every row belongs to the organisation administering a city's scheme (`org_id`), which is the
tenancy boundary. The register of insured persons is imported in bulk (millions of rows), so
`LtcInsured` is not audited row by row; each import is (`LtcImport`: who, when, counts).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base
from anxin.ltc.applications import ApplicationKind, ApplicationState
from anxin.ltc.settlement import ClaimState, Direction, LineKind

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=24)


class LtcInsured(Base):
    """One insured person of the city's register; the ID number is the natural key."""

    __tablename__ = "ltc_insured"
    __table_args__ = (UniqueConstraint("org_id", "id_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    district: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime]


class LtcImport(Audited, Base):
    """One import of the register: the file's name and what became of its rows."""

    __tablename__ = "ltc_imports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    rows_ok: Mapped[int] = mapped_column(Integer)
    rows_bad: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class LtcFundEntry(Audited, Base):
    """The fund ledger: contributions in by source, settled payouts out by category.

    `reference` makes posting idempotent (a contribution file's id, ``settlement:2026-11:cash``).
    """

    __tablename__ = "ltc_fund_entries"
    __table_args__ = (
        UniqueConstraint("org_id", "reference"),
        Index("ix_ltc_fund_entries_org_month", "org_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    direction: Mapped[Direction] = mapped_column(_enum(Direction))
    category: Mapped[str] = mapped_column(String(24))  # a Source (in) or a LineKind (out)
    amount: Mapped[Decimal]
    reference: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


Ratio = Numeric(5, 4)


class LtcRule(Audited, Base):
    """A city's entitlement for one grade over [valid_from, valid_to) (see `entitlements`)."""

    __tablename__ = "ltc_rules"
    __table_args__ = (Index("ix_ltc_rules_org_city_grade", "org_id", "city", "grade"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    city: Mapped[str] = mapped_column(String(40))
    grade: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    monthly_cash: Mapped[Decimal]
    visits_per_week: Mapped[int] = mapped_column(Integer)
    services: Mapped[list[str]]
    visit_copay_ratio: Mapped[Decimal] = mapped_column(Ratio)
    rental_fund_ratio: Mapped[Decimal] = mapped_column(Ratio)
    created_at: Mapped[datetime]


class LtcService(Audited, Base):
    """One item of the city's service menu with its price per visit."""

    __tablename__ = "ltc_services"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    price: Mapped[Decimal]


class LtcInstitution(Audited, Base):
    """A care institution paid for verified visits."""

    __tablename__ = "ltc_institutions"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    # The care provider's own organisation, whose staff (role provider) record its visits.
    provider_org_id: Mapped[str | None] = mapped_column(ID, ForeignKey("organisations.id"))
    created_at: Mapped[datetime]


class LtcCaregiver(Audited, Base):
    """A caregiver of an institution: certificate or staff number (`code`, unique in the
    scheme, so overlapping visits are found across institutions), qualification, the areas
    served, and the login (`user_id`, role provider) of their phone app, if any."""

    __tablename__ = "ltc_caregivers"
    __table_args__ = (UniqueConstraint("org_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    institution_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ltc_institutions.id"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    qualification: Mapped[str] = mapped_column(String(40))
    areas: Mapped[list[str]]
    user_id: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class LtcBeneficiary(Audited, Base):
    """An insured person with a grade, entitled over [entitled_from, entitled_to)."""

    __tablename__ = "ltc_beneficiaries"
    __table_args__ = (Index("ix_ltc_beneficiaries_org", "org_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    insured_id: Mapped[int] = mapped_column(ForeignKey("ltc_insured.id"), unique=True)
    city: Mapped[str] = mapped_column(String(40))
    grade: Mapped[int] = mapped_column(Integer)
    entitled_from: Mapped[date] = mapped_column(Date)
    entitled_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]


class LtcVisit(Base):
    """A home-care visit as recorded by the caregiver's app; checked at settlement.

    High volume (hundreds of thousands a month), so not audited row by row: the facts are the
    record, and the settlement's claim line says what became of each visit."""

    __tablename__ = "ltc_visits"
    __table_args__ = (Index("ix_ltc_visits_org_check_in", "org_id", "check_in"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("ltc_beneficiaries.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("ltc_institutions.id"))
    caregiver: Mapped[str] = mapped_column(String(64))  # the caregiver's code
    caregiver_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ltc_caregivers.id"))
    check_in: Mapped[datetime]
    check_out: Mapped[datetime | None]
    in_lat: Mapped[float] = mapped_column(Float)
    in_lon: Mapped[float] = mapped_column(Float)
    out_lat: Mapped[float | None] = mapped_column(Float)
    out_lon: Mapped[float | None] = mapped_column(Float)
    services: Mapped[list[str]]
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    presence: Mapped[bool | None] = mapped_column(Boolean)


class LtcVisitPlan(Audited, Base):
    """A visit the institution has planned (its rota, from the entitlement's visits per week).

    Checking in links the visit (`visit_id`); a plan still without a visit a grace period after
    its time raises one alarm to the institution (`alarmed_at` says it was raised)."""

    __tablename__ = "ltc_visit_plans"
    __table_args__ = (
        Index("ix_ltc_visit_plans_institution_planned", "institution_id", "planned_at"),
        Index("ix_ltc_visit_plans_planned_at", "planned_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    beneficiary_id: Mapped[int] = mapped_column(BigId, ForeignKey("ltc_beneficiaries.id"))
    institution_id: Mapped[int] = mapped_column(BigId, ForeignKey("ltc_institutions.id"))
    caregiver_id: Mapped[int] = mapped_column(BigId, ForeignKey("ltc_caregivers.id"))
    planned_at: Mapped[datetime]
    services: Mapped[list[str]]
    visit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ltc_visits.id"), unique=True)
    alarmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class LtcViewer(Audited, Base):
    """A login that may see one beneficiary's entitlement page: the person (`self`) or a
    family member (`family`). One beneficiary per login keeps the page simple."""

    __tablename__ = "ltc_viewers"

    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"), primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ltc_beneficiaries.id"), index=True
    )
    relation: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class LtcRental(Audited, Base):
    """A nursing bed or wheelchair rented to a beneficiary from a depot over [start, end)."""

    __tablename__ = "ltc_rentals"
    __table_args__ = (Index("ix_ltc_rentals_org", "org_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("ltc_beneficiaries.id"))
    depot_id: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(24))
    monthly_rent: Mapped[Decimal]
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)


class LtcSettlement(Audited, Base):
    """A settled month: closed, its totals, and the ledger entry that anchors its summary."""

    __tablename__ = "ltc_settlements"
    __table_args__ = (UniqueConstraint("org_id", "month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    month: Mapped[str] = mapped_column(String(7))
    lines: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    fund_out: Mapped[Decimal]
    copay: Mapped[Decimal]
    summary: Mapped[dict[str, Any]]
    ledger_seq: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[datetime]


class LtcClaimLine(Base):
    """One line of a settled month (cash, visit or rental), valuated or rejected with a reason.

    Written in bulk with its settlement (which is audited) and never changed afterwards."""

    __tablename__ = "ltc_claim_lines"
    __table_args__ = (Index("ix_ltc_claim_lines_settlement_kind", "settlement_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("ltc_settlements.id"))
    kind: Mapped[LineKind] = mapped_column(_enum(LineKind))
    ref: Mapped[int] = mapped_column(BigInteger)
    beneficiary_id: Mapped[int] = mapped_column(BigInteger)
    payee: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal]
    fund: Mapped[Decimal]
    copay: Mapped[Decimal]
    state: Mapped[ClaimState] = mapped_column(_enum(ClaimState))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # A rejected line's reasons as codes, comma-separated in the reason's order
    # ("too_short,not_confirmed"; "" when valuated): plain short text reads, compares and
    # groups alike on SQLite and PostgreSQL, where a JSON column could not be grouped (json
    # has no equality on PostgreSQL) and would need each dialect's own functions to read.
    reason_codes: Mapped[str] = mapped_column(String(200), default="", server_default="")


class LtcApplication(Audited, Base):
    """An application for care: initial, a reassessment or an appeal of an earlier one."""

    __tablename__ = "ltc_applications"
    __table_args__ = (Index("ix_ltc_applications_org_state", "org_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    insured_id: Mapped[int] = mapped_column(ForeignKey("ltc_insured.id"), index=True)
    kind: Mapped[ApplicationKind] = mapped_column(_enum(ApplicationKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("ltc_applications.id"))
    city: Mapped[str] = mapped_column(String(40))
    self_barthel: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500), default="")  # the appeal's or the gate's
    state: Mapped[ApplicationState] = mapped_column(_enum(ApplicationState))
    grade: Mapped[int | None] = mapped_column(Integer)
    consensus: Mapped[str | None] = mapped_column(String(24))
    decided_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]


class LtcAssessment(Audited, Base):
    """One assessor's visit: the item scores of the three dimensions and the grade they give."""

    __tablename__ = "ltc_assessments"
    __table_args__ = (UniqueConstraint("application_id", "assessor_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("ltc_applications.id"), index=True)
    assessor_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    assessor: Mapped[str] = mapped_column(String(120))
    visited_on: Mapped[date] = mapped_column(Date)
    adl: Mapped[dict[str, Any]]
    cognition: Mapped[dict[str, Any]]
    perception: Mapped[dict[str, Any]]
    barthel: Mapped[int] = mapped_column(Integer)
    cognition_score: Mapped[int] = mapped_column(Integer)
    perception_score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[int] = mapped_column(Integer)
    table: Mapped[str] = mapped_column(String(40))  # the grading table's name, e.g. national-2021
    created_at: Mapped[datetime]


class LtcAssignment(Audited, Base):
    """An assessor assigned to an application: it is in their queue until they score it."""

    __tablename__ = "ltc_assignments"

    application_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ltc_applications.id"), primary_key=True
    )
    assessor_id: Mapped[str] = mapped_column(
        ID, ForeignKey("users.id"), primary_key=True, index=True
    )
    assigned_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]


class LtcDepot(Audited, Base):
    """An equipment depot and its stock of nursing beds and wheelchairs (owned, not rented)."""

    __tablename__ = "ltc_depots"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ID, ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    nursing_beds: Mapped[int] = mapped_column(Integer)
    wheelchairs: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
