"""API shapes for quotes and illustrations of the increasing whole-life product."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from anxin.core.bounds import SaneDate
from anxin.core.money import Money, MoneyAmount
from anxin.life.product import (
    MAX_ISSUE_AGE,
    MIN_ISSUE_AGE,
    PAYMENT_MODES,
    PREMIUM_TERMS,
    RATE_LIMIT,
)
from anxin.life.tables import Sex


class QuoteRequest(BaseModel):
    """Either the first-year sum assured or the annual gross premium, not both."""

    model_config = ConfigDict(extra="forbid")

    issue_age: int = Field(ge=MIN_ISSUE_AGE, le=MAX_ISSUE_AGE, description="age at issue")
    sex: Sex
    pay_term: int = Field(
        ge=1, le=PREMIUM_TERMS[-1], description="premium term in whole years; 1 is single"
    )
    sum_assured: Money | None = Field(default=None, gt=0, description="SA_1, yuan")
    premium: Money | None = Field(default=None, gt=0, description="annual gross premium, yuan")
    issue_date: SaneDate | None = Field(default=None, description="defaults to today (Shanghai)")
    growth: Decimal | None = Field(
        default=None, ge=0, le=Decimal("0.1"), description="SA growth; default: pricing rate"
    )
    years: int | None = Field(default=None, ge=1, le=106, description="rows to illustrate")
    table: Literal["CL1", "CL2", "CL3", "CL4", "CL5", "CL6", "SULT"] | None = Field(
        default=None, description="mortality table; default CL non-pension table one by sex"
    )
    rate: Decimal | None = Field(
        default=None, gt=0, le=RATE_LIMIT, description="pricing rate; default: the dated rate"
    )
    mode: int = Field(
        default=1, description="premium instalments a year: 1, 2, 4 or 12 (1 for a single premium)"
    )

    @model_validator(mode="after")
    def one_amount(self) -> Self:
        if (self.sum_assured is None) == (self.premium is None):
            raise ValueError("give exactly one of sum_assured and premium")
        if self.mode not in PAYMENT_MODES:
            raise ValueError("mode: premium instalments a year must be 1, 2, 4 or 12")
        return self


class QuoteRead(BaseModel):
    issue_age: int
    sex: Sex
    pay_term: int
    issue_date: date
    table: str
    pricing_rate: Decimal
    growth: Decimal
    sum_assured: MoneyAmount
    net_premium: MoneyAmount
    gross_premium: MoneyAmount
    mode: int = Field(description="premium instalments a year")
    instalment: MoneyAmount = Field(description="one instalment: the annual premium / mode")
    total_premiums: MoneyAmount


class IllustrationRowRead(BaseModel):
    policy_year: int
    age: int
    premium: MoneyAmount
    cumulative_premium: MoneyAmount
    sum_assured: MoneyAmount
    death_benefit: MoneyAmount
    cash_value: MoneyAmount
    surrender_irr: float | None = Field(description="annual IRR of surrendering at year end")


class IllustrationRead(BaseModel):
    quote: QuoteRead
    rows: list[IllustrationRowRead]
