"""JSON API of long-term care insurance: thin wrappers over the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from anxin.ltc import flows, service, settlement_service
from anxin.ltc.schemas import (
    ClaimLineRead,
    ContributionCreate,
    FundEntryRead,
    FundMonth,
    RegisterCount,
    RuleCreate,
    RuleRead,
    SettlementRead,
    SettlementRun,
)
from anxin.people.deps import CurrentPrincipal, UnitDep

router = APIRouter(prefix="/api/v1/ltc", tags=["ltc"])


@router.post("/contributions", status_code=201, response_model=FundEntryRead)
def post_contribution(
    data: ContributionCreate, principal: CurrentPrincipal, uow: UnitDep
) -> FundEntryRead:
    entry = service.contribute(session=uow.session, principal=principal, data=data, now=uow.now())
    return FundEntryRead.model_validate(entry)


@router.get("/fund", response_model=list[FundMonth])
def fund(principal: CurrentPrincipal, uow: UnitDep) -> list[FundMonth]:
    return service.fund_by_month(session=uow.session, principal=principal)


@router.get("/insured/count", response_model=RegisterCount)
def insured_count(principal: CurrentPrincipal, uow: UnitDep) -> RegisterCount:
    service.require(principal, service.READERS)
    return RegisterCount(
        insured=service.count_insured(session=uow.session, org_id=principal.organisation_id)
    )


@router.post("/rules", status_code=201, response_model=RuleRead)
def post_rule(data: RuleCreate, principal: CurrentPrincipal, uow: UnitDep) -> RuleRead:
    rule = settlement_service.add_rule(
        session=uow.session, principal=principal, data=data, now=uow.now()
    )
    return RuleRead.model_validate(rule)


@router.post("/settlements/{month}", status_code=201, response_model=SettlementRun)
def post_settlement(month: str, principal: CurrentPrincipal, uow: UnitDep) -> SettlementRun:
    """Settle and close a month (the LTC administrator); a closed month answers 409."""
    service.require(principal, service.ADMINS)
    result = flows.settle_and_anchor(
        uow=uow, org_id=principal.organisation_id, month=settlement_service.parse_month(month)
    )
    return SettlementRun(
        settlement=SettlementRead.model_validate(result.settlement), reconciled=result.reconciled
    )


@router.get("/settlements/{month}", response_model=SettlementRead)
def get_settlement(month: str, principal: CurrentPrincipal, uow: UnitDep) -> SettlementRead:
    found = settlement_service.get_settlement(
        session=uow.session, principal=principal, month=settlement_service.parse_month(month)
    )
    return SettlementRead.model_validate(found)


@router.get("/settlements/{month}/rejections", response_model=list[ClaimLineRead])
def get_rejections(
    month: str,
    principal: CurrentPrincipal,
    uow: UnitDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ClaimLineRead]:
    found = settlement_service.get_settlement(
        session=uow.session, principal=principal, month=settlement_service.parse_month(month)
    )
    lines = settlement_service.rejected_lines(session=uow.session, settlement=found, limit=limit)
    return [ClaimLineRead.model_validate(line) for line in lines]
