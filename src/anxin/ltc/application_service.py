"""Applications, assessments and the grade they lead to, over stored data.

The LTC administrator's staff register applications and act as assessors (two different users
per application, a third on disagreement). A decided grade makes or updates the beneficiary;
grade 0 ends an entitlement. Readings from the home's devices may be shown to an assessor
elsewhere, but nothing here reads them: a grade comes from the assessors' scores only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.bounds import check_date
from anxin.core.errors import Conflict, InvalidInput, NotFound
from anxin.core.security import Principal
from anxin.ltc.applications import (
    ApplicationKind,
    ApplicationState,
    assessments_allowed,
    course,
    gate,
    reassessment_due,
)
from anxin.ltc.assessment import (
    NATIONAL_2021,
    Grade,
    InvalidScore,
    Scores,
    barthel_index,
    cognition_score,
    grade,
    perception_score,
)
from anxin.ltc.models import (
    LtcApplication,
    LtcAssessment,
    LtcBeneficiary,
    LtcInsured,
    LtcRule,
    LtcService,
)
from anxin.ltc.schemas import (
    AppealCreate,
    ApplicationCreate,
    ApplicationRead,
    AssessmentCreate,
    AssessmentRead,
    EntitlementRead,
    ServiceRead,
)
from anxin.ltc.service import ADMINS, READERS, require
from anxin.ltc.settlement_service import LOCAL

OPEN = (ApplicationState.ASSESSING, ApplicationState.NEEDS_THIRD)


def today(now: datetime) -> date:
    return now.astimezone(LOCAL).date()


def day_start(day: date) -> datetime:
    """The start of a local (Asia/Shanghai) day, in UTC."""
    check_date(day, "day")
    return datetime.combine(day, time(0), tzinfo=LOCAL).astimezone(UTC)


def _invalid(prefix: str, exc: InvalidScore) -> InvalidInput:
    # InvalidScore names "adl.feeding"; the request's field is "<prefix>.feeding".
    return InvalidInput.field(f"{prefix}.{exc.field.split('.', 1)[-1]}", exc.reason)


def load(session: Session, principal: Principal, application_id: int) -> LtcApplication:
    found = session.get(LtcApplication, application_id)
    if found is None or found.org_id != principal.organisation_id:
        raise NotFound(f"application {application_id} not found")
    return found


def _beneficiary(session: Session, insured_id: int) -> LtcBeneficiary | None:
    return session.scalar(select(LtcBeneficiary).where(LtcBeneficiary.insured_id == insured_id))


def apply(
    *, session: Session, principal: Principal, data: ApplicationCreate, now: datetime
) -> LtcApplication:
    """An initial application or a reassessment on request, stopped at the gate or sent to the
    assessors."""
    require(principal, ADMINS)
    if data.kind is ApplicationKind.APPEAL:
        raise InvalidInput.field("kind", "an appeal is made on the application it contests")
    insured = session.scalar(
        select(LtcInsured).where(
            LtcInsured.org_id == principal.organisation_id,
            LtcInsured.id_number == data.id_number.upper(),
        )
    )
    if insured is None:
        raise InvalidInput.field("id_number", "not on the register of insured persons")
    try:
        self_barthel = barthel_index(data.self_assessment)
    except InvalidScore as exc:
        raise _invalid("self_assessment", exc) from exc
    entitled = _beneficiary(session, insured.id)
    if data.kind is ApplicationKind.INITIAL and entitled is not None:
        raise InvalidInput.field("kind", "already a beneficiary: ask for a reassessment")
    if data.kind is ApplicationKind.REASSESSMENT and entitled is None:
        raise InvalidInput.field("kind", "not a beneficiary: make an initial application")
    pending = session.scalar(
        select(LtcApplication.id).where(
            LtcApplication.insured_id == insured.id, LtcApplication.state.in_(OPEN)
        )
    )
    if pending is not None:
        raise Conflict(f"application {pending} of this person is still being assessed")
    stop = gate(self_barthel) if data.kind is ApplicationKind.INITIAL else None
    application = LtcApplication(
        org_id=principal.organisation_id, insured_id=insured.id, kind=data.kind,
        city=data.city, self_barthel=self_barthel, reason=stop or "",
        state=ApplicationState.DECLINED if stop else ApplicationState.ASSESSING,
        decided_on=today(now) if stop else None, created_by=principal.username, created_at=now,
    )  # fmt: skip
    session.add(application)
    session.flush()
    return application


def appeal(
    *, session: Session, principal: Principal, application_id: int, data: AppealCreate,
    now: datetime,
) -> LtcApplication:  # fmt: skip
    """Contest a decided or declined application: a new application, assessed afresh by
    assessors who did not assess the contested one."""
    require(principal, ADMINS)
    parent = load(session, principal, application_id)
    if parent.state not in (ApplicationState.DECIDED, ApplicationState.DECLINED):
        raise Conflict(f"application {parent.id} is not decided yet")
    taken = session.scalar(select(LtcApplication.id).where(LtcApplication.parent_id == parent.id))
    if taken is not None:
        raise Conflict(f"application {parent.id} is already appealed (application {taken})")
    child = LtcApplication(
        org_id=parent.org_id, insured_id=parent.insured_id, kind=ApplicationKind.APPEAL,
        parent_id=parent.id, city=parent.city, self_barthel=parent.self_barthel,
        reason=data.reason, state=ApplicationState.ASSESSING, created_by=principal.username,
        created_at=now,
    )  # fmt: skip
    session.add(child)
    session.flush()
    return child


def assess(
    *, session: Session, principal: Principal, application_id: int, data: AssessmentCreate,
    now: datetime,
) -> LtcApplication:  # fmt: skip
    """Record one assessor's visit; the second (or third) assessment decides the grade."""
    require(principal, ADMINS)
    application = load(session, principal, application_id)
    if application.state not in OPEN:
        raise Conflict(f"application {application.id} is {application.state.value}")
    done = list(
        session.scalars(
            select(LtcAssessment)
            .where(LtcAssessment.application_id == application.id)
            .order_by(LtcAssessment.id)
        )
    )
    if any(a.assessor_id == principal.user_id for a in done):
        raise Conflict("this assessor has already assessed the application")
    if application.parent_id is not None:
        earlier = session.scalars(
            select(LtcAssessment.assessor_id).where(
                LtcAssessment.application_id == application.parent_id
            )
        )
        if principal.user_id in set(earlier):
            raise Conflict("an appeal is assessed by assessors of its own")
    grades = [Grade(a.grade) for a in done]
    if not assessments_allowed(grades):
        raise Conflict("the application has all the assessments it needs")
    if not application.created_at.astimezone(LOCAL).date() <= data.visited_on <= today(now):
        raise InvalidInput.field("visited_on", "must be between the application and today")
    try:
        scores = Scores(
            barthel_index(data.adl),
            cognition_score(data.cognition),
            perception_score(data.perception),
        )
    except InvalidScore as exc:
        raise InvalidInput.field(exc.field, exc.reason) from exc
    given = grade(scores, NATIONAL_2021)
    session.add(
        LtcAssessment(
            org_id=application.org_id, application_id=application.id,
            assessor_id=principal.user_id, assessor=principal.username,
            visited_on=data.visited_on, adl=data.adl, cognition=data.cognition,
            perception=data.perception, barthel=scores.adl, cognition_score=scores.cognition,
            perception_score=scores.perception, grade=int(given), table=NATIONAL_2021.name,
            created_at=now,
        )
    )  # fmt: skip
    after = course([*grades, given])
    application.state = after.state
    if after.grade is not None:
        application.grade = int(after.grade)
        application.consensus = after.consensus.value if after.consensus else None
        application.decided_on = today(now)
        _apply_grade(session, application, now)
    session.flush()
    return application


def _apply_grade(session: Session, application: LtcApplication, now: datetime) -> None:
    """A grade from 1 entitles from the decision's day; grade 0 ends an entitlement there."""
    assert application.grade is not None and application.decided_on is not None
    person = _beneficiary(session, application.insured_id)
    if application.grade == Grade.BASIC_NORMAL:
        if person is not None and person.entitled_to is None:
            person.entitled_to = application.decided_on
        return
    if person is None:
        session.add(
            LtcBeneficiary(
                org_id=application.org_id, insured_id=application.insured_id,
                city=application.city, grade=application.grade,
                entitled_from=application.decided_on, created_at=now,
            )
        )  # fmt: skip
        return
    # The grade's history is the applications'; settled months keep their claim lines.
    person.grade = application.grade
    person.city = application.city
    if person.entitled_to is not None:
        person.entitled_from, person.entitled_to = application.decided_on, None


def entitlement(
    *, session: Session, org_id: str, city: str, grade_: int, on: date
) -> EntitlementRead | None:
    """The rule in force for a grade in a city on a day, with its services priced."""
    rule = session.scalar(
        select(LtcRule).where(
            LtcRule.org_id == org_id, LtcRule.city == city, LtcRule.grade == grade_,
            LtcRule.valid_from <= on, (LtcRule.valid_to.is_(None)) | (LtcRule.valid_to > on),
        )
    )  # fmt: skip
    if rule is None:
        return None
    menu = session.scalars(
        select(LtcService)
        .where(LtcService.org_id == org_id, LtcService.code.in_(rule.services))
        .order_by(LtcService.code)
    )
    return EntitlementRead(
        grade=grade_, city=city, on=on, valid_from=rule.valid_from, valid_to=rule.valid_to,
        monthly_cash=rule.monthly_cash, visits_per_week=rule.visits_per_week,
        services=[
            ServiceRead(code=s.code, name_zh=s.name_zh, name_en=s.name_en, price=s.price)
            for s in menu
        ],
        visit_copay_ratio=rule.visit_copay_ratio, rental_fund_ratio=rule.rental_fund_ratio,
    )  # fmt: skip


def read(
    *, session: Session, principal: Principal, application_id: int, now: datetime
) -> ApplicationRead:
    require(principal, READERS)
    application = load(session, principal, application_id)
    body = ApplicationRead.model_validate(application)
    body.assessments = [
        AssessmentRead.model_validate(a)
        for a in session.scalars(
            select(LtcAssessment)
            .where(LtcAssessment.application_id == application.id)
            .order_by(LtcAssessment.id)
        )
    ]
    if application.state is ApplicationState.DECIDED and application.grade:
        body.entitlement = entitlement(
            session=session, org_id=application.org_id, city=application.city,
            grade_=application.grade, on=max(today(now), application.decided_on or today(now)),
        )  # fmt: skip
    return body


def listing(
    *, session: Session, principal: Principal, state: ApplicationState | None, limit: int
) -> Sequence[LtcApplication]:
    require(principal, READERS)
    query = select(LtcApplication).where(LtcApplication.org_id == principal.organisation_id)
    if state is not None:
        query = query.where(LtcApplication.state == state)
    return session.scalars(query.order_by(LtcApplication.id.desc()).limit(limit)).all()


def due_reassessments(
    *, session: Session, principal: Principal, now: datetime, limit: int
) -> list[LtcApplication]:
    """The latest decided application of each beneficiary whose grade is due for review."""
    require(principal, READERS)
    latest: dict[int, LtcApplication] = {}
    for application in session.scalars(
        select(LtcApplication)
        .join(LtcBeneficiary, LtcBeneficiary.insured_id == LtcApplication.insured_id)
        .where(
            LtcApplication.org_id == principal.organisation_id,
            LtcApplication.state == ApplicationState.DECIDED,
            LtcBeneficiary.entitled_to.is_(None),
        )
        .order_by(LtcApplication.decided_on)
    ):
        latest[application.insured_id] = application
    day = today(now)
    due = [
        a
        for a in latest.values()
        if a.decided_on is not None and reassessment_due(a.decided_on, day)
    ]
    return due[:limit]
