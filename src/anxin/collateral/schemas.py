"""API shapes for warehouses, stock, pledges, releases, prices and stocktakes.

``*Create`` models are what clients send; ``*Read`` models are what every JSON route returns.
Money and rates are ``Decimal`` and travel as strings (``"30000000.00"``, ``"0.7813"``), exactly
as stored; quantities are whole kilograms.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field, field_validator

from anxin.collateral.models import (
    PledgeState,
    PriceMark,
    ReceiptStatus,
    ReleaseStatus,
    ZoneKind,
)
from anxin.core.bounds import SaneDate
from anxin.core.money import Money

Rate = Field(ge=Decimal(0), le=Decimal(2), max_digits=6, decimal_places=4)


class CommodityCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    name_zh: str = Field(min_length=1, max_length=80)
    name_en: str = Field(min_length=1, max_length=80)
    unit: str = Field(default="t", max_length=8)


class OwnerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    credit_code: str | None = Field(default=None, max_length=32)


class WarehouseCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=400)


class ZoneCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    kind: ZoneKind
    polygon: list[tuple[float, float]] = Field(min_length=3, max_length=200)
    commodity: str | None = Field(default=None, description="commodity code stored in this bay")
    owner_id: str | None = None


class CraneCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    hook_tare_kg: float = Field(ge=0, le=100_000)
    config: dict[str, Any] = Field(default_factory=dict, description="LiftConfig overrides")


class OpeningBalance(BaseModel):
    zone: str = Field(min_length=1, max_length=32)
    commodity: str
    owner_id: str
    quantity_kg: int = Field(ge=0, le=10**10)


class ReceiptCreate(BaseModel):
    zone: str = Field(min_length=1, max_length=32)
    commodity: str
    owner_id: str


class PledgeCreate(BaseModel):
    borrower_id: str
    loan_reference: str = Field(min_length=1, max_length=64)
    loan_amount: Money = Field(gt=Decimal(0))
    receipt_ids: list[str] = Field(min_length=1, max_length=100)
    haircut: Decimal = Rate
    warning_ltv: Decimal = Rate
    margin_call_ltv: Decimal = Rate
    liquidation_ltv: Decimal | None = Field(
        default=None, ge=0, le=2, max_digits=6, decimal_places=4
    )
    min_quantity_t: Decimal = Field(default=Decimal(0), ge=0, max_digits=15, decimal_places=3)


class ReleaseCreate(BaseModel):
    quantity_t: Decimal = Field(gt=0, max_digits=15, decimal_places=3)
    note: str = Field(default="", max_length=500)


class Decision(BaseModel):
    note: str = Field(default="", max_length=500)


class PriceMarkIn(BaseModel):
    commodity: str
    as_of: SaneDate
    price: Money = Field(gt=Decimal(0), description="CNY per tonne")
    source: str = Field(default="manual", max_length=64)


class PriceMarks(BaseModel):
    marks: list[PriceMarkIn] = Field(min_length=1, max_length=1000)


class StocktakeCreate(BaseModel):
    zone: str = Field(min_length=1, max_length=32)
    commodity: str
    owner_id: str
    counted_kg: int = Field(ge=0, le=10**10)

    @field_validator("zone")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()


class MovementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    warehouse_id: str
    crane_id: str | None
    kind: str
    direction: str
    from_zone_id: str | None
    to_zone_id: str | None
    commodity_id: str | None
    owner_id: str | None
    quantity_kg: int
    weight_ok: bool
    flags: list[str]
    pledge_id: str | None
    release_id: str | None
    authorised: bool
    occurred_at: datetime
    details: dict[str, Any]


# --- read models ------------------------------------------------------------------------


class CommodityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name_zh: str
    name_en: str
    unit: str


class OwnerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    credit_code: str | None


class WarehouseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    address: str
    organisation_id: str


class ZoneRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    kind: ZoneKind
    polygon: list[tuple[float, float]] = Field(description="[x, y] in metres, crane frame")
    commodity_id: str | None
    owner_id: str | None


class CraneRead(BaseModel):
    # by name too: CraneRegistered is built from a CraneRead's fields
    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    id: str
    code: str
    scale_device_id: str
    positioner_device_id: str
    # The tare lives in the detector's config, not in a column of its own.
    hook_tare_kg: float | None = Field(
        default=None, validation_alias=AliasPath("config", "hook_tare_kg")
    )


class CraneRegistered(CraneRead):
    device_tokens: dict[str, str] = Field(
        description="device type -> device token; shown once, only here"
    )


class WarehouseDetail(WarehouseRead):
    zones: list[ZoneRead]
    cranes: list[CraneRead]


class ReceiptLedgerRef(BaseModel):
    action: str = Field(description="issue | pledge | release | cancel")
    seq: int = Field(description="the fact's sequence number on the ledger")


class ReceiptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str
    zone_id: str
    commodity_id: str
    owner_id: str
    quantity_kg: int
    status: ReceiptStatus
    pledge_id: str | None
    ledger: list[ReceiptLedgerRef] = Field(validation_alias="ledger_seqs")


class PledgeRead(BaseModel):
    """A pledge with its loan's terms (``list_pledges`` loads a list's loans at once)."""

    # by name too: PledgeDetail is built from a PledgeRead's fields
    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    id: str
    loan_reference: str = Field(validation_alias=AliasPath("loan", "reference"))
    loan_amount: Decimal = Field(validation_alias=AliasPath("loan", "principal"))
    outstanding: Decimal = Field(validation_alias=AliasPath("loan", "outstanding"))
    lender_org_id: str
    borrower_id: str
    warehouse_id: str
    commodity_id: str
    haircut: Decimal
    warning_ltv: Decimal
    margin_call_ltv: Decimal
    liquidation_ltv: Decimal | None
    min_quantity_kg: int
    state: PledgeState
    status: str = Field(description="latest valuation: ok | warning | margin_call | …")
    quantity_kg: int
    market_value: Decimal | None
    lending_value: Decimal | None
    ltv: Decimal | None
    below_minimum: bool
    valued_at: datetime | None
    created_at: datetime


class ValuationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    quantity_kg: int
    price: Decimal | None
    market_value: Decimal | None
    lending_value: Decimal | None
    outstanding: Decimal
    ltv: Decimal | None
    status: str
    cause: str


class PledgeDetail(PledgeRead):
    receipts: list[ReceiptRead]
    valuations: list[ValuationRead]


class ReleaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    pledge_id: str
    quantity_kg: int
    consumed_kg: int
    status: ReleaseStatus
    note: str
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str


class StocktakeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    zone_id: str
    commodity_id: str
    owner_id: str
    counted_kg: int
    book_kg: int
    difference_kg: int
    tolerance_kg: int
    lifts_since: int
    outcome: str = Field(description="matched | explained | raised")
    explanation: str
    counted_at: datetime


class StockLineRead(BaseModel):
    zone: str
    commodity: str
    owner_id: str
    owner: str
    quantity_kg: int
    quantity_t: Decimal
    receipt: str | None = Field(description="the live receipt's number")
    pledge_id: str | None = Field(
        description="the pledge holding the stock if it is yours; 'pledged' if another's"
    )


class PriceMarkRead(BaseModel):
    commodity: str
    as_of: date
    price: Decimal = Field(description="CNY per tonne")
    source: str

    @classmethod
    def of(cls, mark: PriceMark, commodity_code: str) -> PriceMarkRead:
        return cls(commodity=commodity_code, as_of=mark.as_of, price=mark.price, source=mark.source)


class RevaluationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    valued: int
    unpriced: int
    worsened: int
    improved: int
    alarms: list[str] = Field(description="alarm types raised by this re-valuation")


class ReceiptFact(BaseModel):
    seq: int
    action: str | None = Field(description="issue, pledge, release or cancel")
    stock_key: str | None = Field(description="warehouse:bay:commodity")
    body: Any = Field(
        description="the fact as stored on the ledger; null if erased, or withheld from a "
        "caller outside the organisation that anchored it"
    )


class DoublePledge(BaseModel):
    stock_key: str
    first: ReceiptFact = Field(description="the fact of the pledge that holds the stock")
    second: ReceiptFact = Field(description="the later fact that pledged it again")


class ReceiptFacts(BaseModel):
    entries: list[ReceiptFact]
    double_pledges: list[DoublePledge]
