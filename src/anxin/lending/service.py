"""Applications and credit decisions. Services flush, never commit.

Who sees what: a bank's loan officers, risk officers and admins see their organisation's
applications; anyone else gets a 404 for an application and an empty list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anxin.core.clock import to_local
from anxin.core.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RuleViolation,
)
from anxin.core.events import Event
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.lending import lifecycle, scorecard
from anxin.lending.lifecycle import IllegalMove, Stage
from anxin.lending.models import (
    BORROWER_ORG_KIND,
    Application,
    Borrower,
    Business,
    Decision,
    DecisionKind,
    Document,
    LendingBlob,
    Outcome,
)
from anxin.lending.schemas import ApplicationCreate
from anxin.people import service as people
from anxin.people.schemas import UserCreate

if TYPE_CHECKING:
    from anxin.people.models import User

# The owner kind of an application's alarms and live pings, and the subject of those pings.
OWNER_KIND = "loan_application"
LIVE_SUBJECT = "lending.application"
BANK_ROLES = frozenset({Role.LOAN_OFFICER, Role.RISK_OFFICER, Role.ADMIN})
DECIDING_ROLES = frozenset({Role.LOAN_OFFICER, Role.RISK_OFFICER, Role.ADMIN})
DOCUMENT_LIMIT = 20 * 1024 * 1024


@dataclass(frozen=True)
class Policy:
    """The product's hard rules beside the score (a failed one declines, whatever the score)."""

    min_age: int = 18
    max_age: int = 65  # at the decision date, from the resident ID's birth date
    min_amount: Decimal = Decimal("10000.00")
    max_amount: Decimal = Decimal("1000000.00")
    turnover_multiple: Decimal = Decimal(6)  # amount ≤ 6 × monthly turnover
    max_overdue_days: int = 0  # any current arrears declines


POLICY = Policy()


def _is_bank(principal: Principal) -> bool:
    return principal.role in BANK_ROLES


def _require(principal: Principal, roles: frozenset[Role], what: str) -> None:
    if principal.role not in roles:
        raise PermissionDenied(f"only {', '.join(sorted(roles))} may {what}")


def announce(uow: UnitOfWork, application: Application, verb: str) -> None:
    """Tell the live hub the application changed: the officers' queues refetch their rows."""
    payload = {
        "organisation_id": application.organisation_id,
        "owner_kind": OWNER_KIND,
        "owner_id": application.id,
        "stage": application.stage.value,
    }
    uow.publish(Event(f"{LIVE_SUBJECT}.{verb}", payload, uow.now()))


def _move(uow: UnitOfWork, application: Application, target: Stage) -> None:
    try:
        application.stage = lifecycle.advance(application.stage, target)
    except IllegalMove as e:
        raise RuleViolation(str(e)) from None
    application.updated_at = uow.now()
    announce(uow, application, "moved")


# --- applications ---------------------------------------------------------------------


def create_application(
    *, uow: UnitOfWork, principal: Principal, data: ApplicationCreate
) -> Application:
    _require(principal, frozenset({Role.LOAN_OFFICER, Role.ADMIN}), "take an application")
    session, now, org = uow.session, uow.now(), principal.organisation_id
    b = data.business
    business = session.scalars(
        select(Business).where(
            Business.organisation_id == org, Business.credit_code == b.credit_code
        )
    ).one_or_none()
    if business is None:
        business = Business(organisation_id=org, credit_code=b.credit_code, created_at=now)
        session.add(business)
    business.name, business.industry = b.name, b.industry
    business.years_trading, business.monthly_turnover = b.years_trading, b.monthly_turnover
    o = data.owner
    borrower = session.scalars(
        select(Borrower).where(
            Borrower.organisation_id == org, Borrower.resident_id == o.resident_id
        )
    ).one_or_none()
    if borrower is None:
        borrower = Borrower(
            organisation_id=org,
            resident_id=o.resident_id,
            birth_date=_birth_date(o.resident_id),
            created_at=now,
        )
        session.add(borrower)
    borrower.name, borrower.phone = o.name, o.phone
    session.flush()
    application = Application(
        organisation_id=org,
        business_id=business.id,
        borrower_id=borrower.id,
        officer_id=principal.user_id,
        amount=data.amount,
        term_months=data.term_months,
        purpose=data.purpose,
        purpose_detail=data.purpose_detail,
        profile=data.profile.model_dump(),
        existing_overdue_days=data.existing_overdue_days,
        stage=Stage.APPLICATION,
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    announce(uow, application, "created")
    return application


def _birth_date(resident_id: str) -> date:
    return date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))


def get_application(*, session: Session, principal: Principal, application_id: str) -> Application:
    application = session.get(Application, application_id)
    if (
        application is None
        or not _is_bank(principal)
        or application.organisation_id != principal.organisation_id
    ):
        raise NotFound("no such application")
    return application


def visible_application(
    *, session: Session, principal: Principal, application_id: str
) -> Application:
    """The bank's staff see their organisation's applications; a borrower (a login of their
    own business's organisation) sees their own."""
    application = session.get(Application, application_id)
    if application is not None:
        if _is_bank(principal) and application.organisation_id == principal.organisation_id:
            return application
        if principal.role == Role.BORROWER:
            borrower = session.get(Borrower, application.borrower_id)
            if borrower is not None and borrower.user_id == principal.user_id:
                return application
    raise NotFound("no such application")


def visible_application_ids(session: Session, principal: Principal) -> Collection[str] | None:
    """The ``loan_application`` owner scope (alarms of callbacks and reminders): the bank's
    staff see every one of their organisation, a borrower their own."""
    if _is_bank(principal):
        return None
    return [a.id for a in borrower_applications(session=session, principal=principal)]


def borrower_applications(*, session: Session, principal: Principal) -> list[Application]:
    """A borrower's own applications, newest first (empty for anyone else)."""
    if principal.role != Role.BORROWER:
        return []
    return list(
        session.scalars(
            select(Application)
            .join(Borrower, Borrower.id == Application.borrower_id)
            .where(Borrower.user_id == principal.user_id)
            .order_by(Application.created_at.desc(), Application.id)
        )
    )


def list_applications(
    *, session: Session, principal: Principal, stage: Stage | None = None
) -> list[Application]:
    if not _is_bank(principal):
        return []
    query = select(Application).where(Application.organisation_id == principal.organisation_id)
    if stage is not None:
        query = query.where(Application.stage == stage)
    return list(session.scalars(query.order_by(Application.created_at.desc(), Application.id)))


def businesses_and_borrowers(
    *, session: Session, applications: Sequence[Application]
) -> tuple[dict[str, Business], dict[str, Borrower]]:
    """The businesses and owners of a list of applications in two queries (no N+1)."""
    business_ids = {a.business_id for a in applications}
    borrower_ids = {a.borrower_id for a in applications}
    businesses = session.scalars(select(Business).where(Business.id.in_(business_ids))).all()
    borrowers = session.scalars(select(Borrower).where(Borrower.id.in_(borrower_ids))).all()
    return {b.id: b for b in businesses}, {b.id: b for b in borrowers}


def submit(*, uow: UnitOfWork, principal: Principal, application_id: str) -> Application:
    application = get_application(
        session=uow.session, principal=principal, application_id=application_id
    )
    _require(principal, frozenset({Role.LOAN_OFFICER, Role.ADMIN}), "submit an application")
    _move(uow, application, Stage.REVIEW)
    uow.session.flush()
    return application


def open_borrower_account(
    *, uow: UnitOfWork, principal: Principal, application_id: str, username: str, password: str
) -> User:
    """The officer opens the borrower's app account (a BORROWER user of the bank), so the
    borrower can read and acknowledge the key facts, follow the loan and complain."""
    session = uow.session
    application = get_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, frozenset({Role.LOAN_OFFICER, Role.ADMIN}), "open a borrower account")
    borrower = session.get_one(Borrower, application.borrower_id)
    if borrower.user_id is not None:
        raise RuleViolation("the borrower already has an account")
    try:
        people.get_user_by_username(session=session, username=username)
    except NotFound:
        pass
    else:
        raise InvalidInput.field("username", "is taken")
    business = session.get_one(Business, application.business_id)
    # The borrower logs in as their business, not as a member of the bank: the bank's own
    # records (its ledger bodies, its other customers) stay out of the borrower's reach.
    org = people.create_organisation(
        session=session,
        name=f"{business.name} ({business.credit_code}) · {username}",
        kind=BORROWER_ORG_KIND,
        now=uow.now(),
    )
    user = people.create_user(
        session=session,
        organisation_id=org.id,
        data=UserCreate(
            username=username,
            display_name=borrower.name,
            role=Role.BORROWER,
            password=password,
            phone=borrower.phone,
        ),
        now=uow.now(),
    )
    borrower.user_id = user.id
    session.flush()
    return user


# --- documents --------------------------------------------------------------------------


def add_document(
    *,
    uow: UnitOfWork,
    principal: Principal,
    application_id: str,
    kind: str,
    filename: str,
    content_type: str,
    content: bytes,
) -> Document:
    application = get_application(
        session=uow.session, principal=principal, application_id=application_id
    )
    if not content:
        raise InvalidInput.field("file", "the file is empty")
    if len(content) > DOCUMENT_LIMIT:
        raise PayloadTooLarge(f"a document may have at most {DOCUMENT_LIMIT} bytes")
    digest = hashlib.sha256(content).hexdigest()
    now = uow.now()
    if uow.session.get(LendingBlob, digest) is None:
        uow.session.add(
            LendingBlob(sha256=digest, size=len(content), content=content, created_at=now)
        )
        uow.session.flush()  # no relationship orders the two inserts: the blob goes first
    document = Document(
        application_id=application.id,
        kind=kind,
        filename=filename[:200],
        content_type=content_type[:100],
        sha256=digest,
        size=len(content),
        uploaded_by=principal.user_id,
        uploaded_at=now,
    )
    uow.session.add(document)
    uow.session.flush()
    return document


def documents_of(*, session: Session, application_id: str) -> list[Document]:
    return list(
        session.scalars(
            select(Document)
            .where(Document.application_id == application_id)
            .order_by(Document.uploaded_at, Document.id)
        )
    )


def decisions_of(*, session: Session, application_id: str) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .where(Decision.application_id == application_id)
            .order_by(Decision.decided_at, Decision.id)
        )
    )


# --- decisions ---------------------------------------------------------------------------


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def policy_checks(
    *, application: Application, business: Business, borrower: Borrower, today: date
) -> list[dict[str, Any]]:
    p = POLICY
    age = _age(borrower.birth_date, today)
    limit = min(p.max_amount, business.monthly_turnover * p.turnover_multiple)
    return [
        {
            "rule": "age",
            "passed": p.min_age <= age <= p.max_age,
            "zh": f"借款人年龄 {age} 岁（须在 {p.min_age}–{p.max_age} 岁之间）",
            "en": f"Borrower is {age} (must be {p.min_age}–{p.max_age})",
        },
        {
            "rule": "amount",
            "passed": p.min_amount <= application.amount <= limit,
            "zh": f"申请金额 {application.amount} 元（限 {p.min_amount}–{limit} 元，"
            f"不超过月营业额的 {p.turnover_multiple} 倍）",
            "en": f"Amount {application.amount} yuan (limits {p.min_amount}–{limit}, at most "
            f"{p.turnover_multiple} × monthly turnover)",
        },
        {
            "rule": "delinquency",
            "passed": application.existing_overdue_days <= p.max_overdue_days,
            "zh": f"现有债务逾期 {application.existing_overdue_days} 天（不得逾期）",
            "en": f"Existing debts {application.existing_overdue_days} days past due "
            "(none allowed)",
        },
    ]


def decide(*, uow: UnitOfWork, principal: Principal, application_id: str) -> Decision:
    """Score the application with the packaged scorecard and apply the policy rules."""
    session = uow.session
    application = get_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, DECIDING_ROLES, "decide an application")
    if application.stage != Stage.REVIEW:
        raise RuleViolation(
            f"the application is {application.stage}; only one under review can be decided"
        )
    business = session.get_one(Business, application.business_id)
    borrower = session.get_one(Borrower, application.borrower_id)
    card = scorecard.load()
    inputs = {
        **application.profile,
        "term_months": application.term_months,
        "years_trading": business.years_trading,
        "purpose": application.purpose,
    }
    scored = card.score(inputs)
    now = uow.now()
    checks = policy_checks(
        application=application, business=business, borrower=borrower, today=to_local(now).date()
    )
    approved = scored.score >= card.cutoff and all(c["passed"] for c in checks)
    decision = Decision(
        application_id=application.id,
        kind=DecisionKind.SCORECARD,
        outcome=Outcome.APPROVED if approved else Outcome.DECLINED,
        model_version=card.version,
        inputs=inputs,
        score=scored.score,
        cutoff=card.cutoff,
        points=dict(scored.points),
        reasons=[
            {"feature": r.feature, "points_lost": r.points_lost, "zh": r.zh, "en": r.en}
            for r in scored.reasons
        ],
        policy=checks,
        override_reason=None,
        decided_by=principal.user_id,
        decided_at=now,
    )
    session.add(decision)
    _move(uow, application, Stage.APPROVED if approved else Stage.DECLINED)
    session.flush()
    return decision


def override(
    *, uow: UnitOfWork, principal: Principal, application_id: str, outcome: Outcome, reason: str
) -> Decision:
    """An officer reverses the model's decision with a written reason (audited like any row)."""
    session = uow.session
    application = get_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, DECIDING_ROLES, "override a decision")
    decisions = decisions_of(session=session, application_id=application.id)
    if not decisions:
        raise RuleViolation("the application has no decision to override; decide it first")
    last = decisions[-1]
    if last.outcome == outcome:
        raise RuleViolation(f"the application is already {outcome}")
    now = uow.now()
    _move(uow, application, Stage(outcome.value))
    decision = Decision(
        application_id=application.id,
        kind=DecisionKind.OVERRIDE,
        outcome=outcome,
        model_version=last.model_version,
        inputs=last.inputs,
        score=last.score,
        cutoff=last.cutoff,
        points=last.points,
        reasons=last.reasons,
        policy=last.policy,
        override_reason=reason.strip(),
        decided_by=principal.user_id,
        decided_at=now,
    )
    session.add(decision)
    session.flush()
    return decision


# --- portfolio ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    applications: int
    decided: int
    approved: int
    psi: float | None


def portfolio_stats(*, session: Session, principal: Principal) -> Stats:
    if not _is_bank(principal):
        raise NotFound("no portfolio")
    org = principal.organisation_id
    total = session.scalar(
        select(func.count()).select_from(Application).where(Application.organisation_id == org)
    )
    # The latest decision of each application (an override replaces the model's outcome);
    # the PSI reads the model's scores, one per application.
    rows = session.execute(
        select(Decision.application_id, Decision.kind, Decision.outcome, Decision.score)
        .join(Application, Application.id == Decision.application_id)
        .where(Application.organisation_id == org)
        .order_by(Decision.decided_at, Decision.id)
    ).all()
    latest: dict[str, Outcome] = {}
    scores: dict[str, int] = {}
    for application_id, kind, outcome, score in rows:
        latest[application_id] = outcome
        if kind == DecisionKind.SCORECARD:
            scores[application_id] = score
    card = scorecard.load()
    return Stats(
        applications=int(total or 0),
        decided=len(latest),
        approved=sum(1 for o in latest.values() if o == Outcome.APPROVED),
        psi=scorecard.psi(list(scores.values()), card.psi_edges, card.psi_shares)
        if scores
        else None,
    )


def count_by_stage(*, session: Session, principal: Principal) -> dict[Stage, int]:
    if not _is_bank(principal):
        raise NotFound("no portfolio")
    rows = session.execute(
        select(Application.stage, func.count())
        .where(Application.organisation_id == principal.organisation_id)
        .group_by(Application.stage)
    ).all()
    return {stage: int(n) for stage, n in rows}
