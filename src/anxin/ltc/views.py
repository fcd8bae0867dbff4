"""JSON API of long-term care insurance: thin wrappers over the services."""

from __future__ import annotations

from fastapi import APIRouter

from anxin.ltc import service
from anxin.ltc.schemas import ContributionCreate, FundEntryRead, FundMonth, RegisterCount
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
