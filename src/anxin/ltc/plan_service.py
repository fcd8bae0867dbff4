"""Planned visits and the missed-visit alarm.

An institution puts visits on its rota (`create_plan`); checking in with the plan's id links the
visit to it. A plan with no visit `GRACE` after its time is missed: the sweep (`sweep_missed`,
ticked by `ltc.worker`) raises one alarm to the institution — owner kind `ltc_institution`,
in the care provider's organisation, told to its staff — and marks the plan so that it is
raised once only. A late check-in clears the alarm.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from anxin.alerts import service as alerts
from anxin.core.errors import Conflict, InvalidInput, NotFound
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.ltc.application_service import entitlement, today
from anxin.ltc.models import (
    LtcBeneficiary,
    LtcCaregiver,
    LtcInstitution,
    LtcInsured,
    LtcVisit,
    LtcVisitPlan,
)
from anxin.ltc.schemas import PlanCreate
from anxin.ltc.service import READERS
from anxin.ltc.settlement_service import LOCAL
from anxin.ltc.visit_service import institution_for
from anxin.people.service import active_users_with_roles

GRACE = timedelta(minutes=30)  # a caregiver this late without checking in has missed the visit
SWEEP_BATCH = 500
OWNER_KIND = "ltc_institution"
ALARM_TYPE = "missed_visit"


def create_plan(
    *, session: Session, principal: Principal, data: PlanCreate, now: datetime
) -> LtcVisitPlan:
    """The scheme's administrator or the institution's staff plan a visit of an entitled
    beneficiary by one of the institution's caregivers, with services the grade brings."""
    institution = institution_for(session, principal, data.institution_id, write=True)
    carer = session.get(LtcCaregiver, data.caregiver_id)
    if carer is None or carer.institution_id != institution.id or not carer.active:
        raise InvalidInput.field("caregiver_id", "not an active caregiver of this institution")
    if data.planned_at.tzinfo is None:
        raise InvalidInput.field("planned_at", "a time with its offset, e.g. +08:00")
    if data.planned_at < now - GRACE:
        raise InvalidInput.field("planned_at", "in the past")
    person = session.get(LtcBeneficiary, data.beneficiary_id)
    day = today(data.planned_at)
    rule = (
        entitlement(session=session, org_id=person.org_id, city=person.city,
                    grade_=person.grade, on=day)
        if person is not None and person.org_id == institution.org_id
        and person.entitled_from <= day
        and (person.entitled_to is None or person.entitled_to > day)
        else None
    )  # fmt: skip
    if rule is None:
        raise InvalidInput.field("beneficiary_id", "not entitled to care on that day")
    outside = sorted(set(data.services) - {s.code for s in rule.services})
    if outside:
        raise InvalidInput.field("services", f"not in the entitlement: {', '.join(outside)}")
    plan = LtcVisitPlan(
        org_id=institution.org_id, beneficiary_id=data.beneficiary_id,
        institution_id=institution.id, caregiver_id=carer.id,
        planned_at=data.planned_at.astimezone(UTC), services=sorted(set(data.services)),
        created_at=now,
    )  # fmt: skip
    session.add(plan)
    session.flush()
    return plan


def plans_between(
    *, session: Session, principal: Principal, start: datetime, end: datetime,
    caregiver_id: int | None = None,
) -> Sequence[LtcVisitPlan]:  # fmt: skip
    """Plans in [start, end) the caller may see: the scheme's readers all of their scheme's,
    an institution's staff those of their institutions."""
    query = select(LtcVisitPlan).where(
        LtcVisitPlan.planned_at >= start, LtcVisitPlan.planned_at < end
    )
    if principal.role in READERS:
        query = query.where(LtcVisitPlan.org_id == principal.organisation_id)
    elif principal.role is Role.PROVIDER:
        query = query.where(LtcVisitPlan.institution_id.in_(_institutions_of(principal)))
    else:
        return []
    if caregiver_id is not None:
        query = query.where(LtcVisitPlan.caregiver_id == caregiver_id)
    return session.scalars(query.order_by(LtcVisitPlan.planned_at, LtcVisitPlan.id)).all()


def _institutions_of(principal: Principal) -> Select[int]:
    return select(LtcInstitution.id).where(
        LtcInstitution.provider_org_id == principal.organisation_id
    )


def link_visit(*, uow: UnitOfWork, plan_id: int, visit: LtcVisit) -> None:
    """Check-in against a plan: the plan must be this beneficiary's at this institution and
    not yet visited; a missed-visit alarm on it is cleared (the caregiver came late)."""
    plan = uow.session.get(LtcVisitPlan, plan_id)
    if (
        plan is None
        or plan.institution_id != visit.institution_id
        or plan.beneficiary_id != visit.beneficiary_id
    ):
        raise InvalidInput.field("plan_id", "not a planned visit of this beneficiary here")
    if plan.visit_id is not None:
        raise Conflict(f"planned visit {plan_id} is already checked in (visit {plan.visit_id})")
    plan.visit_id = visit.id
    uow.session.flush()
    if plan.alarmed_at is not None:
        alerts.clear_alarm(
            uow=uow, source_kind="ltc_plan", source_id=str(plan.id), alarm_type=ALARM_TYPE,
            now=visit.check_in, reason="checked in late",
        )  # fmt: skip


def sweep_missed(*, uow: UnitOfWork, now: datetime) -> int:
    """Raise the missed-visit alarm for plans still without a visit `GRACE` after their time.
    Each plan is alarmed once (`alarmed_at`); rows locked by another sweeper are skipped."""
    session = uow.session
    due = list(
        session.scalars(
            select(LtcVisitPlan)
            .where(
                LtcVisitPlan.visit_id.is_(None),
                LtcVisitPlan.alarmed_at.is_(None),
                LtcVisitPlan.planned_at <= now - GRACE,
            )
            .order_by(LtcVisitPlan.planned_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    for plan in due:
        plan.alarmed_at = now
        institution = session.get(LtcInstitution, plan.institution_id)
        carer = session.get(LtcCaregiver, plan.caregiver_id)
        person = session.get(LtcBeneficiary, plan.beneficiary_id)
        insured = session.get(LtcInsured, person.insured_id) if person else None
        if institution is None or carer is None or insured is None:
            continue
        # The institution's own organisation hears of it; without one, the scheme's.
        org = institution.provider_org_id or institution.org_id
        staff = active_users_with_roles(session=session, organisation_id=org,
                                        roles=(Role.PROVIDER, Role.LTC_ADMIN))  # fmt: skip
        at = plan.planned_at.astimezone(LOCAL)
        alerts.raise_alarm(
            uow=uow, organisation_id=org, owner_kind=OWNER_KIND, owner_id=str(institution.id),
            source_kind="ltc_plan", source_id=str(plan.id), alarm_type=ALARM_TYPE,
            severity=alerts.Severity.MINOR,
            title=f"上门未签到 Missed visit: {insured.name} {at:%m-%d %H:%M} · {carer.name}",
            details={"plan_id": plan.id, "beneficiary_id": plan.beneficiary_id,
                     "caregiver": carer.code, "planned_at": plan.planned_at.isoformat(),
                     "institution": institution.name},
            policy="default",
            recipients=[alerts.Recipient("operator", u.display_name, u.id, u.phone)
                        for u in staff],
            now=now,
        )  # fmt: skip
    session.flush()
    return len(due)


def visible_institution_ids(session: Session, principal: Principal) -> Collection[str] | None:
    """Owner kind `ltc_institution`: its staff see their institutions' alarms; the scheme's
    administrator and supervisor every institution of their organisation."""
    if principal.role in READERS:
        return None
    if principal.role is Role.PROVIDER:
        return [str(i) for i in session.scalars(_institutions_of(principal))]
    return ()


def institution_belongs(session: Session, organisation: str, owner: str) -> bool:
    if not owner.isdigit() or len(owner) > 18:
        return False
    found = session.get(LtcInstitution, int(owner))
    return found is not None and organisation in (found.org_id, found.provider_org_id)


def plan_for(*, session: Session, principal: Principal, plan_id: int) -> LtcVisitPlan:
    """A plan of an institution the caller works for; 404 otherwise."""
    if not 1 <= plan_id <= 2**63 - 1:
        raise NotFound(f"planned visit {plan_id} not found")
    plan = session.get(LtcVisitPlan, plan_id)
    if plan is None:
        raise NotFound(f"planned visit {plan_id} not found")
    institution_for(session, principal, plan.institution_id, write=False)
    return plan
