"""Warehouses, cranes, stock, pledges, releases, receipts and price marks.

Quantities are whole kilograms (integers): the hook scale's division is 10 kg and a count is
entered in kg, so stock never carries a rounding error. Money is Numeric(18, 2) (fen); rates
(haircut, LTV lines) are Numeric(8, 4) (basis points).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id

Rate = Numeric(8, 4)
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=24)


class ZoneKind(StrEnum):
    BAY = "bay"
    GATE = "gate"


class PledgeState(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ReceiptStatus(StrEnum):
    ISSUED = "issued"
    PLEDGED = "pledged"
    RELEASED = "released"  # back with the owner after the pledge closed; still live
    CANCELLED = "cancelled"


class ReleaseStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CONSUMED = "consumed"
    CANCELLED = "cancelled"


class MovementKind(StrEnum):
    LIFT = "lift"
    STOCKTAKE = "stocktake"  # book set to the count
    OPENING = "opening"  # opening balance entered by the operator


class Commodity(Audited, Base):
    __tablename__ = "collateral_commodities"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(8), default="t")
    created_at: Mapped[datetime]


class StockOwner(Audited, Base):
    """A trader whose goods lie in the warehouse and who borrows against them."""

    __tablename__ = "collateral_owners"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Warehouse(Audited, Base):
    __tablename__ = "collateral_warehouses"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime]


class WarehouseZone(Audited, Base):
    """A bay or a gate: a polygon in the crane's frame (metres). A bay stores one commodity of
    one owner; an inbound lift into it books that commodity and owner."""

    __tablename__ = "collateral_zones"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("collateral_warehouses.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[ZoneKind] = mapped_column(_enum(ZoneKind))
    polygon: Mapped[list[Any]] = mapped_column()
    commodity_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_commodities.id"))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_owners.id"))
    created_at: Mapped[datetime]


class Crane(Audited, Base):
    __tablename__ = "collateral_cranes"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("collateral_warehouses.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    scale_device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), unique=True)
    positioner_device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime]


class CraneState(Base):
    """The crane's streaming lift detector, persisted after every batch (survives restarts).

    Not audited: it changes with every telemetry batch, like the readings themselves.
    """

    __tablename__ = "collateral_crane_states"

    crane_id: Mapped[str] = mapped_column(ForeignKey("collateral_cranes.id"), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column()
    # Provisional lift ids already alarmed from peek(), so the final lift does not alarm twice.
    alarmed: Mapped[list[str]] = mapped_column(default=list)
    # Newest reading time (POSIX ms) seen from each device: the detector may only finish
    # lifts up to where *both* streams have arrived (see flows.watermark).
    scale_seen_ms: Mapped[int | None] = mapped_column(BigInteger)
    fix_seen_ms: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class StockPosition(Base):
    """Live stock: one row per (warehouse, bay, commodity, owner); movements keep it current."""

    __tablename__ = "collateral_positions"
    __table_args__ = (UniqueConstraint("zone_id", "commodity_id", "owner_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("collateral_warehouses.id"), index=True)
    zone_id: Mapped[str] = mapped_column(ForeignKey("collateral_zones.id"))
    commodity_id: Mapped[str] = mapped_column(ForeignKey("collateral_commodities.id"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("collateral_owners.id"))
    quantity_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]


class Movement(Base):
    """One change of stock. A lift's id is its detector id, so a re-delivered lift is one row."""

    __tablename__ = "collateral_movements"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("collateral_warehouses.id"), index=True)
    crane_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_cranes.id"))
    kind: Mapped[MovementKind] = mapped_column(_enum(MovementKind))
    direction: Mapped[str] = mapped_column(String(16))
    from_zone_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_zones.id"))
    to_zone_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_zones.id"))
    commodity_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_commodities.id"))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_owners.id"))
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
    weight_ok: Mapped[bool] = mapped_column(default=True)
    flags: Mapped[list[str]] = mapped_column(default=list)
    pledge_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_pledges.id"), index=True)
    release_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_release_orders.id"))
    authorised: Mapped[bool] = mapped_column(default=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    recorded_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Loan(Audited, Base):
    __tablename__ = "collateral_loans"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    lender_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("collateral_owners.id"))
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    principal: Mapped[Decimal]
    outstanding: Mapped[Decimal]
    created_at: Mapped[datetime]


class PledgeRow(Audited, Base):
    """A pledge of one commodity in one or more bays (through its receipts) securing a loan."""

    __tablename__ = "collateral_pledges"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("collateral_loans.id"), index=True)
    lender_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("collateral_owners.id"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("collateral_warehouses.id"), index=True)
    commodity_id: Mapped[str] = mapped_column(ForeignKey("collateral_commodities.id"))
    haircut: Mapped[Decimal] = mapped_column(Rate)
    warning_ltv: Mapped[Decimal] = mapped_column(Rate)
    margin_call_ltv: Mapped[Decimal] = mapped_column(Rate)
    liquidation_ltv: Mapped[Decimal | None] = mapped_column(Rate)
    min_quantity_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[PledgeState] = mapped_column(_enum(PledgeState), default=PledgeState.ACTIVE)
    # Latest valuation (kept current by every movement and price mark).
    status: Mapped[str] = mapped_column(String(16), default="ok")
    quantity_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    market_value: Mapped[Decimal | None]
    lending_value: Mapped[Decimal | None]
    ltv: Mapped[Decimal | None] = mapped_column(Rate)
    below_minimum: Mapped[bool] = mapped_column(default=False)
    valued_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    # Read-only: the loan's terms shown with the pledge. Lists load it with selectinload.
    loan: Mapped[Loan] = relationship(viewonly=True)


class Valuation(Base):
    """Each re-valuation of a pledge: the history the bank's chart draws."""

    __tablename__ = "collateral_valuations"

    # An increasing key: valuations at one instant keep the order they were made in.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pledge_id: Mapped[str] = mapped_column(ForeignKey("collateral_pledges.id"), index=True)
    at: Mapped[datetime]
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[Decimal | None]
    market_value: Mapped[Decimal | None]
    lending_value: Mapped[Decimal | None]
    outstanding: Mapped[Decimal]
    ltv: Mapped[Decimal | None] = mapped_column(Rate)
    status: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(32))


class Receipt(Audited, Base):
    """A warehouse receipt for the stock of one owner's commodity in one bay.

    ``live_key`` is ``warehouse:bay:commodity`` while the receipt is live (issued, pledged or
    released) and NULL once cancelled: the unique index makes one live receipt per stock, so
    the same stock can never back two pledges. Every state change is a ledger entry.
    """

    __tablename__ = "collateral_receipts"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("collateral_warehouses.id"), index=True)
    zone_id: Mapped[str] = mapped_column(ForeignKey("collateral_zones.id"))
    commodity_id: Mapped[str] = mapped_column(ForeignKey("collateral_commodities.id"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("collateral_owners.id"))
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ReceiptStatus] = mapped_column(_enum(ReceiptStatus))
    pledge_id: Mapped[str | None] = mapped_column(ForeignKey("collateral_pledges.id"), index=True)
    live_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    ledger_seqs: Mapped[list[Any]] = mapped_column(default=list)
    issued_at: Mapped[datetime]


class ReleaseOrder(Audited, Base):
    __tablename__ = "collateral_release_orders"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    pledge_id: Mapped[str] = mapped_column(ForeignKey("collateral_pledges.id"), index=True)
    quantity_kg: Mapped[int] = mapped_column(BigInteger)
    consumed_kg: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[ReleaseStatus] = mapped_column(_enum(ReleaseStatus))
    note: Mapped[str] = mapped_column(String(500), default="")
    requested_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(String(500), default="")


class PriceMark(Audited, Base):
    __tablename__ = "collateral_price_marks"
    __table_args__ = (UniqueConstraint("commodity_id", "as_of"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    commodity_id: Mapped[str] = mapped_column(ForeignKey("collateral_commodities.id"))
    as_of: Mapped[date]
    price: Mapped[Decimal]  # CNY per tonne
    source: Mapped[str] = mapped_column(String(64), default="manual")
    created_at: Mapped[datetime]


class Stocktake(Audited, Base):
    __tablename__ = "collateral_stocktakes"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("collateral_warehouses.id"), index=True)
    zone_id: Mapped[str] = mapped_column(ForeignKey("collateral_zones.id"))
    commodity_id: Mapped[str] = mapped_column(ForeignKey("collateral_commodities.id"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("collateral_owners.id"))
    counted_kg: Mapped[int] = mapped_column(BigInteger)
    book_kg: Mapped[int] = mapped_column(BigInteger)
    difference_kg: Mapped[int] = mapped_column(BigInteger)
    tolerance_kg: Mapped[int] = mapped_column(BigInteger)
    lifts_since: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))  # matched | explained | raised
    explanation: Mapped[str] = mapped_column(String(1000))
    counted_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    counted_at: Mapped[datetime]
