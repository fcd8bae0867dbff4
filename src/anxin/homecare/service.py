"""Households, elders and families, with the visibility rules of the care team."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from anxin.core.errors import InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.homecare.models import Elder, FamilyMember, Household, HouseholdMode
from anxin.homecare.schemas import ElderCreate, FamilyLink, HouseholdCreate
from anxin.people import service as people

if TYPE_CHECKING:
    from anxin.people.models import User

# The care team sees every elder of its organisation; families and elders see only their own.
CARE_TEAM = frozenset({Role.ADMIN, Role.BUTLER, Role.DOCTOR})
HOUSEHOLD_MANAGERS = frozenset({Role.ADMIN, Role.BUTLER})


def _visible_elders(principal: Principal) -> Select[Elder]:
    stmt = (
        select(Elder)
        .join(Household, Household.id == Elder.household_id)
        .where(Household.organisation_id == principal.organisation_id)
    )
    if principal.role in CARE_TEAM:
        return stmt
    if principal.role == Role.FAMILY:
        linked = select(FamilyMember.elder_id).where(FamilyMember.user_id == principal.user_id)
        return stmt.where(Elder.id.in_(linked))
    if principal.role == Role.ELDER:
        return stmt.where(Elder.user_id == principal.user_id)
    return stmt.where(false())


def list_elders(*, session: Session, principal: Principal) -> list[Elder]:
    return list(session.scalars(_visible_elders(principal).order_by(Elder.full_name)))


def get_elder(*, session: Session, principal: Principal, elder_id: str) -> Elder:
    """404 for an elder the caller may not see: a family must not learn another exists."""
    elder = session.scalar(_visible_elders(principal).where(Elder.id == elder_id))
    if elder is None:
        raise NotFound(f"no elder {elder_id}")
    return elder


def visible_household_ids(session: Session, principal: Principal) -> Collection[str] | None:
    if principal.role in CARE_TEAM:
        return None
    stmt = _visible_elders(principal).with_only_columns(Elder.household_id)
    return set(session.scalars(stmt))


def get_household(*, session: Session, principal: Principal, household_id: str) -> Household:
    household = session.get(Household, household_id)
    if household is None or household.organisation_id != principal.organisation_id:
        raise NotFound(f"no household {household_id}")
    owners = visible_household_ids(session, principal)
    if owners is not None and household.id not in owners:
        raise NotFound(f"no household {household_id}")
    return household


def list_households(*, session: Session, principal: Principal) -> list[Household]:
    stmt = select(Household).where(Household.organisation_id == principal.organisation_id)
    owners = visible_household_ids(session, principal)
    if owners is not None:
        stmt = stmt.where(Household.id.in_(owners))
    return list(session.scalars(stmt.order_by(Household.name)))


def _require_manager(principal: Principal) -> None:
    if principal.role not in HOUSEHOLD_MANAGERS:
        raise PermissionDenied(f"role {principal.role.value!r} may not manage households")


def create_household(
    *, session: Session, principal: Principal, data: HouseholdCreate, now: datetime
) -> Household:
    _require_manager(principal)
    household = Household(
        organisation_id=principal.organisation_id,
        name=data.name,
        address=data.address,
        mode=data.mode,
        created_at=now,
    )
    session.add(household)
    session.flush()
    return household


def set_household_mode(
    *, session: Session, principal: Principal, household_id: str, mode: HouseholdMode
) -> Household:
    household = get_household(session=session, principal=principal, household_id=household_id)
    # Families and elders may switch home/away/night for their own household.
    household.mode = mode
    session.flush()
    return household


def _org_user(session: Session, principal: Principal, user_id: str, field: str, role: Role) -> User:
    user = people.user_by_id(session=session, user_id=user_id)
    if user is None or user.organisation_id != principal.organisation_id or user.role != role:
        raise InvalidInput.field(field, f"no {role.value} user {user_id} in your organisation")
    return user


def create_elder(
    *, session: Session, principal: Principal, data: ElderCreate, now: datetime
) -> Elder:
    _require_manager(principal)
    household = get_household(session=session, principal=principal, household_id=data.household_id)
    if data.butler_user_id:
        _org_user(session, principal, data.butler_user_id, "butler_user_id", Role.BUTLER)
    elder = Elder(
        household_id=household.id,
        full_name=data.full_name,
        birth_date=data.birth_date,
        sex=data.sex,
        phone=data.phone,
        butler_user_id=data.butler_user_id,
        conditions=list(data.conditions),
        medications=[m.model_dump() for m in data.medications],
        emergency_contacts=[c.model_dump() for c in data.emergency_contacts],
        created_at=now,
    )
    session.add(elder)
    session.flush()
    return elder


def link_family_member(
    *, session: Session, principal: Principal, elder_id: str, data: FamilyLink, now: datetime
) -> FamilyMember:
    _require_manager(principal)
    elder = get_elder(session=session, principal=principal, elder_id=elder_id)
    _org_user(session, principal, data.user_id, "user_id", Role.FAMILY)
    existing = session.scalar(
        select(FamilyMember).where(
            FamilyMember.elder_id == elder.id, FamilyMember.user_id == data.user_id
        )
    )
    if existing is not None:
        return existing
    link = FamilyMember(
        elder_id=elder.id, user_id=data.user_id, relation=data.relation, consent_at=now
    )
    session.add(link)
    session.flush()
    return link


def family_of(*, session: Session, principal: Principal, elder_id: str) -> list[FamilyMember]:
    elder = get_elder(session=session, principal=principal, elder_id=elder_id)
    stmt = (
        select(FamilyMember)
        .where(FamilyMember.elder_id == elder.id)
        .order_by(FamilyMember.consent_at)
    )
    return list(session.scalars(stmt))


def household_by_id(*, session: Session, household_id: str) -> Household | None:
    """A household by id, for a caller that authenticated a device of it (no user to check)."""
    return session.get(Household, household_id)


def elders_of_household(*, session: Session, household_id: str) -> list[Elder]:
    """The elders of a household, first recorded first; same caveat as `household_by_id`."""
    stmt = (
        select(Elder).where(Elder.household_id == household_id).order_by(Elder.created_at, Elder.id)
    )
    return list(session.scalars(stmt))
