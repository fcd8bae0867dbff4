from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from anxin.core.bounds import SaneDate
from anxin.homecare import service, sleep_service, teams
from anxin.homecare.models import CareTeam
from anxin.homecare.schemas import (
    CareTeamCreate,
    CareTeamMemberAdd,
    CareTeamRead,
    ElderCreate,
    ElderRead,
    FamilyLink,
    FamilyMemberRead,
    HouseholdCreate,
    HouseholdModeUpdate,
    HouseholdRead,
    SleepReportRead,
)
from anxin.homecare.sleep import last_night
from anxin.people.deps import ContextDep, CurrentPrincipal, SessionDep

router = APIRouter(prefix="/api/v1", tags=["homecare"])


@router.get("/households", response_model=list[HouseholdRead])
def list_households(principal: CurrentPrincipal, session: SessionDep) -> list[HouseholdRead]:
    rows = service.list_households(session=session, principal=principal)
    return [HouseholdRead.model_validate(h) for h in rows]


@router.post("/households", response_model=HouseholdRead, status_code=201)
def create_household(
    data: HouseholdCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> HouseholdRead:
    household = service.create_household(
        session=session, principal=principal, data=data, now=context.clock.now()
    )
    return HouseholdRead.model_validate(household)


@router.get("/households/{household_id}", response_model=HouseholdRead)
def get_household(
    household_id: str, principal: CurrentPrincipal, session: SessionDep
) -> HouseholdRead:
    return HouseholdRead.model_validate(
        service.get_household(session=session, principal=principal, household_id=household_id)
    )


@router.put("/households/{household_id}/mode", response_model=HouseholdRead)
def set_mode(
    household_id: str, data: HouseholdModeUpdate, principal: CurrentPrincipal, session: SessionDep
) -> HouseholdRead:
    household = service.set_household_mode(
        session=session, principal=principal, household_id=household_id, mode=data.mode
    )
    return HouseholdRead.model_validate(household)


@router.get("/elders", response_model=list[ElderRead])
def list_elders(principal: CurrentPrincipal, session: SessionDep) -> list[ElderRead]:
    return [
        ElderRead.model_validate(e)
        for e in service.list_elders(session=session, principal=principal)
    ]


@router.post("/elders", response_model=ElderRead, status_code=201)
def create_elder(
    data: ElderCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> ElderRead:
    elder = service.create_elder(
        session=session, principal=principal, data=data, now=context.clock.now()
    )
    return ElderRead.model_validate(elder)


@router.get("/elders/{elder_id}", response_model=ElderRead)
def get_elder(elder_id: str, principal: CurrentPrincipal, session: SessionDep) -> ElderRead:
    return ElderRead.model_validate(
        service.get_elder(session=session, principal=principal, elder_id=elder_id)
    )


@router.get("/elders/{elder_id}/family", response_model=list[FamilyMemberRead])
def list_family(
    elder_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[FamilyMemberRead]:
    rows = service.family_of(session=session, principal=principal, elder_id=elder_id)
    return [FamilyMemberRead.model_validate(f) for f in rows]


@router.post("/elders/{elder_id}/family", response_model=FamilyMemberRead, status_code=201)
def link_family(
    elder_id: str,
    data: FamilyLink,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> FamilyMemberRead:
    link = service.link_family_member(
        session=session, principal=principal, elder_id=elder_id, data=data, now=context.clock.now()
    )
    return FamilyMemberRead.model_validate(link)


@router.get("/elders/{elder_id}/sleep-report", response_model=SleepReportRead)
def sleep_report(
    elder_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
    night: SaneDate | None = None,
) -> SleepReportRead:
    """The sleep report for the night starting on the evening of `night` (default: the latest
    night that has begun, Asia/Shanghai). A family sees only its own elder."""
    device_id, report = sleep_service.elder_sleep_report(
        session=session,
        principal=principal,
        elder_id=elder_id,
        night=night or last_night(context.clock.now()),
    )
    return SleepReportRead.model_validate(
        {**report.as_dict(), "elder_id": elder_id, "device_id": device_id}
    )


def _team(session: Session, team: CareTeam) -> CareTeamRead:
    return CareTeamRead(
        id=team.id,
        name=team.name,
        lead_user_id=team.lead_user_id,
        member_user_ids=teams.members_of(session=session, team_id=team.id),
        created_at=team.created_at,
    )


@router.get("/care-teams", response_model=list[CareTeamRead])
def list_care_teams(principal: CurrentPrincipal, session: SessionDep) -> list[CareTeamRead]:
    """Butler teams; a team's lead is the last escalation step for its butlers' elders."""
    return [_team(session, t) for t in teams.list_teams(session=session, principal=principal)]


@router.post("/care-teams", response_model=CareTeamRead, status_code=201)
def create_care_team(
    data: CareTeamCreate, principal: CurrentPrincipal, session: SessionDep, context: ContextDep
) -> CareTeamRead:
    team = teams.create_team(
        session=session, principal=principal, data=data, now=context.clock.now()
    )
    return _team(session, team)


@router.post("/care-teams/{team_id}/members", response_model=CareTeamRead, status_code=201)
def add_care_team_member(
    team_id: str,
    data: CareTeamMemberAdd,
    principal: CurrentPrincipal,
    session: SessionDep,
    context: ContextDep,
) -> CareTeamRead:
    member = teams.add_member(
        session=session,
        principal=principal,
        team_id=team_id,
        user_id=data.user_id,
        now=context.clock.now(),
    )
    team = session.get(CareTeam, member.team_id)
    assert team is not None
    return _team(session, team)
