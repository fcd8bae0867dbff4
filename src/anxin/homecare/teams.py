"""Butler care teams and their leads (the last step of a care escalation). Flush, never commit."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.homecare.models import CareTeam, CareTeamMember
from anxin.homecare.schemas import CareTeamCreate
from anxin.people import service as people

if TYPE_CHECKING:
    from anxin.people.models import User

TEAM_READERS = frozenset({Role.ADMIN, Role.BUTLER})


def _butler(session: Session, principal: Principal, user_id: str, field: str) -> User:
    user = people.user_by_id(session=session, user_id=user_id)
    if user is None or user.organisation_id != principal.organisation_id:
        raise InvalidInput.field(field, f"no user {user_id} in your organisation")
    if user.role not in (Role.BUTLER, Role.ADMIN):
        raise InvalidInput.field(field, "must be a butler (or an administrator)")
    return user


def list_teams(*, session: Session, principal: Principal) -> list[CareTeam]:
    if principal.role not in TEAM_READERS:
        raise PermissionDenied(f"role {principal.role.value!r} may not see care teams")
    stmt = select(CareTeam).where(CareTeam.organisation_id == principal.organisation_id)
    return list(session.scalars(stmt.order_by(CareTeam.created_at, CareTeam.id)))


def members_of(*, session: Session, team_id: str) -> list[str]:
    stmt = select(CareTeamMember.butler_user_id).where(CareTeamMember.team_id == team_id)
    return list(session.scalars(stmt.order_by(CareTeamMember.joined_at)))


def create_team(
    *, session: Session, principal: Principal, data: CareTeamCreate, now: datetime
) -> CareTeam:
    if principal.role != Role.ADMIN:
        raise PermissionDenied("only an administrator may create care teams")
    _butler(session, principal, data.lead_user_id, "lead_user_id")
    team = CareTeam(
        organisation_id=principal.organisation_id,
        name=data.name,
        lead_user_id=data.lead_user_id,
        created_at=now,
    )
    session.add(team)
    session.flush()
    for user_id in data.member_user_ids:
        add_member(session=session, principal=principal, team_id=team.id, user_id=user_id, now=now)
    return team


def add_member(
    *, session: Session, principal: Principal, team_id: str, user_id: str, now: datetime
) -> CareTeamMember:
    """Put a butler in a team (a butler is in one team at a time)."""
    if principal.role != Role.ADMIN:
        raise PermissionDenied("only an administrator may change care teams")
    team = session.get(CareTeam, team_id)
    if team is None or team.organisation_id != principal.organisation_id:
        raise NotFound(f"no care team {team_id}")
    _butler(session, principal, user_id, "user_id")
    existing = session.scalar(
        select(CareTeamMember).where(CareTeamMember.butler_user_id == user_id)
    )
    if existing is not None:
        if existing.team_id == team.id:
            return existing
        raise Conflict("that butler is already in another team; remove them there first")
    member = CareTeamMember(team_id=team.id, butler_user_id=user_id, joined_at=now)
    session.add(member)
    session.flush()
    return member
