"""JSON API of the lending domain: thin wrappers over `service`, each with a read model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from anxin.lending import scorecard, service
from anxin.lending.lifecycle import Stage
from anxin.lending.models import Application, Borrower, Business
from anxin.lending.schemas import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationRead,
    BorrowerRead,
    BusinessRead,
    DecisionRead,
    DocumentRead,
    OverrideCreate,
    PortfolioStats,
)
from anxin.people.deps import CurrentPrincipal, SessionDep, UnitDep

router = APIRouter(prefix="/api/v1/lending", tags=["lending"])


def mask_resident_id(number: str) -> str:
    """Birth date and check digit stay visible for the officer; the rest is masked."""
    return number[:6] + number[6:14] + "***" + number[17]


def _read(application: Application, business: Business, borrower: Borrower) -> ApplicationRead:
    return ApplicationRead(
        id=application.id,
        stage=application.stage,
        amount=application.amount,
        term_months=application.term_months,
        purpose=application.purpose,
        purpose_detail=application.purpose_detail,
        profile={k: str(v) for k, v in application.profile.items()},
        existing_overdue_days=application.existing_overdue_days,
        officer_id=application.officer_id,
        created_at=application.created_at,
        updated_at=application.updated_at,
        business=BusinessRead.model_validate(business),
        borrower=BorrowerRead(
            id=borrower.id,
            name=borrower.name,
            resident_id_masked=mask_resident_id(borrower.resident_id),
            birth_date=borrower.birth_date,
            phone=borrower.phone,
        ),
    )


def _detail(session: SessionDep, application: Application) -> ApplicationDetail:
    businesses, borrowers = service.businesses_and_borrowers(
        session=session, applications=[application]
    )
    base = _read(
        application, businesses[application.business_id], borrowers[application.borrower_id]
    )
    return ApplicationDetail(
        **base.model_dump(),
        documents=[
            DocumentRead.model_validate(d)
            for d in service.documents_of(session=session, application_id=application.id)
        ],
        decisions=[
            DecisionRead.model_validate(d)
            for d in service.decisions_of(session=session, application_id=application.id)
        ],
    )


@router.get("/applications", response_model=list[ApplicationRead])
def list_applications(
    principal: CurrentPrincipal,
    session: SessionDep,
    stage: Annotated[Stage | None, Query()] = None,
) -> list[ApplicationRead]:
    applications = service.list_applications(session=session, principal=principal, stage=stage)
    businesses, borrowers = service.businesses_and_borrowers(
        session=session, applications=applications
    )
    return [_read(a, businesses[a.business_id], borrowers[a.borrower_id]) for a in applications]


@router.post("/applications", status_code=201, response_model=ApplicationDetail)
def create_application(
    data: ApplicationCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ApplicationDetail:
    application = service.create_application(uow=uow, principal=principal, data=data)
    return _detail(uow.session, application)


@router.get("/applications/{application_id}", response_model=ApplicationDetail)
def get_application(
    application_id: str, principal: CurrentPrincipal, session: SessionDep
) -> ApplicationDetail:
    application = service.get_application(
        session=session, principal=principal, application_id=application_id
    )
    return _detail(session, application)


@router.post("/applications/{application_id}/submit", response_model=ApplicationDetail)
def submit_application(
    application_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> ApplicationDetail:
    application = service.submit(uow=uow, principal=principal, application_id=application_id)
    return _detail(uow.session, application)


@router.post(
    "/applications/{application_id}/documents", status_code=201, response_model=DocumentRead
)
def upload_document(
    application_id: str,
    principal: CurrentPrincipal,
    uow: UnitDep,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(min_length=1, max_length=32)] = "other",
) -> DocumentRead:
    content = file.file.read(service.DOCUMENT_LIMIT + 1)
    document = service.add_document(
        uow=uow,
        principal=principal,
        application_id=application_id,
        kind=kind,
        filename=file.filename or "upload",
        content_type=file.content_type or "application/octet-stream",
        content=content,
    )
    return DocumentRead.model_validate(document)


@router.post(
    "/applications/{application_id}/decision", status_code=201, response_model=DecisionRead
)
def decide_application(
    application_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> DecisionRead:
    decision = service.decide(uow=uow, principal=principal, application_id=application_id)
    return DecisionRead.model_validate(decision)


@router.post(
    "/applications/{application_id}/override", status_code=201, response_model=DecisionRead
)
def override_decision(
    application_id: str, data: OverrideCreate, principal: CurrentPrincipal, uow: UnitDep
) -> DecisionRead:
    decision = service.override(
        uow=uow,
        principal=principal,
        application_id=application_id,
        outcome=data.outcome,
        reason=data.reason,
    )
    return DecisionRead.model_validate(decision)


@router.get("/portfolio", response_model=PortfolioStats)
def portfolio(principal: CurrentPrincipal, session: SessionDep) -> PortfolioStats:
    stats = service.portfolio_stats(session=session, principal=principal)
    card = scorecard.load()
    metrics = card.raw["metrics"]
    reading = None
    if stats.psi is not None:
        reading = "stable" if stats.psi < 0.1 else "watch" if stats.psi < 0.25 else "shifted"
    return PortfolioStats(
        applications=stats.applications,
        decided=stats.decided,
        approved=stats.approved,
        approval_rate=stats.approved / stats.decided if stats.decided else None,
        psi=None if stats.psi is None else round(stats.psi, 4),
        psi_reading=reading,
        model_version=card.version,
        cv_auc=float(metrics["auc"]),
        cv_ks=float(metrics["ks"]),
        cv_gini=float(metrics["gini"]),
    )
