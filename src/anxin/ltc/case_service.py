"""One beneficiary's case as the person and their family see it: the grade, the month's cash
subsidy, care visits used and left this month, the equipment rented and what it costs them.

A login sees a case only through an `LtcViewer` row (the person, or a family member), which
the scheme's administrator adds; everyone else gets 404, so a case's existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.ltc.application_service import day_start, entitlement, today
from anxin.ltc.entitlements import Month
from anxin.ltc.models import (
    LtcBeneficiary,
    LtcCaregiver,
    LtcInsured,
    LtcRental,
    LtcService,
    LtcViewer,
    LtcVisit,
    LtcVisitPlan,
)
from anxin.ltc.schemas import EntitlementRead, RentedItemRead, VisitLineRead
from anxin.ltc.service import ADMINS, require
from anxin.ltc.settlement import split
from anxin.people.service import user_by_id

VIEWER_ROLES = {"self": Role.ELDER, "family": Role.FAMILY}


def add_viewer(
    *, session: Session, principal: Principal, beneficiary_id: int, user_id: str,
    relation: str, now: datetime,
) -> LtcViewer:  # fmt: skip
    """Let the person (role elder) or a family member (role family) see the case."""
    require(principal, ADMINS)
    person = session.get(LtcBeneficiary, beneficiary_id)
    if person is None or person.org_id != principal.organisation_id:
        raise NotFound(f"beneficiary {beneficiary_id} not found")
    if relation not in VIEWER_ROLES:
        raise InvalidInput.field("relation", "self or family")
    user = user_by_id(session=session, user_id=user_id)
    if user is None or user.role is not VIEWER_ROLES[relation]:
        raise InvalidInput.field("user_id", f"not a login with the role {VIEWER_ROLES[relation]}")
    if session.get(LtcViewer, user_id) is not None:
        raise Conflict("that login already sees a case")
    row = LtcViewer(user_id=user_id, beneficiary_id=person.id, relation=relation, created_at=now)
    session.add(row)
    session.flush()
    return row


def menu_names(*, session: Session, org_id: str) -> dict[str, tuple[str, str]]:
    """The scheme's service menu: code -> (Chinese name, English name)."""
    return {
        s.code: (s.name_zh, s.name_en)
        for s in session.scalars(select(LtcService).where(LtcService.org_id == org_id))
    }


@dataclass
class Case:
    beneficiary_id: int
    org_id: str
    name: str
    age: int
    city: str
    grade: int
    entitled_from: date
    month: str
    entitlement: EntitlementRead | None
    allowance: int  # visits this month by the rule's visits per week
    used: int
    rentals: list[RentedItemRead] = field(default_factory=list)
    visits: list[VisitLineRead] = field(default_factory=list)  # this month's, and planned ones

    @property
    def left(self) -> int:
        return max(0, self.allowance - self.used)


def monthly_allowance(visits_per_week: int, month: Month) -> int:
    """Visits a month at `visits_per_week`: whole weeks' worth of the month's days, rounded
    down (twice a week is 8 in a month of 28-31 days)."""
    return visits_per_week * month.days // 7


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def viewer_of(*, session: Session, principal: Principal) -> int | None:
    """The beneficiary id this login may see, or None; 403 for roles that never see one."""
    if principal.role not in VIEWER_ROLES.values():
        raise PermissionDenied("this page is for the insured person and their family")
    row = session.get(LtcViewer, principal.user_id)
    return row.beneficiary_id if row else None


def viewed_case(*, session: Session, principal: Principal) -> int:
    """The beneficiary id this login may see; 404 for a login without one."""
    found = viewer_of(session=session, principal=principal)
    if found is None:
        raise NotFound("no long-term care case for this login")
    return found


def case(*, session: Session, beneficiary_id: int, now: datetime) -> Case:
    person = session.get(LtcBeneficiary, beneficiary_id)
    insured = session.get(LtcInsured, person.insured_id) if person else None
    if person is None or insured is None:
        raise NotFound(f"beneficiary {beneficiary_id} not found")
    day = today(now)
    month = Month(day.year, day.month)
    rule = entitlement(session=session, org_id=person.org_id, city=person.city,
                       grade_=person.grade, on=day)  # fmt: skip
    start = day_start(month.first)
    end = day_start(month.end)
    visits = session.scalars(
        select(LtcVisit)
        .where(
            LtcVisit.beneficiary_id == person.id,
            LtcVisit.check_in >= start,
            LtcVisit.check_in < end,
        )
        .order_by(LtcVisit.check_in)
    ).all()
    plans = session.scalars(
        select(LtcVisitPlan)
        .where(
            LtcVisitPlan.beneficiary_id == person.id,
            LtcVisitPlan.visit_id.is_(None),
            LtcVisitPlan.planned_at >= now,
            LtcVisitPlan.planned_at < now + timedelta(days=14),
        )
        .order_by(LtcVisitPlan.planned_at)
    ).all()
    wanted = {v.caregiver_id for v in visits if v.caregiver_id} | {p.caregiver_id for p in plans}
    names = {
        int(cid): str(name)
        for cid, name in session.execute(
            select(LtcCaregiver.id, LtcCaregiver.name).where(LtcCaregiver.id.in_(wanted))
        )
    }
    lines = [
        VisitLineRead(
            at=v.check_in,
            caregiver=names.get(v.caregiver_id or 0, v.caregiver),
            services=v.services,
            done=v.check_out is not None,
            confirmed=v.confirmed,
        )
        for v in visits
    ] + [
        VisitLineRead(
            at=p.planned_at,
            caregiver=names.get(p.caregiver_id, ""),
            services=p.services,
            done=False,
            confirmed=False,
        )
        for p in plans
    ]
    fund_ratio = rule.rental_fund_ratio if rule else Decimal(0)
    rentals = []
    for r in session.scalars(
        select(LtcRental)
        .where(
            LtcRental.beneficiary_id == person.id,
            LtcRental.start <= day,
            (LtcRental.end.is_(None)) | (LtcRental.end > day),
        )
        .order_by(LtcRental.start)
    ):
        fund, you = split(r.monthly_rent, Decimal(1) - fund_ratio)
        rentals.append(
            RentedItemRead(
                item=r.item,
                since=r.start,
                monthly_rent=r.monthly_rent,
                fund_pays=fund,
                you_pay=you,
            )
        )
    return Case(
        beneficiary_id=person.id, org_id=person.org_id, name=insured.name,
        age=_age(insured.birth_date, day),
        city=person.city, grade=person.grade, entitled_from=person.entitled_from,
        month=f"{month.year:04d}-{month.month:02d}", entitlement=rule,
        allowance=monthly_allowance(rule.visits_per_week, month) if rule else 0,
        used=len(visits), rentals=rentals, visits=lines,
    )  # fmt: skip
