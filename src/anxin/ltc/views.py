"""JSON API of long-term care insurance: thin wrappers over the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from anxin.core.bounds import SaneDate
from anxin.ltc import (
    application_service,
    case_service,
    dashboard,
    flows,
    plan_service,
    rental_service,
    service,
    settlement_service,
    visit_service,
)
from anxin.ltc.applications import ApplicationState
from anxin.ltc.schemas import (
    AppealCreate,
    ApplicationCreate,
    ApplicationRead,
    AssessmentCreate,
    CaregiverCreate,
    CaregiverRead,
    CaseRead,
    CheckIn,
    CheckOut,
    ClaimLineRead,
    ContributionCreate,
    Dashboard,
    DepotCreate,
    DepotRead,
    FundEntryRead,
    FundMonth,
    InstitutionCreate,
    InstitutionRead,
    PlanCreate,
    PlanRead,
    RegisterCount,
    RentalCreate,
    RentalRead,
    RentalReturn,
    RuleCreate,
    RuleRead,
    SettlementRead,
    SettlementRun,
    ViewerCreate,
    ViewerRead,
    VisitRead,
)
from anxin.people.deps import CurrentPrincipal, UnitDep

router = APIRouter(prefix="/api/v1/ltc", tags=["ltc"])
# Row ids are 64-bit: a larger number is a 422, not an overflow in the database.
AppId = Annotated[int, Path(ge=1, le=2**63 - 1)]


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


@router.post("/applications", status_code=201, response_model=ApplicationRead)
def post_application(
    data: ApplicationCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ApplicationRead:
    """An initial application or a reassessment on request; a self-assessment showing
    independence in daily living is declined at the gate with the reason."""
    found = application_service.apply(
        session=uow.session, principal=principal, data=data, now=uow.now()
    )
    return ApplicationRead.model_validate(found)


@router.get("/applications", response_model=list[ApplicationRead])
def list_applications(
    principal: CurrentPrincipal,
    uow: UnitDep,
    state: ApplicationState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApplicationRead]:
    found = application_service.listing(
        session=uow.session, principal=principal, state=state, limit=limit
    )
    return [ApplicationRead.model_validate(a) for a in found]


@router.get("/applications/{ltc_application_id}", response_model=ApplicationRead)
def get_application(
    ltc_application_id: AppId, principal: CurrentPrincipal, uow: UnitDep
) -> ApplicationRead:
    """The application, its assessments and, once graded, the entitlement in force."""
    return application_service.read(
        session=uow.session, principal=principal, application_id=ltc_application_id,
        now=uow.now(),
    )  # fmt: skip


@router.post(
    "/applications/{ltc_application_id}/assessments",
    status_code=201,
    response_model=ApplicationRead,
)
def post_assessment(
    ltc_application_id: AppId, data: AssessmentCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ApplicationRead:
    """One assessor's scored visit; two that agree (or a third on disagreement) set the grade."""
    application_service.assess(
        session=uow.session, principal=principal, application_id=ltc_application_id, data=data,
        now=uow.now(),
    )  # fmt: skip
    return application_service.read(
        session=uow.session, principal=principal, application_id=ltc_application_id,
        now=uow.now(),
    )  # fmt: skip


@router.post(
    "/applications/{ltc_application_id}/appeal", status_code=201, response_model=ApplicationRead
)
def post_appeal(
    ltc_application_id: AppId, data: AppealCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ApplicationRead:
    found = application_service.appeal(
        session=uow.session, principal=principal, application_id=ltc_application_id, data=data,
        now=uow.now(),
    )  # fmt: skip
    return ApplicationRead.model_validate(found)


@router.get("/reassessments/due", response_model=list[ApplicationRead])
def due_reassessments(
    principal: CurrentPrincipal,
    uow: UnitDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ApplicationRead]:
    """Beneficiaries whose grade is due for its scheduled review, by their latest decision."""
    found = application_service.due_reassessments(
        session=uow.session, principal=principal, now=uow.now(), limit=limit
    )
    return [ApplicationRead.model_validate(a) for a in found]


@router.post("/institutions", status_code=201, response_model=InstitutionRead)
def post_institution(
    data: InstitutionCreate, principal: CurrentPrincipal, uow: UnitDep
) -> InstitutionRead:
    row = visit_service.create_institution(
        session=uow.session, principal=principal, data=data, now=uow.now()
    )
    return InstitutionRead.model_validate(row)


@router.get("/institutions", response_model=list[InstitutionRead])
def list_institutions(principal: CurrentPrincipal, uow: UnitDep) -> list[InstitutionRead]:
    rows = visit_service.list_institutions(session=uow.session, principal=principal)
    return [InstitutionRead.model_validate(r) for r in rows]


@router.post(
    "/institutions/{institution_id}/caregivers", status_code=201, response_model=CaregiverRead
)
def post_caregiver(
    institution_id: AppId, data: CaregiverCreate, principal: CurrentPrincipal, uow: UnitDep
) -> CaregiverRead:
    """Register a caregiver (the scheme's administrator or the institution's own staff)."""
    row = visit_service.create_caregiver(
        session=uow.session, principal=principal, institution_id=institution_id, data=data,
        now=uow.now(),
    )  # fmt: skip
    return CaregiverRead.model_validate(row)


@router.get("/institutions/{institution_id}/caregivers", response_model=list[CaregiverRead])
def list_caregivers(
    institution_id: AppId, principal: CurrentPrincipal, uow: UnitDep
) -> list[CaregiverRead]:
    rows = visit_service.list_caregivers(
        session=uow.session, principal=principal, institution_id=institution_id
    )
    return [CaregiverRead.model_validate(r) for r in rows]


@router.post("/visits", status_code=201, response_model=VisitRead)
def post_check_in(data: CheckIn, principal: CurrentPrincipal, uow: UnitDep) -> VisitRead:
    """Check in at the beneficiary's door (the institution's staff); the time is the server's."""
    visit = visit_service.check_in(
        session=uow.session, principal=principal, data=data, now=uow.now()
    )
    if data.plan_id is not None:
        plan_service.link_visit(uow=uow, plan_id=data.plan_id, visit=visit)
    return visit_service.read(session=uow.session, visit=visit)


@router.post("/plans", status_code=201, response_model=PlanRead)
def post_plan(data: PlanCreate, principal: CurrentPrincipal, uow: UnitDep) -> PlanRead:
    """Put a visit on the institution's rota; not checked in within 30 minutes of its time, it
    raises an alarm to the institution."""
    plan = plan_service.create_plan(
        session=uow.session, principal=principal, data=data, now=uow.now()
    )
    return PlanRead.model_validate(plan)


@router.get("/plans", response_model=list[PlanRead])
def list_plans(
    principal: CurrentPrincipal,
    uow: UnitDep,
    day: Annotated[SaneDate | None, Query(description="local date; today by default")] = None,
) -> list[PlanRead]:
    """A day's planned visits (Asia/Shanghai) the caller may see."""
    start = application_service.day_start(day or application_service.today(uow.now()))
    rows = plan_service.plans_between(
        session=uow.session, principal=principal, start=start, end=start + timedelta(days=1)
    )
    return [PlanRead.model_validate(p) for p in rows]


@router.post("/visits/{visit_id}/check-out", response_model=VisitRead)
def post_check_out(
    visit_id: AppId, data: CheckOut, principal: CurrentPrincipal, uow: UnitDep
) -> VisitRead:
    """Check out with the services done; the answer lists every check that would stop payment
    or needs a person's look (too short, outside the home's radius, overlapping, ...)."""
    visit = visit_service.check_out(
        session=uow.session, principal=principal, visit_id=visit_id, data=data, now=uow.now()
    )
    return visit_service.read(session=uow.session, visit=visit)


@router.post("/visits/{visit_id}/confirm", response_model=VisitRead)
def post_confirm(visit_id: AppId, principal: CurrentPrincipal, uow: UnitDep) -> VisitRead:
    visit = visit_service.confirm(session=uow.session, principal=principal, visit_id=visit_id)
    return visit_service.read(session=uow.session, visit=visit)


@router.get("/visits", response_model=list[VisitRead])
def list_visits(
    principal: CurrentPrincipal,
    uow: UnitDep,
    beneficiary_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[VisitRead]:
    rows = visit_service.listing(
        session=uow.session, principal=principal, beneficiary_id=beneficiary_id, limit=limit
    )
    return [VisitRead.model_validate(r) for r in rows]


@router.get("/dashboard/{month}", response_model=Dashboard)
def get_dashboard(month: str, principal: CurrentPrincipal, uow: UnitDep) -> Dashboard:
    """The supervisor's month: insured, beneficiaries by grade, visits, rejections, the fund's
    balance and burn, and each institution's visits and rejection rate."""
    return dashboard.dashboard(
        session=uow.session, principal=principal, month=settlement_service.parse_month(month)
    )


@router.get(
    "/dashboard/{month}/institutions.csv",
    response_class=Response,  # errors stay JSON; only the 200 is CSV
    responses={200: {"description": "Institutions' quality, CSV", "content": {"text/csv": {}}}},
)
def get_dashboard_csv(month: str, principal: CurrentPrincipal, uow: UnitDep) -> Response:
    board = dashboard.dashboard(
        session=uow.session, principal=principal, month=settlement_service.parse_month(month)
    )
    return Response(
        content=dashboard.institutions_csv(board),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="ltc-institutions-{board.month}.csv"'
        },
    )


@router.post("/depots", status_code=201, response_model=DepotRead)
def post_depot(data: DepotCreate, principal: CurrentPrincipal, uow: UnitDep) -> DepotRead:
    depot = rental_service.create_depot(
        session=uow.session, principal=principal, data=data, now=uow.now()
    )
    return DepotRead(
        id=depot.id, name=depot.name, nursing_beds=depot.nursing_beds,
        wheelchairs=depot.wheelchairs, beds_out=0, wheelchairs_out=0,
    )  # fmt: skip


@router.get("/depots", response_model=list[DepotRead])
def list_depots(principal: CurrentPrincipal, uow: UnitDep) -> list[DepotRead]:
    """Each depot's stock and how much of it is out with beneficiaries today."""
    return rental_service.list_depots(session=uow.session, principal=principal, now=uow.now())


@router.post("/rentals", status_code=201, response_model=RentalRead)
def post_rental(data: RentalCreate, principal: CurrentPrincipal, uow: UnitDep) -> RentalRead:
    """Deliver a nursing bed or wheelchair; the depot must have one left."""
    rental = rental_service.deliver(
        session=uow.session, principal=principal, data=data, now=uow.now()
    )
    return RentalRead.model_validate(rental)


@router.post("/rentals/{rental_id}/return", response_model=RentalRead)
def post_rental_return(
    rental_id: AppId, data: RentalReturn, principal: CurrentPrincipal, uow: UnitDep
) -> RentalRead:
    rental = rental_service.give_back(
        session=uow.session, principal=principal, rental_id=rental_id, data=data
    )
    return RentalRead.model_validate(rental)


@router.get("/rentals", response_model=list[RentalRead])
def list_rentals(
    principal: CurrentPrincipal,
    uow: UnitDep,
    beneficiary_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RentalRead]:
    rows = rental_service.listing(
        session=uow.session, principal=principal, beneficiary_id=beneficiary_id, limit=limit
    )
    return [RentalRead.model_validate(r) for r in rows]


@router.post("/beneficiaries/{beneficiary_id}/viewers", status_code=201)
def post_viewer(
    beneficiary_id: AppId, data: ViewerCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ViewerRead:
    """Let the person (a login with role elder) or a family member (role family) see the
    beneficiary's entitlement page (the LTC administrator)."""
    row = case_service.add_viewer(
        session=uow.session, principal=principal, beneficiary_id=beneficiary_id,
        user_id=data.user_id, relation=data.relation, now=uow.now(),
    )  # fmt: skip
    return ViewerRead.model_validate(row)


@router.get("/me/case", response_model=CaseRead)
def my_case(principal: CurrentPrincipal, uow: UnitDep) -> CaseRead:
    """The insured person's (or their family's) case: grade, this month's subsidy, visits used
    and left, rented equipment and what it costs them."""
    found = case_service.viewed_case(session=uow.session, principal=principal)
    return CaseRead.model_validate(
        case_service.case(session=uow.session, beneficiary_id=found, now=uow.now())
    )
