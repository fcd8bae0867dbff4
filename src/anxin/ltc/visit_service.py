"""Care institutions and verified visits: check-in and check-out from the caregiver's app,
the checks of `visits` applied as the visit happens, and the beneficiary's confirmation.

The scheme's administrator registers institutions and names the provider organisation whose
staff (role provider) record the institution's visits; those staff see only their
institution's visits. The administrator's call centre may confirm a visit by calling back.
The same checks run again at settlement, which is what pays or rejects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.ltc.application_service import day_start, today
from anxin.ltc.assessment import Grade
from anxin.ltc.entitlements import RuleBook
from anxin.ltc.models import (
    LtcBeneficiary,
    LtcCaregiver,
    LtcInstitution,
    LtcInsured,
    LtcRule,
    LtcService,
    LtcVisit,
    LtcVisitPlan,
)
from anxin.ltc.schemas import (
    CaregiverCreate,
    CheckIn,
    CheckOut,
    FindingRead,
    InstitutionCreate,
    VisitRead,
)
from anxin.ltc.service import ADMINS, READERS, require
from anxin.ltc.settlement_service import LOCAL, rule_from_row
from anxin.ltc.visits import GeoPoint, VisitFacts, VisitPolicy, check_visit
from anxin.people.service import list_organisation_users, user_by_id


def create_institution(
    *, session: Session, principal: Principal, data: InstitutionCreate, now: datetime
) -> LtcInstitution:
    require(principal, ADMINS)
    if data.provider_org_id is not None:
        # A provider organisation is one with provider staff: they are who will check in.
        staff = list_organisation_users(session=session, organisation_id=data.provider_org_id)
        if not any(user.role is Role.PROVIDER for user in staff):
            raise InvalidInput.field("provider_org_id", "no care provider's staff there")
    taken = session.scalar(
        select(LtcInstitution.id).where(
            LtcInstitution.org_id == principal.organisation_id, LtcInstitution.name == data.name
        )
    )
    if taken is not None:
        raise Conflict(f"institution {data.name!r} is already registered")
    row = LtcInstitution(
        org_id=principal.organisation_id, name=data.name,
        provider_org_id=data.provider_org_id, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def list_institutions(*, session: Session, principal: Principal) -> Sequence[LtcInstitution]:
    require(principal, READERS)
    return session.scalars(
        select(LtcInstitution)
        .where(LtcInstitution.org_id == principal.organisation_id)
        .order_by(LtcInstitution.name)
    ).all()


def _staff_of(principal: Principal, institution: LtcInstitution) -> bool:
    return principal.role is Role.PROVIDER and (
        institution.provider_org_id == principal.organisation_id
    )


def institution_for(
    session: Session, principal: Principal, institution_id: int, *, write: bool
) -> LtcInstitution:
    """The institution if the caller may see (or, with `write`, manage) it: the scheme's
    administrator (supervisor too, to read) or the institution's own staff; 404 otherwise."""
    found = session.get(LtcInstitution, institution_id)
    if found is not None:
        if principal.role in READERS and found.org_id == principal.organisation_id:
            if write and principal.role not in ADMINS:
                raise PermissionDenied("the supervisor reads; the administrator registers")
            return found
        if _staff_of(principal, found):
            return found
    raise NotFound(f"institution {institution_id} not found")


def create_caregiver(
    *, session: Session, principal: Principal, institution_id: int, data: CaregiverCreate,
    now: datetime,
) -> LtcCaregiver:  # fmt: skip
    institution = institution_for(session, principal, institution_id, write=True)
    if data.user_id is not None:
        # The login must be the institution's own provider staff: they check in on the phone.
        user = user_by_id(session=session, user_id=data.user_id)
        if (
            user is None
            or user.role is not Role.PROVIDER
            or user.organisation_id != institution.provider_org_id
        ):
            raise InvalidInput.field("user_id", "not a staff login of this institution")
        taken_by = session.scalar(
            select(LtcCaregiver.code).where(LtcCaregiver.user_id == data.user_id)
        )
        if taken_by is not None:
            raise Conflict(f"that login is already caregiver {taken_by!r}")
    clash = session.scalar(
        select(LtcCaregiver.id).where(
            LtcCaregiver.org_id == institution.org_id, LtcCaregiver.code == data.code
        )
    )
    if clash is not None:
        raise Conflict(f"caregiver code {data.code!r} is already registered")
    row = LtcCaregiver(
        org_id=institution.org_id, institution_id=institution.id, code=data.code,
        name=data.name, phone=data.phone, qualification=data.qualification,
        areas=list(data.areas), user_id=data.user_id, active=True, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def list_caregivers(
    *, session: Session, principal: Principal, institution_id: int
) -> Sequence[LtcCaregiver]:
    institution = institution_for(session, principal, institution_id, write=False)
    return session.scalars(
        select(LtcCaregiver)
        .where(LtcCaregiver.institution_id == institution.id)
        .order_by(LtcCaregiver.code)
    ).all()


def caregiver_of_user(session: Session, principal: Principal) -> LtcCaregiver | None:
    """The caregiver whose app login this is, if any."""
    return session.scalar(select(LtcCaregiver).where(LtcCaregiver.user_id == principal.user_id))


def _caregiver(
    session: Session, principal: Principal, institution: LtcInstitution, data: CheckIn
) -> LtcCaregiver:
    """The visit's caregiver: named by id or code, else the caller's own caregiver record;
    always one of this institution's active caregivers."""
    if data.caregiver_id is not None:
        found, field = session.get(LtcCaregiver, data.caregiver_id), "caregiver_id"
    elif data.caregiver is not None:
        found, field = session.scalar(
            select(LtcCaregiver).where(
                LtcCaregiver.org_id == institution.org_id, LtcCaregiver.code == data.caregiver
            )
        ), "caregiver"  # fmt: skip
    else:
        found, field = caregiver_of_user(session, principal), "caregiver_id"
        if found is None:
            raise InvalidInput.field(field, "name the caregiver (by id or code)")
    if found is None or found.institution_id != institution.id or not found.active:
        raise InvalidInput.field(field, "not an active caregiver of this institution")
    return found


def check_in(*, session: Session, principal: Principal, data: CheckIn, now: datetime) -> LtcVisit:
    if principal.role is not Role.PROVIDER:
        raise PermissionDenied("only a care institution's staff check in")
    institution = session.get(LtcInstitution, data.institution_id)
    if institution is None or not _staff_of(principal, institution):
        raise InvalidInput.field("institution_id", "not an institution you work for")
    carer = _caregiver(session, principal, institution, data)
    person = session.get(LtcBeneficiary, data.beneficiary_id)
    day = today(now)
    if (
        person is None
        or person.org_id != institution.org_id
        or person.entitled_from > day
        or (person.entitled_to is not None and person.entitled_to <= day)
    ):
        raise InvalidInput.field("beneficiary_id", "not entitled to care today")
    running = session.scalar(
        select(LtcVisit.id).where(
            LtcVisit.org_id == institution.org_id,
            LtcVisit.caregiver == carer.code,
            LtcVisit.check_out.is_(None),
        )
    )
    if running is not None:
        raise Conflict(f"caregiver {carer.code!r} has not checked out of visit {running}")
    visit = LtcVisit(
        org_id=institution.org_id, beneficiary_id=person.id, institution_id=institution.id,
        caregiver=carer.code, caregiver_id=carer.id, check_in=now, in_lat=data.lat,
        in_lon=data.lon, services=[], confirmed=False,
    )  # fmt: skip
    session.add(visit)
    session.flush()
    return visit


def _visit(session: Session, principal: Principal, visit_id: int) -> LtcVisit:
    """The visit if the caller may see it: the scheme's readers or the institution's staff."""
    visit = session.get(LtcVisit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} not found")
    if principal.role in READERS and visit.org_id == principal.organisation_id:
        return visit
    institution = session.get(LtcInstitution, visit.institution_id)
    if institution is not None and _staff_of(principal, institution):
        return visit
    raise NotFound(f"visit {visit_id} not found")


def check_out(
    *, session: Session, principal: Principal, visit_id: int, data: CheckOut, now: datetime
) -> LtcVisit:
    visit = _visit(session, principal, visit_id)
    if principal.role is not Role.PROVIDER:
        raise PermissionDenied("only a care institution's staff check out")
    if visit.check_out is not None:
        raise Conflict(f"visit {visit_id} is already checked out")
    menu = set(session.scalars(select(LtcService.code).where(LtcService.org_id == visit.org_id)))
    unknown = sorted(set(data.services) - menu)
    if unknown:
        raise InvalidInput.field("services", f"not on the menu: {', '.join(unknown)}")
    visit.check_out, visit.out_lat, visit.out_lon = now, data.lat, data.lon
    visit.services = sorted(set(data.services))
    session.flush()
    return visit


def confirm(*, session: Session, principal: Principal, visit_id: int) -> LtcVisit:
    """The beneficiary or family confirms on the caregiver's phone (provider), or the scheme's
    call centre confirms by calling back (LTC administrator)."""
    visit = _visit(session, principal, visit_id)
    if principal.role not in (Role.PROVIDER, *ADMINS):
        raise PermissionDenied("only the institution's staff or the call centre confirm")
    if visit.check_out is None:
        raise Conflict(f"visit {visit_id} is not checked out yet")
    visit.confirmed = True
    session.flush()
    return visit


def read(*, session: Session, visit: LtcVisit, policy: VisitPolicy | None = None) -> VisitRead:
    """The visit with what the checks find on it now."""
    body = VisitRead.model_validate(visit)
    person = session.get(LtcBeneficiary, visit.beneficiary_id)
    home = None
    entitled: frozenset[str] = frozenset()
    if person is not None:
        insured = session.get(LtcInsured, person.insured_id)
        if insured is not None and insured.lat is not None and insured.lon is not None:
            home = GeoPoint(insured.lat, insured.lon)
        entitled = frozenset(_entitled(session, visit))
    end = visit.check_out or visit.check_in
    clashes = session.scalars(
        select(LtcVisit.id).where(
            LtcVisit.org_id == visit.org_id,
            LtcVisit.caregiver == visit.caregiver,
            LtcVisit.id != visit.id,
            LtcVisit.check_in < end,
            LtcVisit.check_out > visit.check_in,
        )
    ).all()
    out_at = (
        GeoPoint(visit.out_lat, visit.out_lon)
        if visit.out_lat is not None and visit.out_lon is not None
        else None
    )
    facts = VisitFacts(
        visit.id, visit.caregiver, visit.check_in, visit.check_out,
        GeoPoint(visit.in_lat, visit.in_lon), out_at, frozenset(visit.services),
        visit.confirmed, visit.presence,
    )  # fmt: skip
    found = check_visit(
        facts, home=home, entitled=entitled, policy=policy or VisitPolicy(),
        overlapping=list(clashes),
    )  # fmt: skip
    body.findings = [
        FindingRead(check=f.check.value, severity=f.severity.value, reason=f.reason) for f in found
    ]
    return body


def listing(
    *, session: Session, principal: Principal, beneficiary_id: int | None, limit: int
) -> Sequence[LtcVisit]:
    query = select(LtcVisit)
    if principal.role in READERS:
        query = query.where(LtcVisit.org_id == principal.organisation_id)
    elif principal.role is Role.PROVIDER:
        mine = select(LtcInstitution.id).where(
            LtcInstitution.provider_org_id == principal.organisation_id
        )
        query = query.where(LtcVisit.institution_id.in_(mine))
    else:
        raise PermissionDenied(f"role {principal.role.value!r} may not see visits")
    if beneficiary_id is not None:
        query = query.where(LtcVisit.beneficiary_id == beneficiary_id)
    return session.scalars(query.order_by(LtcVisit.check_in.desc()).limit(limit)).all()


@dataclass
class DayCard:
    """One visit of a caregiver's day: planned, under way or done, with the checks so far."""

    org_id: str
    at: datetime
    name: str
    address: str
    plan_id: int | None
    services: list[str]  # the plan's, or the entitlement's for a visit without a plan
    visit: VisitRead | None
    missed: bool  # the plan's missed-visit alarm was raised

    @property
    def state(self) -> str:
        if self.visit is None:
            return "missed" if self.missed else "planned"
        if self.visit.check_out is None:
            return "in_progress"
        return "confirmed" if self.visit.confirmed else "not_confirmed"


def day_cards(*, session: Session, principal: Principal, day: date) -> list[DayCard]:
    """A day's visits for the institution's staff: a caregiver's own, or (for a coordinator
    without a caregiver record) every caregiver's of their institutions, in time order."""
    if principal.role is not Role.PROVIDER:
        raise PermissionDenied("the day's visits are for care institutions' staff")
    start = day_start(day)
    end = day_start(day + timedelta(days=1))
    mine = select(LtcInstitution.id).where(
        LtcInstitution.provider_org_id == principal.organisation_id
    )
    me = caregiver_of_user(session, principal)
    plans_q = select(LtcVisitPlan).where(
        LtcVisitPlan.institution_id.in_(mine),
        LtcVisitPlan.planned_at >= start,
        LtcVisitPlan.planned_at < end,
    )
    visits_q = select(LtcVisit).where(
        LtcVisit.institution_id.in_(mine), LtcVisit.check_in >= start, LtcVisit.check_in < end
    )
    if me is not None:
        plans_q = plans_q.where(LtcVisitPlan.caregiver_id == me.id)
        visits_q = visits_q.where(LtcVisit.caregiver_id == me.id)
    plans = session.scalars(plans_q).all()
    visits = {v.id: v for v in session.scalars(visits_q)}
    people = _homes(session, {p.beneficiary_id for p in plans} | {
        v.beneficiary_id for v in visits.values()})  # fmt: skip
    cards = []
    for plan in plans:
        visit = visits.pop(plan.visit_id, None) if plan.visit_id else None
        if visit is None and plan.visit_id is not None:
            visit = session.get(LtcVisit, plan.visit_id)  # checked in on another day
        name, address = people.get(plan.beneficiary_id, ("", ""))
        cards.append(DayCard(
            plan.org_id, plan.planned_at, name, address, plan.id, list(plan.services),
            read(session=session, visit=visit) if visit else None, plan.alarmed_at is not None,
        ))  # fmt: skip
    for visit in visits.values():
        name, address = people.get(visit.beneficiary_id, ("", ""))
        body = read(session=session, visit=visit)
        cards.append(DayCard(visit.org_id, visit.check_in, name, address, None,
                             _entitled(session, visit), body, False))  # fmt: skip
    return sorted(cards, key=lambda c: c.at)


def _homes(session: Session, beneficiary_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Beneficiary id -> (name, address) from the register."""
    if not beneficiary_ids:
        return {}
    rows = session.execute(
        select(LtcBeneficiary.id, LtcInsured.name, LtcInsured.address)
        .join(LtcInsured, LtcInsured.id == LtcBeneficiary.insured_id)
        .where(LtcBeneficiary.id.in_(beneficiary_ids))
    )
    return {int(b): (str(n), str(a)) for b, n, a in rows}


def _entitled(session: Session, visit: LtcVisit) -> list[str]:
    """The services the beneficiary's grade brings on the visit's day (the checklist of an
    unplanned visit)."""
    person = session.get(LtcBeneficiary, visit.beneficiary_id)
    if person is None:
        return []
    book = RuleBook(
        rule_from_row(r)
        for r in session.scalars(
            select(LtcRule).where(LtcRule.org_id == visit.org_id, LtcRule.city == person.city)
        )
    )
    rule = book.on(person.city, Grade(person.grade), visit.check_in.astimezone(LOCAL).date())
    return sorted(rule.services) if rule else []
