"""JSON API of the gates and the loans: thin wrappers over `gates` and `loans`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from anxin.core.errors import InvalidInput, NotFound
from anxin.lending import changes, gates, loans, service
from anxin.lending.models import LoanComplaint, LoanRepayment
from anxin.lending.product import PRODUCT
from anxin.lending.schemas import (
    Acknowledgement,
    ApplicationRead,
    BorrowerAccountCreate,
    BorrowerAccountRead,
    BucketRead,
    CallbackRead,
    CallbackRecord,
    Cancellation,
    ComplaintCreate,
    ComplaintRead,
    ComplaintResolve,
    Disbursement,
    DisclosureRead,
    GateRead,
    GatesRead,
    ImportRejection,
    ImportResult,
    LoanRead,
    NoteCreate,
    NoteRead,
    PrepaymentCreate,
    PrepaymentQuoteRead,
    ProductBucketRead,
    RecordingRead,
    RecordingReview,
    ReminderRunRead,
    RepaymentCreate,
    RepaymentRead,
    RescheduleCreate,
    RescheduleDecision,
    ScheduleChangeRead,
    StatementLineRead,
    StatementRead,
    WriteOff,
)
from anxin.lending.views import _read
from anxin.people.deps import CurrentPrincipal, SessionDep, UnitDep

router = APIRouter(prefix="/api/v1/lending", tags=["lending"])
APP = "/applications/{application_id}"
Lang = Literal["zh", "en"]


def _application_read(
    session: SessionDep, application_id: str, principal: CurrentPrincipal
) -> ApplicationRead:
    application = service.visible_application(
        session=session, principal=principal, application_id=application_id
    )
    businesses, borrowers = service.businesses_and_borrowers(
        session=session, applications=[application]
    )
    return _read(
        application, businesses[application.business_id], borrowers[application.borrower_id]
    )


Read = TypeVar("Read", bound=BaseModel)


def _done(
    read: type[Read],
    action: Callable[..., object],
    uow: UnitDep,
    principal: CurrentPrincipal,
    application_id: str,
    data: BaseModel | None = None,
    **more: object,
) -> Read:
    """The common handler: the caller's action on one application, its body's fields as the
    action's arguments (the schemas name them as the services do), the result as `read`."""
    fields = data.model_dump() if data is not None else {}
    result = action(uow=uow, principal=principal, application_id=application_id, **fields, **more)
    return read.model_validate(result)


def _rows(
    read: type[Read],
    rows_of: Callable[..., Sequence[object]],
    session: SessionDep,
    principal: CurrentPrincipal,
    application_id: str,
) -> list[Read]:
    """The common list: rows of an application the caller may see."""
    application = service.visible_application(
        session=session, principal=principal, application_id=application_id
    )
    return [read.model_validate(r) for r in rows_of(session=session, application_id=application.id)]


@router.get("/my/applications", response_model=list[ApplicationRead])
def my_applications(principal: CurrentPrincipal, session: SessionDep) -> list[ApplicationRead]:
    """A borrower's own applications (empty for anyone else)."""
    return [
        _application_read(session, a.id, principal)
        for a in service.borrower_applications(session=session, principal=principal)
    ]


@router.post(APP + "/borrower-account", status_code=201, response_model=BorrowerAccountRead)
def open_borrower_account(
    application_id: str, data: BorrowerAccountCreate, principal: CurrentPrincipal, uow: UnitDep
) -> BorrowerAccountRead:
    user = service.open_borrower_account(
        uow=uow,
        principal=principal,
        application_id=application_id,
        username=data.username,
        password=data.password,
    )
    return BorrowerAccountRead(user_id=user.id, username=user.username)


# --- gates -------------------------------------------------------------------------------------


@router.get(APP + "/gates", response_model=GatesRead)
def get_gates(application_id: str, principal: CurrentPrincipal, uow: UnitDep) -> GatesRead:
    application = service.visible_application(
        session=uow.session, principal=principal, application_id=application_id
    )
    found = gates.gates(session=uow.session, application=application, now=uow.now())
    return GatesRead(
        stage=application.stage,
        gates=[GateRead(code=g.code, passed=g.passed, detail=g.detail) for g in found],
        ready_to_disburse=all(g.passed for g in found),
    )


@router.post(APP + "/disclosure", status_code=201, response_model=DisclosureRead)
def disclose(application_id: str, principal: CurrentPrincipal, uow: UnitDep) -> DisclosureRead:
    return _done(DisclosureRead, gates.disclose, uow, principal, application_id)


@router.get(APP + "/disclosure", response_model=DisclosureRead)
def get_disclosure(
    application_id: str, principal: CurrentPrincipal, session: SessionDep
) -> DisclosureRead:
    application = service.visible_application(
        session=session, principal=principal, application_id=application_id
    )
    disclosure = gates.disclosure_of(session=session, application_id=application.id)
    if disclosure is None:
        raise NotFound("the key facts have not been disclosed yet")
    return DisclosureRead.model_validate(disclosure)


@router.post(APP + "/disclosure/acknowledge", response_model=DisclosureRead)
def acknowledge(
    application_id: str, data: Acknowledgement, principal: CurrentPrincipal, uow: UnitDep
) -> DisclosureRead:
    return _done(DisclosureRead, gates.acknowledge, uow, principal, application_id, data)


@router.post(APP + "/recordings", status_code=201, response_model=RecordingRead)
def upload_recording(
    application_id: str,
    principal: CurrentPrincipal,
    uow: UnitDep,
    file: Annotated[UploadFile, File()],
    checklist: Annotated[
        str, Form(description='JSON: [{"statement": "rates_explained", "at_seconds": 42}, …]')
    ],
) -> RecordingRead:
    return _done(
        RecordingRead,
        gates.upload_recording,
        uow,
        principal,
        application_id,
        filename=file.filename or "recording",
        content_type=file.content_type or "",
        content=file.file.read(gates.RECORDING_LIMIT + 1),
        checklist=checklist,
    )


@router.get(APP + "/recordings", response_model=list[RecordingRead])
def list_recordings(
    application_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[RecordingRead]:
    return _rows(RecordingRead, gates.recordings_of, session, principal, application_id)


@router.post(APP + "/recordings/{recording_id}/review", response_model=RecordingRead)
def review_recording(
    application_id: str,
    recording_id: str,
    data: RecordingReview,
    principal: CurrentPrincipal,
    uow: UnitDep,
) -> RecordingRead:
    return _done(
        RecordingRead,
        gates.review_recording,
        uow,
        principal,
        application_id,
        data,
        recording_id=recording_id,
    )


@router.post(APP + "/cancel", response_model=ApplicationRead)
def cancel(
    application_id: str, data: Cancellation, principal: CurrentPrincipal, uow: UnitDep
) -> ApplicationRead:
    gates.cancel(uow=uow, principal=principal, application_id=application_id, reason=data.reason)
    return _application_read(uow.session, application_id, principal)


@router.post(APP + "/callbacks", status_code=201, response_model=CallbackRead)
def start_callback(application_id: str, principal: CurrentPrincipal, uow: UnitDep) -> CallbackRead:
    return _done(CallbackRead, gates.start_callback, uow, principal, application_id)


@router.post(APP + "/callbacks/current", response_model=CallbackRead)
def record_callback(
    application_id: str, data: CallbackRecord, principal: CurrentPrincipal, uow: UnitDep
) -> CallbackRead:
    return _done(CallbackRead, gates.record_callback, uow, principal, application_id, data)


@router.get(APP + "/callbacks", response_model=list[CallbackRead])
def list_callbacks(
    application_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[CallbackRead]:
    return _rows(CallbackRead, gates.callbacks_of, session, principal, application_id)


# --- loans -------------------------------------------------------------------------------------


@router.post(APP + "/disbursement", status_code=201, response_model=LoanRead)
def disburse(
    application_id: str, data: Disbursement, principal: CurrentPrincipal, uow: UnitDep
) -> LoanRead:
    return _done(LoanRead, loans.disburse, uow, principal, application_id, data)


@router.get("/loans", response_model=list[LoanRead])
def list_loans(principal: CurrentPrincipal, session: SessionDep) -> list[LoanRead]:
    return [
        LoanRead.model_validate(x) for x in loans.list_loans(session=session, principal=principal)
    ]


@router.get(APP + "/loan", response_model=LoanRead)
def get_loan(application_id: str, principal: CurrentPrincipal, session: SessionDep) -> LoanRead:
    loan = loans.loan_of(session=session, principal=principal, application_id=application_id)
    return LoanRead.model_validate(loan)


def _repayment(r: LoanRepayment) -> RepaymentRead:
    return RepaymentRead.model_validate(r)


@router.post(APP + "/loan/repayments", status_code=201, response_model=RepaymentRead)
def post_repayment(
    application_id: str, data: RepaymentCreate, principal: CurrentPrincipal, uow: UnitDep
) -> RepaymentRead:
    loan = loans.loan_of(session=uow.session, principal=principal, application_id=application_id)
    posted = loans.post_repayment(
        uow=uow,
        principal=principal,
        loan=loan,
        amount=data.amount,
        received_on=data.received_on,
        reference=data.reference,
    )
    return _repayment(posted.repayment)


@router.post("/repayments/import", response_model=ImportResult)
def import_repayments(
    principal: CurrentPrincipal, uow: UnitDep, file: Annotated[UploadFile, File()]
) -> ImportResult:
    content = file.file.read(loans.IMPORT_LIMIT + 1)
    if len(content) > loans.IMPORT_LIMIT:
        raise InvalidInput.field(
            "file", f"a repayment file may have at most {loans.IMPORT_LIMIT} bytes"
        )
    report = loans.import_repayments(uow=uow, principal=principal, content=content)
    return ImportResult(
        imported=report.imported,
        duplicates=report.duplicates,
        rejected=[ImportRejection(**r) for r in report.rejected],
    )


def statement_read(st: loans.Statement) -> StatementRead:
    return StatementRead(
        loan=LoanRead.model_validate(st.loan),
        on=st.on,
        lines=[
            StatementLineRead(
                number=s.line.number,
                due=s.line.due,
                principal=s.line.principal,
                interest=s.line.interest,
                fee=s.line.fee,
                paid=s.line.paid_principal + s.line.paid_interest + s.line.paid_fee,
                outstanding=s.line.outstanding,
                penalty=s.penalty,
                status=s.status,
            )
            for s in st.lines
        ],
        repayments=[_repayment(r) for r in st.repayments],
        paid=st.paid,
        outstanding=st.outstanding,
        principal_outstanding=st.principal_outstanding,
        arrears=st.arrears,
        penalties=st.penalties,
        days_past_due=st.dpd,
        bucket=st.bucket,
    )


@router.get(APP + "/loan/statement", response_model=StatementRead)
def get_statement(application_id: str, principal: CurrentPrincipal, uow: UnitDep) -> StatementRead:
    st = loans.statement(
        session=uow.session, principal=principal, application_id=application_id, now=uow.now()
    )
    return statement_read(st)


@router.post(APP + "/loan/notes", status_code=201, response_model=NoteRead)
def add_note(
    application_id: str, data: NoteCreate, principal: CurrentPrincipal, uow: UnitDep
) -> NoteRead:
    return _done(NoteRead, loans.add_note, uow, principal, application_id, data)


@router.get(APP + "/loan/notes", response_model=list[NoteRead])
def list_notes(
    application_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[NoteRead]:
    return [
        NoteRead.model_validate(n)
        for n in loans.notes_of(session=session, principal=principal, application_id=application_id)
    ]


@router.post(APP + "/loan/write-off", response_model=LoanRead)
def write_off(
    application_id: str, data: WriteOff, principal: CurrentPrincipal, uow: UnitDep
) -> LoanRead:
    return _done(LoanRead, loans.write_off, uow, principal, application_id, data)


@router.post("/reminders/run", response_model=ReminderRunRead)
def run_reminders(principal: CurrentPrincipal, uow: UnitDep) -> ReminderRunRead:
    """Remind the caller's organisation's borrowers of instalments due soon or overdue."""
    service._require(principal, service.DECIDING_ROLES, "run repayment reminders")
    run = loans.run_reminders(uow=uow, organisation_id=principal.organisation_id)
    return ReminderRunRead(before_due=run.before_due, overdue=run.overdue)


@router.get("/portfolio/buckets", response_model=list[BucketRead])
def buckets(principal: CurrentPrincipal, uow: UnitDep) -> list[BucketRead]:
    totals = loans.balance_by_bucket(session=uow.session, principal=principal, now=uow.now())
    return [BucketRead(code=b.code, zh=b.zh, en=b.en, **totals[b.code]) for b in PRODUCT.buckets]


# --- schedule changes ------------------------------------------------------------------------


@router.get(APP + "/loan/prepayment-quote", response_model=PrepaymentQuoteRead)
def prepayment_quote(
    application_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> PrepaymentQuoteRead:
    """What repays the loan in full today: principal, interest accrued since the last due date
    and the product's fee (arrears, if any, are owed first)."""
    q = changes.quote(
        session=uow.session,
        principal=principal,
        application_id=application_id,
        today=loans._today(uow.now()),
    )
    return PrepaymentQuoteRead(
        on=q.on,
        principal=q.principal,
        accrued=q.accrued,
        fee=q.fee,
        total=q.total,
        arrears=q.arrears,
    )


@router.post(APP + "/loan/prepayments", status_code=201, response_model=ScheduleChangeRead)
def prepay(
    application_id: str, data: PrepaymentCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ScheduleChangeRead:
    """Repay early today; the schedule after it is replaced by a new version."""
    return _done(ScheduleChangeRead, changes.prepay, uow, principal, application_id, data)


@router.get(APP + "/loan/schedule-changes", response_model=list[ScheduleChangeRead])
def list_schedule_changes(
    application_id: str, principal: CurrentPrincipal, session: SessionDep
) -> list[ScheduleChangeRead]:
    loan = loans.loan_of(session=session, principal=principal, application_id=application_id)
    return [
        ScheduleChangeRead.model_validate(c)
        for c in changes.changes_of(session=session, loan_id=loan.id)
    ]


@router.post(APP + "/loan/reschedules", status_code=201, response_model=ScheduleChangeRead)
def propose_reschedule(
    application_id: str, data: RescheduleCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ScheduleChangeRead:
    """Propose a hardship rescheduling; a second officer approves it."""
    change = changes.propose_reschedule(
        uow=uow,
        principal=principal,
        application_id=application_id,
        terms=changes.RescheduleTerms(data.annual_rate, data.periods, data.grace),
        reason=data.reason,
    )
    return ScheduleChangeRead.model_validate(change)


@router.post(APP + "/loan/reschedules/{change_id}/decision", response_model=ScheduleChangeRead)
def decide_reschedule(
    application_id: str,
    change_id: str,
    data: RescheduleDecision,
    principal: CurrentPrincipal,
    uow: UnitDep,
) -> ScheduleChangeRead:
    return _done(
        ScheduleChangeRead,
        changes.decide_reschedule,
        uow,
        principal,
        application_id,
        data,
        change_id=change_id,
    )


@router.get("/portfolio/buckets/by-product", response_model=list[ProductBucketRead])
def buckets_by_product(principal: CurrentPrincipal, uow: UnitDep) -> list[ProductBucketRead]:
    """Active loans and principal outstanding per product and ageing bucket."""
    totals = loans.balance_by_product_bucket(
        session=uow.session, principal=principal, now=uow.now()
    )
    return [
        ProductBucketRead(
            product=t.product.code,
            product_zh=t.product.name_zh,
            product_en=t.product.name_en,
            bucket=t.bucket.code,
            zh=t.bucket.zh,
            en=t.bucket.en,
            loans=t.loans,
            principal=t.principal,
        )
        for t in totals
    ]


@router.get("/portfolio/buckets/by-product.csv", response_class=Response)
def buckets_by_product_csv(
    principal: CurrentPrincipal, uow: UnitDep, lang: Annotated[Lang, Query()] = "zh"
) -> Response:
    """The same as CSV: product, bucket, loans, principal outstanding."""
    totals = loans.balance_by_product_bucket(
        session=uow.session, principal=principal, now=uow.now()
    )
    return csv_response(loans.buckets_csv(totals, lang), "lending-buckets-by-product.csv")


def csv_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- complaints --------------------------------------------------------------------------------


def _complaint(c: LoanComplaint, uow: UnitDep) -> ComplaintRead:
    read = ComplaintRead.model_validate(c)
    read.sla_breached = loans.sla_breached(c, uow.now())
    return read


@router.post(APP + "/complaints", status_code=201, response_model=ComplaintRead)
def file_complaint(
    application_id: str, data: ComplaintCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ComplaintRead:
    complaint = loans.file_complaint(
        uow=uow,
        principal=principal,
        application_id=application_id,
        category=data.category,
        text=data.text,
    )
    return _complaint(complaint, uow)


@router.get("/complaints", response_model=list[ComplaintRead])
def list_complaints(principal: CurrentPrincipal, uow: UnitDep) -> list[ComplaintRead]:
    return [_complaint(c, uow) for c in loans.complaints(session=uow.session, principal=principal)]


@router.post("/complaints/{complaint_id}/resolve", response_model=ComplaintRead)
def resolve_complaint(
    complaint_id: str, data: ComplaintResolve, principal: CurrentPrincipal, uow: UnitDep
) -> ComplaintRead:
    complaint = loans.resolve_complaint(
        uow=uow, principal=principal, complaint_id=complaint_id, resolution=data.resolution
    )
    return _complaint(complaint, uow)
