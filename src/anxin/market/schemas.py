"""Request and read schemas of the market API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field

from anxin.core.bounds import SaneDate
from anxin.core.money import Money, MoneyAmount
from anxin.market.models import (
    DisputeStatus,
    ListingStatus,
    OrderStatus,
    Outcome,
    PaymentKind,
    PaymentTerm,
    ProposalStatus,
    ShipmentStatus,
)

# A kilogram amount: positive, one decimal, at most 10,000 tonnes in one line.
Kilograms = Annotated[Decimal, Gt(0), Le(10_000_000), Field(decimal_places=1)]
PricePerKg = Annotated[Decimal, Gt(0), Le(100_000), Field(decimal_places=2)]
Percent = Annotated[float, Ge(0), Le(100)]
Parameter = Annotated[str, Field(min_length=1, max_length=40)]
ReductionPercent = Annotated[Decimal, Gt(0), Le(100), Field(decimal_places=2)]
IdempotencyKey = Annotated[str, Field(min_length=8, max_length=120)]


class ListingCreate(BaseModel):
    lot_id: str = Field(max_length=64)
    grade: str = Field(min_length=1, max_length=16)
    quantity_kg: Kilograms
    price_per_kg: PricePerKg
    region: str = Field(min_length=1, max_length=40)
    delivery_from: SaneDate
    delivery_to: SaneDate


class TraceBadge(BaseModel):
    gtin: str
    lot: str
    product_zh: str
    product_en: str
    farm: str
    url: str | None
    checks: dict[str, int]
    verdict: str
    limits: dict[str, float]


class ListingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str  # the lot is named by its trace badge (GTIN and lot), not by the trace row's id
    crop: str
    grade: str
    quantity_kg: Decimal
    available_kg: Decimal
    price_per_kg: Decimal
    region: str
    delivery_from: date
    delivery_to: date
    status: ListingStatus
    created_at: datetime
    trace: TraceBadge | None = None


class RfqCreate(BaseModel):
    crop: str = Field(min_length=1, max_length=80)
    grade: str = Field(min_length=1, max_length=16)
    quantity_kg: Kilograms
    target_price_per_kg: PricePerKg | None = None
    region: str = Field(min_length=1, max_length=40)
    delivery_by: SaneDate
    quotes_by: SaneDate | None = None  # the last day quotes are taken; the delivery day if left out


class RfqRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    crop: str
    grade: str
    quantity_kg: Decimal
    target_price_per_kg: Decimal | None
    region: str
    delivery_by: date
    quotes_by: date
    status: ListingStatus
    closed_reason: str | None  # accepted | withdrawn | expired
    closed_at: datetime | None
    created_at: datetime


class OrderCreate(BaseModel):
    listing_id: str = Field(max_length=64)
    rfq_id: str | None = Field(default=None, max_length=64)
    quantity_kg: Kilograms
    price_per_kg: PricePerKg | None = None  # the listing's price when left out
    payment_term: PaymentTerm
    tolerances: dict[Parameter, Percent] = Field(default_factory=dict, max_length=10)
    delivery_location: str | None = Field(
        default=None, max_length=400, pattern=r"^urn:epc:id:sgln:[0-9]+\.[0-9]*\.[0-9A-Za-z]+$"
    )


class OfferDecision(BaseModel):
    accept: bool


class ShipmentCreate(BaseModel):
    quantity_kg: Kilograms


class SampleResult(BaseModel):
    values: dict[Parameter, Annotated[float, Ge(0), Le(1000)]] = Field(max_length=20)
    lab: str = Field(min_length=1, max_length=120)
    sample_id: str = Field(min_length=1, max_length=60)


class PaymentCreate(BaseModel):
    """A payment (the buyer's) or a refund (the seller's); the same key again is the same one."""

    amount: Annotated[Money, Gt(0)]
    paid_on: SaneDate
    idempotency_key: IdempotencyKey


class ProposalCreate(BaseModel):
    """An outcome for a dispute: a reduction (an amount or a percentage of the delivery's
    value), a return of some or all of the delivery, or the claim withdrawn."""

    outcome: Outcome
    amount: Annotated[Money, Gt(0)] | None = None
    percent: ReductionPercent | None = None
    return_kg: Kilograms | None = None
    note: str | None = Field(default=None, max_length=400)


class ProposalDecision(BaseModel):
    accept: bool


class ShipmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    quantity_kg: Decimal
    status: ShipmentStatus
    shipping_event_id: str
    receiving_event_id: str | None
    sample: dict[str, Any] | None
    deviations: list[Any] | None
    shipped_at: datetime
    received_at: datetime | None
    decided_on: date | None


class ProposalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: int
    proposed_by: str  # buyer | seller
    outcome: Outcome
    amount: MoneyAmount | None
    percent: Decimal | None
    return_kg: Decimal | None
    adjustment: MoneyAmount
    note: str | None
    status: ProposalStatus
    proposed_at: datetime
    decided_at: datetime | None


class DisputeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    shipment_id: str
    reason: str
    evidence: dict[str, Any]
    status: DisputeStatus
    opened_at: datetime
    outcome: Outcome | None
    adjustment: MoneyAmount | None
    return_kg: Decimal | None
    return_event_id: str | None
    resolved_at: datetime | None
    proposals: list[ProposalRead] = []


class ChargeRead(BaseModel):
    delivery: int  # 0: the prepayment of the whole contract
    due: date
    amount: MoneyAmount


class AccountRead(BaseModel):
    charged: MoneyAmount
    paid: MoneyAmount
    outstanding: list[ChargeRead]
    credit: MoneyAmount  # paid beyond what is owed, not yet refunded: the seller owes it back
    refunded: MoneyAmount


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    listing_id: str
    rfq_id: str | None
    offered_by: str
    quantity_kg: Decimal
    price_per_kg: Decimal
    payment_term: PaymentTerm
    tolerances: dict[str, float]
    delivery_location: str | None
    status: OrderStatus
    contract_no: str | None
    created_at: datetime
    contracted_on: date | None
    settled_at: datetime | None
    shipments: list[ShipmentRead] = []
    disputes: list[DisputeRead] = []
    account: AccountRead | None = None


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: PaymentKind
    amount: MoneyAmount
    paid_on: date
    recorded_at: datetime


class ErrorsRead(BaseModel):
    mase: float | None  # None: not finite (a flat history scored against a miss)
    smape: float


class ForecastRead(BaseModel):
    key: str
    chosen: str
    backtest: dict[str, ErrorsRead]
    beats_baseline: bool
    history: list[float]
    mean: list[float]
    intervals: dict[str, list[list[float]]]
    starts: str  # the first week of the history (ISO date)
    created_at: datetime
