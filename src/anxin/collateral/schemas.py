"""API shapes for warehouses, stock, pledges, releases, prices and stocktakes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from anxin.collateral.models import ZoneKind
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
    as_of: date
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
