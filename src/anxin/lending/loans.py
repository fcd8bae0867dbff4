"""Loans: the payout, repayments (one at a time or a bank file), statements and post-loan work.

A loan is made from an application that has passed every gate (`gates.gates`); its schedule
lines are stored with what has been paid against each part. A repayment is allocated by the
product's order (`allocation.allocate`, in whole fen), and a repayment's reference makes it
idempotent: the same reference again is the same repayment, so a bank file can be re-imported.
Services flush, never commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts.service import Recipient, Severity, clear_alarm, raise_alarm
from anxin.core.clock import to_local
from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.ledger.service import append_entry
from anxin.lending import gates, schedule
from anxin.lending.allocation import Charge, Component, allocate, charges_of
from anxin.lending.lifecycle import Stage
from anxin.lending.models import (
    Application,
    Borrower,
    ComplaintStatus,
    LoanAccount,
    LoanCollectionNote,
    LoanComplaint,
    LoanLine,
    LoanRepayment,
    LoanStatus,
)
from anxin.lending.product import PRODUCT, PRODUCTS, Bucket, Product, product_of
from anxin.lending.service import (
    BANK_ROLES,
    OWNER_KIND,
    _move,
    _require,
    borrower_applications,
    visible_application,
)
from anxin.people import service as people

ZERO = Decimal("0.00")
WRITE_OFF_ENTRY = "lending.write_off"
LINE_KIND = "loan_line"
COMPLAINT_SLA = timedelta(days=15)  # 银行业金融机构：投诉受理后 15 日内答复
IMPORT_LIMIT = 5 * 1024 * 1024
WRITE_OFF_ROLES = frozenset({Role.RISK_OFFICER, Role.ADMIN})


def _today(now: datetime) -> date:
    return to_local(now).date()


# --- reading ---------------------------------------------------------------------------------


def loan_of(*, session: Session, principal: Principal, application_id: str) -> LoanAccount:
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    loan = session.scalar(select(LoanAccount).where(LoanAccount.application_id == application.id))
    if loan is None:
        raise NotFound("the application has no loan yet")
    return loan


def lines_of(*, session: Session, loan_id: str) -> list[LoanLine]:
    return list(
        session.scalars(
            select(LoanLine).where(LoanLine.loan_id == loan_id).order_by(LoanLine.number)
        )
    )


def repayments_of(*, session: Session, loan_id: str) -> list[LoanRepayment]:
    return list(
        session.scalars(
            select(LoanRepayment)
            .where(LoanRepayment.loan_id == loan_id)
            .order_by(LoanRepayment.received_on, LoanRepayment.recorded_at, LoanRepayment.id)
        )
    )


def _penalty_since(line: LoanLine, on: date) -> Decimal:
    """Default interest on the line's unpaid principal since it was last crystallised."""
    start = max(line.due, line.penalty_to or line.due)
    unpaid = line.principal - line.paid_principal
    return schedule.default_interest(unpaid, start, on, PRODUCT.penalty_rate)


def accrue_penalty(line: LoanLine, on: date) -> None:
    """Crystallise the line's default interest up to `on` (a repayment's date)."""
    extra = _penalty_since(line, on)
    if on > max(line.due, line.penalty_to or line.due):
        line.penalty += extra
        line.penalty_to = on


def penalty_owed(line: LoanLine, on: date) -> Decimal:
    return line.penalty - line.paid_penalty + _penalty_since(line, on)


def days_past_due(lines: Iterable[LoanLine], today: date) -> int:
    """Days since the oldest instalment still unpaid fell due (0 when nothing is overdue)."""
    overdue = [line.due for line in lines if line.outstanding > 0 and line.due < today]
    return (today - min(overdue)).days if overdue else 0


def list_loans(*, session: Session, principal: Principal) -> list[LoanAccount]:
    if principal.role == Role.BORROWER:
        mine = select(Borrower.id).where(Borrower.user_id == principal.user_id)
        query = select(LoanAccount).where(LoanAccount.borrower_id.in_(mine))
    elif principal.role in BANK_ROLES:
        query = select(LoanAccount).where(LoanAccount.organisation_id == principal.organisation_id)
    else:
        return []
    return list(session.scalars(query.order_by(LoanAccount.disbursed_at.desc(), LoanAccount.id)))


# --- payout ----------------------------------------------------------------------------------


def disburse(
    *, uow: UnitOfWork, principal: Principal, application_id: str, idempotency_key: str
) -> LoanAccount:
    """Pay the loan out once every gate has passed; the same key again returns the same loan."""
    session, now = uow.session, uow.now()
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, gates.OFFICERS, "disburse a loan")
    earlier = session.scalar(
        select(LoanAccount).where(
            LoanAccount.organisation_id == application.organisation_id,
            LoanAccount.idempotency_key == idempotency_key,
        )
    )
    if earlier is not None:
        if earlier.application_id != application.id:
            raise Conflict("this idempotency key was used for another application's payout")
        return earlier
    if session.scalar(select(LoanAccount.id).where(LoanAccount.application_id == application.id)):
        raise RuleViolation("the loan was already disbursed (with another idempotency key)")
    failed = [
        g for g in gates.gates(session=session, application=application, now=now) if not g.passed
    ]
    if failed or application.stage != Stage.CALLBACK:
        reasons = "; ".join(f"{g.code}: {g.detail}" for g in failed) or (
            f"the application is {application.stage}"
        )
        raise RuleViolation(f"the loan cannot be disbursed until every gate passes — {reasons}")
    disclosure = gates.disclosure_of(session=session, application_id=application.id)
    assert disclosure is not None  # the disclosure gate passed
    start = _today(now)
    terms = PRODUCT.terms_for(application.amount, application.term_months, start)
    built = schedule.build(terms)
    facts = disclosure.facts
    if str(built.total_repayable) != facts["total_repayable"]:
        raise RuleViolation("the loan's figures differ from the disclosed ones; disclose again")
    loan = LoanAccount(
        organisation_id=application.organisation_id,
        application_id=application.id,
        borrower_id=application.borrower_id,
        product=PRODUCT.code,
        principal=application.amount,
        annual_rate=PRODUCT.annual_rate,
        upfront_fee=terms.upfront_fee,
        net_disbursed=application.amount - terms.upfront_fee,
        start=start,
        status=LoanStatus.ACTIVE,
        idempotency_key=idempotency_key,
        disbursed_by=principal.user_id,
        disbursed_at=now,
    )
    session.add(loan)
    session.flush()
    session.add_all(new_line(loan.id, i) for i in built.instalments)
    _move(uow, application, Stage.DISBURSED)
    _move(uow, application, Stage.ACTIVE)
    session.flush()
    return loan


def new_line(loan_id: str, i: schedule.Instalment, extra_fee: Decimal = ZERO) -> LoanLine:
    """A stored line for the core's instalment `i`, nothing paid on it yet."""
    return LoanLine(
        loan_id=loan_id,
        number=i.number,
        due=i.due,
        principal=i.principal,
        interest=i.interest,
        fee=i.fee + extra_fee,
        paid_principal=ZERO,
        paid_interest=ZERO,
        paid_fee=ZERO,
        paid_penalty=ZERO,
        penalty=ZERO,
        reminded_before=False,
        reminded_overdue=False,
    )


# --- repayments ------------------------------------------------------------------------------

_PAID = {
    Component.PRINCIPAL: "paid_principal",
    Component.INTEREST: "paid_interest",
    Component.FEE: "paid_fee",
    Component.PENALTY: "paid_penalty",
}


@dataclass
class Posted:
    repayment: LoanRepayment
    duplicate: bool


def _check_payment(amount: Decimal, received_on: date, loan: LoanAccount, today: date) -> None:
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput.field("amount", "must be a positive amount in whole fen")
    if received_on > today:
        raise InvalidInput.field("received_on", "is in the future")
    if received_on < loan.start:
        raise InvalidInput.field("received_on", f"is before the payout on {loan.start}")


def post_repayment(
    *,
    uow: UnitOfWork,
    principal: Principal,
    loan: LoanAccount,
    amount: Decimal,
    received_on: date,
    reference: str,
    source: str = "api",
) -> Posted:
    """Allocate one repayment to the loan's lines in the product's order."""
    session, now = uow.session, uow.now()
    _require(principal, BANK_ROLES, "record a repayment")
    existing = session.scalar(
        select(LoanRepayment).where(
            LoanRepayment.loan_id == loan.id, LoanRepayment.reference == reference
        )
    )
    if existing is not None:
        if existing.amount != amount or existing.received_on != received_on:
            raise Conflict(
                f"reference {reference} was already recorded as {existing.amount} on "
                f"{existing.received_on}"
            )
        return Posted(existing, duplicate=True)
    _check_payment(amount, received_on, loan, _today(now))
    if loan.status != LoanStatus.ACTIVE:
        raise RuleViolation(f"the loan is {loan.status}; it takes no repayments")
    lines = lines_of(session=session, loan_id=loan.id)
    by_number = {line.number: line for line in lines}
    for line in lines:
        accrue_penalty(line, received_on)
    owed = charges_of(
        (
            line.number,
            line.due,
            line.principal - line.paid_principal,
            line.interest - line.paid_interest,
            line.fee - line.paid_fee,
        )
        for line in lines
    )
    owed += [
        Charge(line.number, line.due, Component.PENALTY, line.penalty - line.paid_penalty)
        for line in lines
        if line.penalty > line.paid_penalty
    ]
    result = allocate(amount, owed, received_on, PRODUCT.allocation)
    for charge, applied in result.applied:
        line = by_number[charge.instalment]
        column = _PAID[charge.component]
        setattr(line, column, getattr(line, column) + applied)
    repayment = LoanRepayment(
        loan_id=loan.id,
        reference=reference,
        amount=amount,
        received_on=received_on,
        source=source,
        allocation=[
            {"instalment": c.instalment, "component": c.component.value, "amount": str(a)}
            for c, a in result.applied
        ],
        unapplied=result.unapplied,
        recorded_by=principal.user_id,
        recorded_at=now,
    )
    session.add(repayment)
    for line in lines:
        if line.outstanding == 0:
            _clear_line_alarms(uow, line, now)
    if all(line.outstanding == 0 and line.penalty == line.paid_penalty for line in lines):
        loan.status = LoanStatus.CLOSED
        loan.closed_on = received_on
        application = session.get_one(Application, loan.application_id)
        _move(uow, application, Stage.CLOSED)
    session.flush()
    return Posted(repayment, duplicate=False)


@dataclass
class ImportReport:
    imported: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


IMPORT_COLUMNS = ("loan_id", "reference", "amount", "received_on")


def import_repayments(*, uow: UnitOfWork, principal: Principal, content: bytes) -> ImportReport:
    """A bank file of repayments (CSV: loan_id, reference, amount, received_on). Good rows are
    posted, bad ones reported with their line and reason; a re-import posts nothing twice."""
    _require(principal, BANK_ROLES, "import repayments")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.field("file", "is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise InvalidInput.field("file", "missing columns: " + ", ".join(missing))
    report = ImportReport()
    session = uow.session
    loans: dict[str, LoanAccount | None] = {}
    for row in reader:
        line = reader.line_num
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        try:
            loan_id = cells["loan_id"]
            if loan_id not in loans:
                loans[loan_id] = _visible_loan(session, principal, loan_id)
            loan = loans[loan_id]
            if loan is None:
                raise InvalidInput.field("loan_id", "no such loan")
            reference = cells["reference"]
            if not reference or len(reference) > 120:
                raise InvalidInput.field("reference", "must be 1–120 characters")
            try:
                amount = Decimal(cells["amount"])
            except InvalidOperation:
                raise InvalidInput.field("amount", "is not a number") from None
            try:
                received_on = date.fromisoformat(cells["received_on"])
            except ValueError:
                raise InvalidInput.field("received_on", "is not a date (YYYY-MM-DD)") from None
            with session.begin_nested():  # a row that fails leaves nothing behind
                posted = post_repayment(
                    uow=uow,
                    principal=principal,
                    loan=loan,
                    amount=amount,
                    received_on=received_on,
                    reference=reference,
                    source="csv",
                )
        except (InvalidInput, Conflict, RuleViolation) as e:
            problem = e.fields[0] if e.fields else None
            report.rejected.append(
                {
                    "line": line,
                    "field": problem.field if problem else None,
                    "reason": problem.reason if problem else str(e),
                }
            )
            continue
        if posted.duplicate:
            report.duplicates += 1
        else:
            report.imported += 1
    return report


def _visible_loan(session: Session, principal: Principal, loan_id: str) -> LoanAccount | None:
    loan = session.get(LoanAccount, loan_id)
    if loan is None or loan.organisation_id != principal.organisation_id:
        return None
    return loan


# --- statements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    line: LoanLine
    status: str  # paid | overdue | due | future
    penalty: Decimal  # default interest owed on the statement's date


@dataclass(frozen=True)
class Statement:
    loan: LoanAccount
    on: date
    lines: list[StatementLine]
    repayments: list[LoanRepayment]
    paid: Decimal
    outstanding: Decimal
    principal_outstanding: Decimal
    arrears: Decimal
    penalties: Decimal
    dpd: int
    bucket: str


def _status(line: LoanLine, today: date) -> str:
    if line.outstanding == 0:
        return "paid"
    if line.due < today:
        return "overdue"
    return "due" if line.due == today else "future"


def statement(
    *, session: Session, principal: Principal, application_id: str, now: datetime
) -> Statement:
    loan = loan_of(session=session, principal=principal, application_id=application_id)
    today = _today(now)
    lines = lines_of(session=session, loan_id=loan.id)
    repayments = repayments_of(session=session, loan_id=loan.id)
    active = loan.status == LoanStatus.ACTIVE
    dpd = days_past_due(lines, today) if active else 0
    rows = [
        StatementLine(line, _status(line, today), penalty_owed(line, today) if active else ZERO)
        for line in lines
    ]
    return Statement(
        loan=loan,
        on=today,
        lines=rows,
        penalties=sum((r.penalty for r in rows), ZERO),
        repayments=repayments,
        paid=sum((r.amount - r.unapplied for r in repayments), ZERO),
        outstanding=sum((line.outstanding for line in lines), ZERO),
        principal_outstanding=sum((line.principal - line.paid_principal for line in lines), ZERO),
        arrears=sum(
            (line.outstanding for line in lines if line.due < today and line.outstanding > 0),
            ZERO,
        ),
        dpd=dpd,
        bucket=product_of(loan.product).bucket_of(dpd).code,
    )


@dataclass(frozen=True)
class BucketTotal:
    product: Product
    bucket: Bucket
    loans: int
    principal: Decimal


def balance_by_product_bucket(
    *, session: Session, principal: Principal, now: datetime
) -> list[BucketTotal]:
    """Outstanding principal and loan count of active loans per product and ageing bucket, in
    each product's own buckets (every bucket listed, empty ones too)."""
    if principal.role not in BANK_ROLES:
        raise NotFound("no portfolio")
    today = _today(now)
    loans = session.scalars(
        select(LoanAccount).where(
            LoanAccount.organisation_id == principal.organisation_id,
            LoanAccount.status == LoanStatus.ACTIVE,
        )
    ).all()
    lines: dict[str, list[LoanLine]] = {loan.id: [] for loan in loans}
    if loans:
        for line in session.scalars(select(LoanLine).where(LoanLine.loan_id.in_(lines))):
            lines[line.loan_id].append(line)
    products = {p.code: p for p in PRODUCTS.values()}
    products.update({loan.product: product_of(loan.product) for loan in loans})
    counts: dict[tuple[str, str], tuple[int, Decimal]] = {
        (code, b.code): (0, ZERO) for code, p in products.items() for b in p.buckets
    }
    for loan in loans:
        key = (
            loan.product,
            product_of(loan.product).bucket_of(days_past_due(lines[loan.id], today)).code,
        )
        n, amount = counts[key]
        owed = sum((x.principal - x.paid_principal for x in lines[loan.id]), ZERO)
        counts[key] = (n + 1, amount + owed)
    return [
        BucketTotal(p, b, *counts[(code, b.code)])
        for code, p in sorted(products.items())
        for b in p.buckets
    ]


def balance_by_bucket(*, session: Session, principal: Principal, now: datetime) -> dict[str, Any]:
    """Outstanding principal and loan count per ageing bucket over every product."""
    out: dict[str, Any] = {b.code: {"loans": 0, "principal": ZERO} for b in PRODUCT.buckets}
    for t in balance_by_product_bucket(session=session, principal=principal, now=now):
        total = out.setdefault(t.bucket.code, {"loans": 0, "principal": ZERO})
        total["loans"] += t.loans
        total["principal"] += t.principal
    return out


BUCKET_CSV_COLUMNS = ("product", "bucket", "loans", "principal_outstanding")


def buckets_csv(totals: list[BucketTotal], lang: str) -> bytes:
    """The portfolio by product and bucket as CSV (with a BOM, so spreadsheets read Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BUCKET_CSV_COLUMNS)
    for t in totals:
        name = t.product.name_en if lang == "en" else t.product.name_zh
        bucket = t.bucket.en if lang == "en" else t.bucket.zh
        writer.writerow((f"{t.product.code} {name}", bucket, t.loans, t.principal))
    return out.getvalue().encode("utf-8-sig")


# --- reminders -------------------------------------------------------------------------------


def _recipients(session: Session, loan: LoanAccount) -> list[Recipient]:
    application = session.get_one(Application, loan.application_id)
    borrower = session.get_one(Borrower, loan.borrower_id)
    out = [Recipient("borrower", borrower.name, borrower.user_id, borrower.phone)]
    officer = people.user_by_id(session=session, user_id=application.officer_id)
    if officer is not None:
        out.append(Recipient("bank_officer", officer.display_name, officer.id, officer.phone))
    for user in people.active_users_with_roles(
        session=session, organisation_id=loan.organisation_id, roles=(Role.RISK_OFFICER,)
    ):
        out.append(Recipient("risk_officer", user.display_name, user.id, user.phone))
    return out


def _clear_line_alarms(uow: UnitOfWork, line: LoanLine, now: datetime) -> None:
    for alarm_type in ("repayment_due", "repayment_overdue"):
        clear_alarm(
            uow=uow,
            source_kind=LINE_KIND,
            source_id=line.id,
            alarm_type=alarm_type,
            now=now,
            reason="instalment paid",
        )


@dataclass
class ReminderRun:
    before_due: int = 0
    overdue: int = 0


def run_reminders(*, uow: UnitOfWork, organisation_id: str | None = None) -> ReminderRun:
    """Remind borrowers (and their officer) of instalments due within the product's days, and
    of overdue ones; each instalment once per kind, through the alarm engine."""
    session, now = uow.session, uow.now()
    today = _today(now)
    horizon = today + timedelta(days=PRODUCT.reminder_days_before)
    query = (
        select(LoanLine, LoanAccount)
        .join(LoanAccount, LoanAccount.id == LoanLine.loan_id)
        .where(LoanAccount.status == LoanStatus.ACTIVE, LoanLine.due <= horizon)
        .order_by(LoanLine.due, LoanLine.id)
    )
    if organisation_id is not None:
        query = query.where(LoanAccount.organisation_id == organisation_id)
    run = ReminderRun()
    for line, loan in session.execute(query).all():
        if line.outstanding == 0:
            continue
        overdue = line.due < today
        if line.reminded_overdue if overdue else line.reminded_before:
            continue
        alarm_type = "repayment_overdue" if overdue else "repayment_due"
        raise_alarm(
            uow=uow,
            organisation_id=loan.organisation_id,
            owner_kind=OWNER_KIND,
            owner_id=loan.application_id,
            source_kind=LINE_KIND,
            source_id=line.id,
            alarm_type=alarm_type,
            severity=Severity.MINOR if overdue else Severity.WARNING,
            title=(
                f"还款逾期 Instalment {line.number} overdue: {line.outstanding} (due {line.due})"
                if overdue
                else f"还款提醒 Instalment {line.number} of {line.outstanding} due {line.due}"
            ),
            details={
                "loan_id": loan.id,
                "instalment": line.number,
                "due": line.due.isoformat(),
                "outstanding": str(line.outstanding),
            },
            policy="lending_reminder",
            recipients=_recipients(session, loan),
            now=now,
        )
        if overdue:
            line.reminded_overdue = True
            run.overdue += 1
        else:
            line.reminded_before = True
            run.before_due += 1
    session.flush()
    return run


# --- collection, write-off -------------------------------------------------------------------


def add_note(
    *,
    uow: UnitOfWork,
    principal: Principal,
    application_id: str,
    channel: str,
    note: str,
    promise_amount: Decimal | None,
    promise_on: date | None,
) -> LoanCollectionNote:
    loan = loan_of(session=uow.session, principal=principal, application_id=application_id)
    _require(principal, BANK_ROLES, "write a collection note")
    if (promise_amount is None) != (promise_on is None):
        raise InvalidInput.field("promise_on", "a promise to pay needs both amount and date")
    row = LoanCollectionNote(
        loan_id=loan.id,
        channel=channel,
        note=note.strip(),
        promise_amount=promise_amount,
        promise_on=promise_on,
        written_by=principal.user_id,
        written_at=uow.now(),
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def notes_of(
    *, session: Session, principal: Principal, application_id: str
) -> list[LoanCollectionNote]:
    loan = loan_of(session=session, principal=principal, application_id=application_id)
    if principal.role not in BANK_ROLES:
        return []  # collection notes are the bank's, not shown to the borrower
    return list(
        session.scalars(
            select(LoanCollectionNote)
            .where(LoanCollectionNote.loan_id == loan.id)
            .order_by(LoanCollectionNote.written_at, LoanCollectionNote.id)
        )
    )


def write_off(
    *, uow: UnitOfWork, principal: Principal, application_id: str, reason: str
) -> LoanAccount:
    """Write off a loan over 90 days past due, with a reason anchored in the ledger."""
    session, now = uow.session, uow.now()
    loan = loan_of(session=session, principal=principal, application_id=application_id)
    if principal.role not in WRITE_OFF_ROLES:
        raise PermissionDenied("only a risk officer or an admin may write a loan off")
    if loan.status != LoanStatus.ACTIVE:
        raise RuleViolation(f"the loan is {loan.status}; only an active loan is written off")
    lines = lines_of(session=session, loan_id=loan.id)
    dpd = days_past_due(lines, _today(now))
    last = PRODUCT.buckets[-1]
    if not last.holds(dpd):
        raise RuleViolation(
            f"the loan is {dpd} days past due; a write-off needs over {last.low - 1} days"
        )
    today = _today(now)
    amount = sum((line.outstanding + penalty_owed(line, today) for line in lines), ZERO)
    entry = append_entry(
        session=session,
        entry_type=WRITE_OFF_ENTRY,
        organisation_id=loan.organisation_id,
        body={
            "loan_id": loan.id,
            "application_id": loan.application_id,
            "amount": str(amount),
            "days_past_due": dpd,
            "reason": reason.strip(),
            "by": principal.user_id,
            "at": now.isoformat(),
        },
        now=now,
    )
    loan.status = LoanStatus.WRITTEN_OFF
    loan.write_off_reason = reason.strip()
    loan.write_off_amount = amount
    loan.write_off_ledger_seq = entry.seq
    loan.closed_on = _today(now)
    _move(uow, session.get_one(Application, loan.application_id), Stage.WRITTEN_OFF)
    for line in lines:
        _clear_line_alarms(uow, line, now)
    session.flush()
    return loan


# --- complaints ------------------------------------------------------------------------------


def file_complaint(
    *, uow: UnitOfWork, principal: Principal, application_id: str, category: str, text: str
) -> LoanComplaint:
    session, now = uow.session, uow.now()
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, BANK_ROLES | {Role.BORROWER}, "file a complaint")
    complaint = LoanComplaint(
        organisation_id=application.organisation_id,
        application_id=application.id,
        category=category,
        text=text.strip(),
        status=ComplaintStatus.OPEN,
        filed_by=principal.user_id,
        filed_at=now,
        due_at=now + COMPLAINT_SLA,
    )
    session.add(complaint)
    session.flush()
    return complaint


def complaints(
    *, session: Session, principal: Principal, application_id: str | None = None
) -> list[LoanComplaint]:
    if principal.role == Role.BORROWER:
        mine = [a.id for a in borrower_applications(session=session, principal=principal)]
        query = select(LoanComplaint).where(LoanComplaint.application_id.in_(mine))
    elif principal.role in BANK_ROLES:
        query = select(LoanComplaint).where(
            LoanComplaint.organisation_id == principal.organisation_id
        )
    else:
        return []
    if application_id is not None:
        query = query.where(LoanComplaint.application_id == application_id)
    return list(session.scalars(query.order_by(LoanComplaint.filed_at.desc(), LoanComplaint.id)))


def resolve_complaint(
    *, uow: UnitOfWork, principal: Principal, complaint_id: str, resolution: str
) -> LoanComplaint:
    session = uow.session
    complaint = session.get(LoanComplaint, complaint_id)
    if (
        complaint is None
        or principal.role not in BANK_ROLES
        or complaint.organisation_id != principal.organisation_id
    ):
        raise NotFound("no such complaint")
    if complaint.status != ComplaintStatus.OPEN:
        raise RuleViolation("the complaint is already resolved")
    complaint.status = ComplaintStatus.RESOLVED
    complaint.resolution = resolution.strip()
    complaint.resolved_by, complaint.resolved_at = principal.user_id, uow.now()
    session.flush()
    return complaint


def sla_breached(complaint: LoanComplaint, now: datetime) -> bool:
    closed = complaint.resolved_at or now
    return closed > complaint.due_at
