"""API shapes of the ltc domain. Money travels as strings with two places, as stored."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from anxin.core.money import Money
from anxin.ltc.settlement import Direction, Source

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class ContributionCreate(BaseModel):
    month: str = Field(pattern=MONTH, examples=["2026-11"])
    source: Source
    amount: Money = Field(gt=Decimal(0))
    reference: str = Field(min_length=1, max_length=64)


class FundEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    month: str
    direction: Direction
    category: str
    amount: Decimal
    reference: str
    created_at: datetime


class FundMonth(BaseModel):
    month: str
    paid_in: Decimal
    paid_out: Decimal
    balance: Decimal  # after the month


class RegisterCount(BaseModel):
    insured: int
