"""Changes to a stored loan's schedule: prepayment, and rescheduling with four eyes.

The stored lines of a loan are always the cash-flow core's schedule (`schedule.build` from the
payout terms) with every applied change replayed on it (`schedule.prepay`,
`schedule.reschedule`): a change stores exactly what the core was given, so any version can be
rebuilt and the one in force is checked against the stored lines before it is changed again.
A change replaces the lines after its date with the core's new ones, keeps the lines it
replaced (with what had been paid on them) for audit, raises the loan's schedule version and
anchors the new schedule's digest in the ledger, as the dual recording and the write-off are.
Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.errors import Conflict, InvalidInput, PermissionDenied, RuleViolation
from anxin.core.security import Principal
from anxin.core.unit import UnitOfWork
from anxin.ledger.service import append_entry
from anxin.lending import schedule
from anxin.lending.lifecycle import Stage
from anxin.lending.loans import (
    ZERO,
    _clear_line_alarms,
    _today,
    lines_of,
    loan_of,
    new_line,
    penalty_owed,
)
from anxin.lending.models import (
    Application,
    ChangeKind,
    ChangeStatus,
    LoanAccount,
    LoanLine,
    LoanRepayment,
    LoanScheduleChange,
    LoanStatus,
)
from anxin.lending.product import PRODUCT
from anxin.lending.schedule import PrepaymentEffect, Schedule
from anxin.lending.service import BANK_ROLES, _move, _require

CHANGE_ENTRY = "lending.schedule_change"
MAX_RATE = Decimal("0.24")  # a rescheduled rate above this is refused (input error)


def _bank_loan(
    uow: UnitOfWork, principal: Principal, application_id: str, doing: str
) -> tuple[Session, datetime, LoanAccount]:
    """The caller's loan, if they are one of the bank's officers."""
    loan = loan_of(session=uow.session, principal=principal, application_id=application_id)
    _require(principal, BANK_ROLES, doing)
    return uow.session, uow.now(), loan


# --- the schedule in force, rebuilt by the core ----------------------------------------------


def changes_of(*, session: Session, loan_id: str) -> list[LoanScheduleChange]:
    return list(
        session.scalars(
            select(LoanScheduleChange)
            .where(LoanScheduleChange.loan_id == loan_id)
            .order_by(LoanScheduleChange.requested_at, LoanScheduleChange.id)
        )
    )


def _apply(core: Schedule, change: LoanScheduleChange) -> Schedule:
    p = change.params
    if change.kind is ChangeKind.PREPAYMENT:
        return schedule.prepay(
            core, change.effective_on, Decimal(p["core_amount"]), PrepaymentEffect(p["effect"])
        )
    return schedule.reschedule(
        core,
        change.effective_on,
        annual_rate=Decimal(p["annual_rate"]) if p.get("annual_rate") is not None else None,
        periods=p.get("periods"),
        grace=p.get("grace", 0),
    )


def _in_force(session: Session, loan: LoanAccount) -> Schedule:
    """The core's schedule of the version in force: the payout schedule, changes replayed."""
    application = session.get_one(Application, loan.application_id)
    terms = PRODUCT.terms_for(loan.principal, application.term_months, loan.start)
    core = schedule.build(terms)
    applied = [
        c for c in changes_of(session=session, loan_id=loan.id) if c.status is ChangeStatus.APPLIED
    ]
    for change in sorted(applied, key=lambda c: c.version or 0):
        core = _apply(core, change)
    return core


def _check_stored(core: Schedule, lines: list[LoanLine]) -> None:
    """The stored lines are the core's (a difference would mean a change lost on the way)."""
    stored = [(x.number, x.due, x.principal, x.interest) for x in lines]
    built = [(i.number, i.due, i.principal, i.interest) for i in core.instalments]
    if stored != built:
        raise RuleViolation("the stored schedule differs from its history; it cannot be changed")


def _open_lines(session: Session, loan: LoanAccount, on: date) -> tuple[Schedule, list[LoanLine]]:
    """The core schedule and stored lines of an active loan about to change on `on`. Lines
    after `on` are replaced, so none of them may have been paid on yet."""
    if loan.status is not LoanStatus.ACTIVE:
        raise RuleViolation(f"the loan is {loan.status}; its schedule cannot change")
    lines = lines_of(session=session, loan_id=loan.id)
    core = _in_force(session, loan)
    _check_stored(core, lines)
    paid_ahead = [
        x.number
        for x in lines
        if x.due > on and x.paid_principal + x.paid_interest + x.paid_fee + x.paid_penalty > 0
    ]
    if paid_ahead:
        raise RuleViolation(
            f"instalment {paid_ahead[0]} is not yet due but has payments against it; "
            "refund or re-apply them before changing the schedule"
        )
    return core, lines


def _snapshot(lines: list[LoanLine]) -> list[dict[str, Any]]:
    fields = ("principal", "interest", "fee", "paid_principal", "paid_interest", "paid_fee")
    return [
        {
            "number": x.number,
            "due": x.due.isoformat(),
            **{f: str(getattr(x, f)) for f in fields},
            "penalty": str(x.penalty),
            "paid_penalty": str(x.paid_penalty),
        }
        for x in lines
    ]


def _replace(
    uow: UnitOfWork,
    loan: LoanAccount,
    change: LoanScheduleChange,
    lines: list[LoanLine],
    new: Schedule,
    extra_fee: Decimal = ZERO,
) -> list[LoanLine]:
    """Put the core's new schedule in force: lines it keeps stand, the others are replaced."""
    session, now = uow.session, uow.now()
    kept = {x.number for x in lines if x.due <= change.effective_on}
    stale = [x for x in lines if x.number not in kept]
    for line in stale:
        _clear_line_alarms(uow, line, now)
        session.delete(line)
    session.flush()  # the numbers are reused by the new lines
    added = [
        new_line(loan.id, i, extra_fee if i.kind is schedule.Kind.PREPAYMENT else ZERO)
        for i in new.instalments
        if i.number not in kept
    ]
    session.add_all(added)
    loan.schedule_version += 1
    loan.annual_rate = new.terms.annual_rate
    change.version = loan.schedule_version
    change.replaced = _snapshot(lines)
    change.status = ChangeStatus.APPLIED
    digest = hashlib.sha256(
        json.dumps(
            [
                [i.number, i.due.isoformat(), str(i.principal), str(i.interest)]
                for i in new.instalments
            ]
        ).encode()
    ).hexdigest()
    entry = append_entry(
        session=session,
        entry_type=CHANGE_ENTRY,
        organisation_id=loan.organisation_id,
        body={
            "loan_id": loan.id,
            "kind": change.kind.value,
            "version": change.version,
            "on": change.effective_on.isoformat(),
            "params": change.params,
            "schedule_sha256": digest,
            "requested_by": change.requested_by,
            "approved_by": change.decided_by,
        },
        now=now,
    )
    change.ledger_seq = entry.seq
    session.flush()
    return added


# --- prepayment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    on: date
    principal: Decimal  # outstanding after the instalments due up to today
    accrued: Decimal  # interest since the last due date
    fee: Decimal  # the product's prepayment fee on that principal
    arrears: Decimal  # owed on instalments due up to today (to be paid first)

    @property
    def total(self) -> Decimal:
        return self.principal + self.accrued + self.fee


def _arrears(lines: list[LoanLine], on: date) -> Decimal:
    return sum(
        (x.outstanding + penalty_owed(x, on) for x in lines if x.due <= on),
        ZERO,
    )


def _quote(
    session: Session, loan: LoanAccount, today: date
) -> tuple[Quote, Schedule, list[LoanLine]]:
    core, lines = _open_lines(session, loan, today)
    payoff = schedule.payoff(core, today)
    q = Quote(
        on=today,
        principal=payoff.principal,
        accrued=payoff.accrued,
        fee=PRODUCT.prepayment_fee(payoff.principal),
        arrears=_arrears(lines, today),
    )
    return q, core, lines


def quote(*, session: Session, principal: Principal, application_id: str, today: date) -> Quote:
    """The amount that repays the loan in full today."""
    loan = loan_of(session=session, principal=principal, application_id=application_id)
    _require(principal, BANK_ROLES, "quote a prepayment")
    return _quote(session, loan, today)[0]


def _split_fee(amount: Decimal, accrued: Decimal, q: Quote) -> Decimal:
    """The fee inside a prepayment of `amount`: principal p pays fee p × rate, and
    accrued + p + fee = amount. The whole quote carries the quote's fee exactly."""
    if amount == q.total:
        return q.fee
    rate = PRODUCT.prepayment_fee_rate
    return ((amount - accrued) * rate / (1 + rate)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def prepay(
    *,
    uow: UnitOfWork,
    principal: Principal,
    application_id: str,
    amount: Decimal,
    effect: PrepaymentEffect,
    idempotency_key: str,
) -> LoanScheduleChange:
    """Repay `amount` early today; the same key again returns the same prepayment."""
    session, now, loan = _bank_loan(uow, principal, application_id, "take a prepayment")
    earlier = session.scalar(
        select(LoanScheduleChange).where(
            LoanScheduleChange.loan_id == loan.id,
            LoanScheduleChange.idempotency_key == idempotency_key,
        )
    )
    if earlier is not None:
        if earlier.params.get("amount") != str(amount) or earlier.params.get("effect") != effect:
            raise Conflict("this idempotency key was used for another prepayment")
        return earlier
    today = _today(now)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput.field("amount", "must be a positive amount in whole fen")
    q, core, lines = _quote(session, loan, today)
    if q.arrears > 0:
        raise RuleViolation(
            f"{q.arrears} is owed on instalments due up to today; it is repaid first"
        )
    if amount > q.total:
        raise InvalidInput.field("amount", f"exceeds the {q.total} that repays the loan in full")
    fee = _split_fee(amount, q.accrued, q)
    if amount - fee <= q.accrued:
        raise InvalidInput.field(
            "amount", f"must exceed the {q.accrued + fee} of interest (and fee) accrued to today"
        )
    core_amount = amount - fee
    new = schedule.prepay(core, today, core_amount, effect)
    change = LoanScheduleChange(
        loan_id=loan.id,
        kind=ChangeKind.PREPAYMENT,
        status=ChangeStatus.PENDING,
        effective_on=today,
        params={
            "amount": str(amount),
            "core_amount": str(core_amount),
            "fee": str(fee),
            "effect": effect.value,
        },
        idempotency_key=idempotency_key,
        replaced=[],
        requested_by=principal.user_id,
        requested_at=now,
    )
    session.add(change)
    session.flush()
    added = _replace(uow, loan, change, lines, new, extra_fee=fee)
    # The prepayment line is paid by the prepayment itself, recorded as a repayment so the
    # statement's payments and the paid columns agree.
    number = max(i.number for i in new.instalments if i.kind is schedule.Kind.PREPAYMENT)
    line = next(x for x in added if x.number == number)
    line.paid_principal, line.paid_interest, line.paid_fee = line.principal, line.interest, fee
    session.add(
        LoanRepayment(
            loan_id=loan.id,
            reference=f"prepayment:{idempotency_key}"[:120],
            amount=amount,
            received_on=today,
            source="prepay",
            allocation=[
                {"instalment": line.number, "component": c, "amount": str(v)}
                for c, v in (
                    ("interest", line.interest),
                    ("fee", fee),
                    ("principal", line.principal),
                )
                if v > 0
            ],
            unapplied=ZERO,
            recorded_by=principal.user_id,
            recorded_at=now,
        )
    )
    if new.instalments[-1].balance == 0 and new.instalments[-1].kind is schedule.Kind.PREPAYMENT:
        loan.status = LoanStatus.CLOSED
        loan.closed_on = today
        _move(uow, session.get_one(Application, loan.application_id), Stage.CLOSED)
    session.flush()
    return change


# --- rescheduling ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RescheduleTerms:
    annual_rate: Decimal | None
    periods: int | None
    grace: int


def _reschedule_from(lines: list[LoanLine], loan: LoanAccount, today: date) -> date:
    """A rescheduling starts at the last due date up to today (or the payout)."""
    return max((x.due for x in lines if x.due <= today), default=loan.start)


def preview(session: Session, loan: LoanAccount, on: date, terms: RescheduleTerms) -> Schedule:
    core, _ = _open_lines(session, loan, on)
    try:
        return schedule.reschedule(
            core, on, annual_rate=terms.annual_rate, periods=terms.periods, grace=terms.grace
        )
    except ValueError as e:
        raise InvalidInput.field("grace" if "grace" in str(e) else "periods", str(e)) from None


def propose_reschedule(
    *,
    uow: UnitOfWork,
    principal: Principal,
    application_id: str,
    terms: RescheduleTerms,
    reason: str,
) -> LoanScheduleChange:
    """A hardship rescheduling, proposed by one officer; a second one approves it."""
    session, now, loan = _bank_loan(uow, principal, application_id, "propose a rescheduling")
    if terms.annual_rate is None and terms.periods is None and terms.grace == 0:
        raise InvalidInput.field("periods", "give a new rate, number of periods or grace")
    if terms.annual_rate is not None and not 0 <= terms.annual_rate <= MAX_RATE:
        raise InvalidInput.field("annual_rate", f"must be between 0 and {MAX_RATE}")
    pending = [
        c for c in changes_of(session=session, loan_id=loan.id) if c.status is ChangeStatus.PENDING
    ]
    if pending:
        raise RuleViolation("a rescheduling of this loan already awaits approval")
    lines = lines_of(session=session, loan_id=loan.id)
    on = _reschedule_from(lines, loan, _today(now))
    preview(session, loan, on, terms)  # refuses what the core refuses, before anyone approves
    change = LoanScheduleChange(
        loan_id=loan.id,
        kind=ChangeKind.RESCHEDULE,
        status=ChangeStatus.PENDING,
        effective_on=on,
        params={
            "annual_rate": None if terms.annual_rate is None else str(terms.annual_rate),
            "periods": terms.periods,
            "grace": terms.grace,
        },
        reason=reason.strip(),
        replaced=[],
        requested_by=principal.user_id,
        requested_at=now,
    )
    session.add(change)
    session.flush()
    return change


def _pending(session: Session, loan: LoanAccount, change_id: str) -> LoanScheduleChange:
    change = session.get(LoanScheduleChange, change_id)
    if change is None or change.loan_id != loan.id or change.kind is not ChangeKind.RESCHEDULE:
        raise InvalidInput.field("change_id", "no such rescheduling of this loan")
    if change.status is not ChangeStatus.PENDING:
        raise RuleViolation(f"the rescheduling is already {change.status}")
    return change


def decide_reschedule(
    *,
    uow: UnitOfWork,
    principal: Principal,
    application_id: str,
    change_id: str,
    approve: bool,
    note: str,
) -> LoanScheduleChange:
    """The second officer's decision; an approval puts the new schedule in force."""
    session, now, loan = _bank_loan(uow, principal, application_id, "approve a rescheduling")
    change = _pending(session, loan, change_id)
    if change.requested_by == principal.user_id:
        raise PermissionDenied("a rescheduling is approved by a second officer, not its proposer")
    change.decided_by, change.decided_at, change.decision_note = principal.user_id, now, note
    if not approve:
        change.status = ChangeStatus.REJECTED
        session.flush()
        return change
    core, lines = _open_lines(session, loan, change.effective_on)
    new = _apply(core, change)
    _replace(uow, loan, change, lines, new)
    return change
