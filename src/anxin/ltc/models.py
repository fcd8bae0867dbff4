"""Long-term care insurance rows.

Every row belongs to the organisation administering a city's scheme (`org_id`), which is the
tenancy boundary. The register of insured persons is imported in bulk (millions of rows), so
`LtcInsured` is not audited row by row; each import is (`LtcImport`: who, when, counts).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base
from anxin.ltc.settlement import Direction

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
