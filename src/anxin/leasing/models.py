"""Finance leases: the contract (the lessor's organisation owns it), its assets and the rents
received. Money is Numeric(18, 2); rates are fractions in Numeric(9, 6)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, Float, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id
from anxin.leasing import watch
from anxin.leasing.finance import LeaseKind, RentMethod
from anxin.leasing.lifecycle import Stage
from anxin.lending.schedule import Timing

RATE = Numeric(9, 6)
# a rate solved from a given rent keeps enough digits to give that rent back to the fen
PRECISE_RATE = Numeric(16, 12)


def _enum(cls: type[StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=24)


class LeaseContract(Audited, Base):
    __tablename__ = "leasing_contracts"
    __table_args__ = (UniqueConstraint("organisation_id", "reference"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    kind: Mapped[LeaseKind] = mapped_column(_enum(LeaseKind))
    stage: Mapped[Stage] = mapped_column(_enum(Stage), index=True)
    lessee_name: Mapped[str] = mapped_column(String(200))
    lessee_credit_code: Mapped[str] = mapped_column(String(18))
    # the lessee's own account, which sees its statement and buy-out quote
    lessee_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    vendor_name: Mapped[str] = mapped_column(String(200))
    cost: Mapped[Decimal]
    down_payment: Mapped[Decimal]
    annual_rate: Mapped[Decimal] = mapped_column(PRECISE_RATE)
    periods: Mapped[int] = mapped_column(Integer)
    frequency_months: Mapped[int] = mapped_column(Integer)
    timing: Mapped[Timing] = mapped_column(_enum(Timing))
    method: Mapped[RentMethod] = mapped_column(_enum(RentMethod))
    profile: Mapped[list[str] | None]
    residual: Mapped[Decimal]
    handling_fee: Mapped[Decimal]
    deposit: Mapped[Decimal]
    buyout_fee_rate: Mapped[Decimal] = mapped_column(RATE)
    vat_rate: Mapped[Decimal | None] = mapped_column(RATE)
    start: Mapped[date]
    site_name: Mapped[str] = mapped_column(String(200))
    site_lat: Mapped[float | None] = mapped_column(Float)
    site_lon: Mapped[float | None] = mapped_column(Float)
    site_radius_m: Mapped[float] = mapped_column(Float, default=500.0)
    title_ledger_index: Mapped[int | None] = mapped_column(Integer)
    # days a machine may stand idle while a rent is overdue before the lessor is warned
    idle_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    # the machines' useful life when the lessee will own them: the lessee's right-of-use asset
    # is depreciated over it instead of over the lease term (IFRS 16.32); None: over the term
    useful_life_months: Mapped[int | None] = mapped_column(Integer)
    # annual penalty interest on overdue rent and VAT, ACT/360 (0.18: 0.05 % a day, 万分之五)
    # the last rent the arrears sweep reminded the lessor of: each overdue rent is reminded once
    reminded_through: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    penalty_rate: Mapped[Decimal] = mapped_column(
        RATE, default=Decimal("0.18"), server_default="0.18"
    )
    accepted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LeaseAsset(Audited, Base):
    __tablename__ = "leasing_assets"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    contract_id: Mapped[str] = mapped_column(ForeignKey("leasing_contracts.id"), index=True)
    asset_type: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(80))  # recorded at acceptance
    cost: Mapped[Decimal]
    location: Mapped[str] = mapped_column(String(200))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"), index=True)
    # the machine's own telemetry, as last reported (leasing.flows)
    running_hours: Mapped[float | None] = mapped_column(Float)
    first_hours: Mapped[float | None] = mapped_column(Float)
    first_seen_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    last_running_at: Mapped[datetime | None]
    power_kw: Mapped[float | None] = mapped_column(Float)
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lon: Mapped[float | None] = mapped_column(Float)
    off_site: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    @property
    def utilisation(self) -> float | None:
        """Running hours gained since the first report over the hours elapsed since."""
        if (
            self.first_seen_at is None
            or self.last_seen_at is None
            or self.running_hours is None
            or self.first_hours is None
            or self.last_seen_at <= self.first_seen_at
        ):
            return None
        return watch.utilisation(
            self.running_hours - self.first_hours, self.last_seen_at - self.first_seen_at
        )


class RentPayment(Audited, Base):
    """A payment received from the lessee, of any amount up to what is owed; how it was
    applied (rents' penalty, VAT, interest, principal) is kept with it (`leasing.arrears`)."""

    __tablename__ = "leasing_rent_payments"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    contract_id: Mapped[str] = mapped_column(ForeignKey("leasing_contracts.id"), index=True)
    amount: Mapped[Decimal]
    paid_on: Mapped[date]
    # [{"rent": n, "component": "penalty|fee|interest|principal", "amount": "…"}]; None for
    # the full rents recorded before partial payments existed
    allocation: Mapped[list[Any] | None]
    recorded_at: Mapped[datetime]
