"""Request and read models of the leasing API. Bounds are set here, so a bad value is a 422
naming the field; rules across fields (down payment below cost, residual below what is
financed) are checked in the service with the same error shape."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from anxin.core.bounds import SaneDate
from anxin.core.money import Money, MoneyAmount
from anxin.leasing.finance import LeaseKind, RentMethod
from anxin.leasing.lifecycle import Stage
from anxin.lending.identifiers import checked_uscc
from anxin.lending.schedule import Timing

Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=14, decimal_places=12)]
Weight = Annotated[Decimal, Field(ge=0, le=100, max_digits=8, decimal_places=4)]
Months = Literal[1, 3, 6, 12]


class AssetIn(BaseModel):
    asset_type: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=200)
    cost: Money = Field(gt=0)
    location: str = Field(min_length=1, max_length=200)
    serial: str | None = Field(default=None, min_length=1, max_length=80)


class RentTerms(BaseModel):
    """The terms that fix the rent: either `annual_rate` (the rent is solved) or `rent` (the
    rate implicit in the lease is solved), not both."""

    down_payment: Money = Field(default=Decimal(0), ge=0)
    periods: int = Field(ge=1, le=360)
    frequency_months: Months = 1
    annual_rate: Rate | None = Field(default=None, description="nominal, a fraction: 0.065")
    rent: Money | None = Field(default=None, gt=0, description="level rent (equal rent only)")
    timing: Timing = Timing.ARREARS
    method: RentMethod = RentMethod.EQUAL_RENT
    profile: list[Weight] | None = Field(default=None, min_length=1, max_length=120)
    residual: Money = Field(default=Decimal(0), ge=0, description="buy-out price or residual")
    handling_fee: Money = Field(default=Decimal(0), ge=0)
    start: SaneDate
    kind: LeaseKind = LeaseKind.DIRECT
    vat: bool = Field(default=False, description="show VAT per rent at the kind's rate")
    useful_life_months: int | None = Field(
        default=None,
        ge=1,
        le=600,
        description="the machines' useful life when the lessee will own them (IFRS 16.32): "
        "the right-of-use asset is depreciated over it instead of the lease term",
    )


class QuoteRequest(RentTerms):
    cost: Money = Field(gt=0)


class ContractCreate(RentTerms):
    reference: str = Field(pattern=r"^[A-Za-z0-9-]{1,40}$")
    lessee_name: str = Field(min_length=1, max_length=200)
    lessee_credit_code: Annotated[str, AfterValidator(checked_uscc)] = Field(
        description="统一社会信用代码, GB 32100 (checked)"
    )
    lessee_user_id: str | None = Field(default=None, max_length=36)
    vendor_name: str = Field(min_length=1, max_length=200)
    assets: list[AssetIn] = Field(min_length=1, max_length=50)
    deposit: Money = Field(default=Decimal(0), ge=0)
    buyout_fee_rate: Annotated[Decimal, Field(ge=0, le="0.2", max_digits=7, decimal_places=6)] = (
        Decimal("0.01")
    )
    site_name: str = Field(min_length=1, max_length=200)
    site_lat: float | None = Field(default=None, ge=-90, le=90)
    site_lon: float | None = Field(default=None, ge=-180, le=180)
    site_radius_m: float = Field(default=500.0, gt=0, le=100_000)
    penalty_rate: Annotated[Decimal, Field(ge=0, le=1, max_digits=7, decimal_places=6)] = Field(
        default=Decimal("0.18"),
        description="annual penalty interest on overdue rent and VAT, ACT/360 "
        "(0.18 = 0.05 % a day)",
    )


class StageMove(BaseModel):
    stage: Literal["approved", "ordered", "vendor_paid", "repossessed", "cancelled"]


class Acceptance(BaseModel):
    """Delivery and acceptance: every asset's serial as found on the machine."""

    serials: dict[str, Annotated[str, Field(min_length=1, max_length=80)]] = Field(
        min_length=1, max_length=50, description="asset id → serial"
    )


class TrackerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)


class TrackerRead(BaseModel):
    asset_id: str
    device_id: str
    token: str = Field(description="the device's token, shown once")


class RentPaid(BaseModel):
    """A payment of any amount up to everything owed on its date."""

    paid_on: SaneDate
    amount: Money = Field(gt=0)


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    amount: MoneyAmount
    paid_on: date
    allocation: list[dict[str, Any]] | None = Field(
        description="rent, component (penalty, fee = VAT, interest, principal), amount"
    )


class AssetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    asset_type: str
    description: str
    serial: str | None
    cost: MoneyAmount
    location: str
    device_id: str | None
    running_hours: float | None
    power_kw: float | None
    last_seen_at: datetime | None
    last_running_at: datetime | None
    off_site: bool
    utilisation: float | None = Field(description="running hours / hours since first report")


class ScheduleRow(BaseModel):
    number: int
    due: date
    principal: MoneyAmount
    interest: MoneyAmount
    rent: MoneyAmount
    vat: MoneyAmount
    total: MoneyAmount
    balance: MoneyAmount
    residual: bool
    paid: bool = Field(default=False, description="paid in full")
    paid_amount: MoneyAmount = Field(default=Decimal(0), description="paid toward this rent")
    penalty: MoneyAmount = Field(default=Decimal(0), description="penalty interest owed today")


class QuoteRead(BaseModel):
    financed: MoneyAmount
    annual_rate: Decimal = Field(description="nominal, a fraction, 8 places")
    rent: MoneyAmount = Field(description="the level rent before any profile weight")
    total_rent: MoneyAmount
    total_interest: MoneyAmount
    schedule: list[ScheduleRow]


class ContractRead(BaseModel):
    id: str
    reference: str
    kind: LeaseKind
    stage: Stage
    lessee_name: str
    lessee_credit_code: str
    vendor_name: str
    cost: MoneyAmount
    down_payment: MoneyAmount
    financed: MoneyAmount
    annual_rate: Decimal
    rent: MoneyAmount
    periods: int
    frequency_months: int
    timing: Timing
    method: RentMethod
    residual: MoneyAmount
    handling_fee: MoneyAmount
    deposit: MoneyAmount
    vat_rate: Decimal | None
    useful_life_months: int | None
    start: date
    site_name: str
    rents_paid: int = Field(description="rents paid in full")
    rents_total: int
    next_due: date | None
    penalty_rate: Decimal
    paid_total: MoneyAmount = Field(description="every payment received")
    overdue: MoneyAmount = Field(description="rent and VAT past due and unpaid today")
    penalty_owed: MoneyAmount = Field(description="penalty interest owed today")
    title_ledger_index: int | None
    assets: list[AssetRead]
    created_at: datetime


class LessorRowRead(BaseModel):
    number: int
    due: date
    payment: MoneyAmount
    finance_income: MoneyAmount
    principal: MoneyAmount
    vat: MoneyAmount
    net_investment: MoneyAmount
    unearned_income: MoneyAmount


class LiabilityRowRead(BaseModel):
    number: int
    due: date
    opening: MoneyAmount
    interest: MoneyAmount
    payment: MoneyAmount
    closing: MoneyAmount


class AssetRowRead(BaseModel):
    period: int
    ending: date
    opening: MoneyAmount
    depreciation: MoneyAmount
    closing: MoneyAmount


class AccountsRead(BaseModel):
    gross_investment: MoneyAmount
    net_investment: MoneyAmount
    unearned_income: MoneyAmount
    lessor: list[LessorRowRead]
    initial_liability: MoneyAmount
    right_of_use: MoneyAmount
    liability: list[LiabilityRowRead]
    right_of_use_schedule: list[AssetRowRead]


class BuyOutRead(BaseModel):
    on: date
    rents_paid: int
    outstanding_principal: MoneyAmount
    interest: MoneyAmount
    fee: MoneyAmount
    penalty: MoneyAmount
    credit: MoneyAmount = Field(description="already paid toward the next rent")
    total: MoneyAmount
