"""The actuary's workbench API: any shipped table at any rate, and the guarantee's time value.

Values come from ``life.actuarial`` (summed directly, no commutation columns inside); the
commutation columns D, N, C, M are computed here only to be shown, as actuaries still read them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator

from anxin.core.errors import InvalidInput, NotFound
from anxin.core.security import Principal, Role
from anxin.life.actuarial import annuity_due, assurance
from anxin.life.guarantee import GuaranteeValue, value_guarantee
from anxin.life.ifrs17 import (
    BestEstimate,
    GroupResult,
    ModelPoint,
    measure_group,
    roll_forward_csv,
)
from anxin.life.product import (
    MAX_ISSUE_AGE,
    PREMIUM_TERMS,
    PRICING_RATES,
    TABLE_CODES,
    Policy,
)
from anxin.life.scenarios import ILLUSTRATIVE_CURVE, HullWhite, YieldCurve
from anxin.life.tables import MortalityTable, Sex, table_by_name
from anxin.people.deps import require_roles

TABLES = TABLE_CODES
Actuary = Annotated[Principal, Depends(require_roles(Role.ACTUARY, Role.AGENT, Role.ADMIN))]

router = APIRouter(prefix="/api/v1/life", tags=["life"])


class TableInfo(BaseModel):
    name: str
    max_age: int
    source: str


class TableRow(BaseModel):
    age: int
    qx: float
    lx: float
    annuity_due: float = Field(description="ä_x, whole life, annual in advance")
    assurance: float = Field(description="A_x, paid at the end of the year of death")
    assurance_second_moment: float = Field(description="²A_x")
    life_expectancy: float = Field(description="complete expectation e°_x ≈ e_x + 1/2")
    D: float
    N: float
    C: float
    M: float


def table_values(table: MortalityTable, rate: float, ages: range) -> list[TableRow]:
    """One row per age of the table's values at ``rate``."""
    x = np.arange(ages.start, ages.stop)
    every_age = np.arange(table.max_age + 1)
    lx = table.lx[: table.max_age + 2]
    v = 1.0 / (1.0 + rate)
    d_col = v**every_age * lx[:-1]
    c_col = v ** (every_age + 1) * (lx[:-1] - lx[1:])
    n_col = np.cumsum(d_col[::-1])[::-1]
    m_col = np.cumsum(c_col[::-1])[::-1]
    curtate = np.array([lx[a + 1 : -1].sum() / lx[a] for a in x])
    a_due = annuity_due(table, x, rate)
    a_x = assurance(table, x, rate)
    a2_x = assurance(table, x, rate, moment=2)
    q = table.qx(x)
    return [
        TableRow(
            age=int(age),
            qx=float(q[k]),
            lx=float(lx[age]),
            annuity_due=float(a_due[k]),
            assurance=float(a_x[k]),
            assurance_second_moment=float(a2_x[k]),
            life_expectancy=float(curtate[k] + 0.5),
            D=float(d_col[age]),
            N=float(n_col[age]),
            C=float(c_col[age]),
            M=float(m_col[age]),
        )
        for k, age in enumerate(x)
    ]


def _table(name: str) -> MortalityTable:
    if name.upper() not in TABLES:
        raise NotFound(f"no mortality table {name!r}; shipped: {', '.join(TABLES)}")
    return table_by_name(name.upper())


@router.get("/tables")
def list_tables(principal: Actuary) -> list[TableInfo]:
    """Every shipped mortality table with its source."""
    return [
        TableInfo(name=n, max_age=(t := table_by_name(n)).max_age, source=t.source) for n in TABLES
    ]


@router.get("/tables/values")
def get_table_values(
    principal: Actuary,
    table: Annotated[str, Query(description="CL1..CL6 or SULT", max_length=8)],
    rate: Annotated[float, Query(gt=-0.5, lt=1.0, description="effective annual rate")],
    age_from: Annotated[int, Query(ge=0, le=130)] = 0,
    age_to: Annotated[int, Query(ge=0, le=130)] = 105,
) -> list[TableRow]:
    """ä, A, ²A, life expectancy and the commutation columns for ages age_from..age_to."""
    chosen = _table(table)
    if age_from > age_to:
        raise InvalidInput.field("age_from", "must not exceed age_to")
    top = min(age_to, chosen.max_age)
    return table_values(chosen, rate, range(min(age_from, top), top + 1))


class CurveIn(BaseModel):
    maturities: list[Annotated[float, Field(gt=0, le=100)]] = Field(min_length=1, max_length=60)
    zero_rates: list[Annotated[float, Field(gt=-0.5, lt=1.0)]] = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _shape(self) -> CurveIn:
        if len(self.maturities) != len(self.zero_rates):
            raise ValueError("give one zero rate per maturity")
        if any(b <= a for a, b in pairwise(self.maturities)):
            raise ValueError("maturities must be strictly increasing")
        return self


class PolicyIn(BaseModel):
    issue_age: int = Field(ge=0, le=MAX_ISSUE_AGE)
    sex: Sex
    pay_term: int
    sum_assured: Decimal = Field(gt=0, le=Decimal("1e9"), decimal_places=2)
    issue_date: date = Field(
        ge=PRICING_RATES[0].effective_from,
        le=date(2100, 12, 31),
        description="sets the pricing rate",
    )

    @model_validator(mode="after")
    def _term(self) -> PolicyIn:
        if self.pay_term not in PREMIUM_TERMS:
            raise ValueError(f"pay_term must be a whole number of years, 1..{PREMIUM_TERMS[-1]}")
        return self


class GuaranteeRequest(BaseModel):
    curve: CurveIn
    mean_reversion: float = Field(default=0.1, gt=0, le=5)
    volatility: float = Field(default=0.01, ge=0, le=0.5)
    scenarios: int = Field(default=1000, ge=2, le=5_000, multiple_of=2)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)
    policies: list[PolicyIn] = Field(min_length=1, max_length=20)


class GuaranteeRead(BaseModel):
    deterministic_pv: float
    stochastic_pv: float
    tvog: float
    standard_error: float
    interval95: tuple[float, float]
    scenarios: int

    @classmethod
    def of(cls, value: GuaranteeValue) -> GuaranteeRead:
        return cls(
            deterministic_pv=value.deterministic_pv,
            stochastic_pv=value.stochastic_pv,
            tvog=value.tvog,
            standard_error=value.standard_error,
            interval95=value.interval95,
            scenarios=value.scenarios,
        )


class GuaranteeResult(BaseModel):
    portfolio: GuaranteeRead
    policies: list[GuaranteeRead]


@router.post("/guarantee")
def post_guarantee(request: GuaranteeRequest, principal: Actuary) -> GuaranteeResult:
    """The time value of the guarantee per policy and for the portfolio (Hull–White)."""
    curve = YieldCurve(tuple(request.curve.maturities), tuple(request.curve.zero_rates))
    model = HullWhite(curve, a=request.mean_reversion, sigma=request.volatility)
    policies = [Policy(**p.model_dump()) for p in request.policies]
    total, singles = value_guarantee(policies, model, request.scenarios, seed=request.seed)
    return GuaranteeResult(
        portfolio=GuaranteeRead.of(total), policies=[GuaranteeRead.of(s) for s in singles]
    )


class ModelPointIn(PolicyIn):
    count: int = Field(ge=1, le=10_000_000)


class BestEstimateIn(BaseModel):
    mortality_multiplier: float = Field(default=0.9, gt=0, le=5)
    surrender_by_policy_year: list[Annotated[float, Field(ge=0, lt=1)]] = Field(
        default=[0.02, 0.03, 0.04, 0.04, 0.05, 0.03, 0.02], min_length=1, max_length=100
    )
    maintenance_per_policy: float = Field(default=60.0, ge=0, le=1e6)
    expense_inflation: float = Field(default=0.02, gt=-0.5, lt=1)
    ra_confidence: float = Field(default=0.75, ge=0.5, lt=1)

    def basis(self) -> BestEstimate:
        data = self.model_dump()
        data["surrender_by_policy_year"] = tuple(self.surrender_by_policy_year)
        return BestEstimate(**data)


class GroupRequest(BaseModel):
    curve: CurveIn | None = Field(default=None, description="locked-in; default illustrative")
    years: int = Field(default=10, ge=1, le=60)
    best_estimate: BestEstimateIn = Field(default_factory=BestEstimateIn)
    points: list[ModelPointIn] = Field(min_length=1, max_length=50)


def _measure(request: GroupRequest) -> GroupResult:
    curve = (
        YieldCurve(tuple(request.curve.maturities), tuple(request.curve.zero_rates))
        if request.curve
        else ILLUSTRATIVE_CURVE
    )
    points = [
        ModelPoint(Policy(**p.model_dump(exclude={"count"})), p.count) for p in request.points
    ]
    horizon = min(p.policy.basis.table.max_age + 1 - p.policy.issue_age for p in points)
    if request.years > horizon:
        raise InvalidInput.field("years", f"the youngest cover ends after {horizon} years")
    return measure_group(points, curve, request.best_estimate.basis(), request.years)


@router.post("/ifrs17")
def post_ifrs17(request: GroupRequest, principal: Actuary) -> GroupResult:
    """IFRS 17 (GMM) for one group: initial recognition and the yearly roll-forward (each
    year also carries its BEL rolled forward and valued afresh, unrounded, for audit)."""
    return _measure(request)


@router.post(
    "/ifrs17.csv",
    response_class=Response,  # errors stay JSON; only the 200 is CSV
    responses={200: {"description": "The roll-forward, CSV", "content": {"text/csv": {}}}},
)
def post_ifrs17_csv(request: GroupRequest, principal: Actuary) -> Response:
    """The same roll-forward as CSV, one row per year."""
    return Response(roll_forward_csv(_measure(request)), media_type="text/csv; charset=utf-8")
