"""The consumer-protection gates between approval and payout. Services flush, never commit.

In the order a loan meets them: the key-facts disclosure, acknowledged by the borrower; the dual
recording (双录) of the disclosure conversation, quality-checked by a second officer and
anchored in the ledger; the cooling-off period, in which the borrower cancels free of charge;
the callback (回访), a call task raised through the alarm engine whose answers are recorded.
`gates` says which have passed; the disbursement refuses a loan while any has not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts.service import Recipient, Severity, clear_alarm, raise_alarm
from anxin.core.clock import to_local
from anxin.core.errors import InvalidInput, NotFound, PayloadTooLarge, RuleViolation
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.ledger.service import append_entry
from anxin.lending import rates, schedule
from anxin.lending.lifecycle import Stage
from anxin.lending.models import (
    Application,
    Borrower,
    CallbackOutcome,
    DualRecording,
    KeyFactsDisclosure,
    LendingBlob,
    LoanCallback,
    QcOutcome,
)
from anxin.lending.product import EXPECTED_ANSWERS, PRODUCT
from anxin.lending.service import BANK_ROLES, OWNER_KIND, _move, _require, visible_application
from anxin.people import service as people

RECORDING_ENTRY = "lending.dual_recording"
RECORDING_LIMIT = 50 * 1024 * 1024
# Declared type -> the container its first bytes must show (a renamed PDF is refused).
RECORDING_TYPES: dict[str, str] = {
    "audio/mpeg": "mp3",
    "audio/mp4": "mp4",
    "audio/x-m4a": "mp4",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "audio/webm": "webm",
    "video/mp4": "mp4",
    "video/quicktime": "mp4",
    "video/webm": "webm",
}
OFFICERS = frozenset({Role.LOAN_OFFICER, Role.ADMIN})


def sniff(content: bytes) -> str | None:
    """The media container of a file by its magic bytes (None: not a recording we know)."""
    if content[4:8] == b"ftyp":
        return "mp4"
    if content[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if content[:4] == b"RIFF" and content[8:12] == b"WAVE":
        return "wav"
    if content[:4] == b"OggS":
        return "ogg"
    if content[:3] == b"ID3" or (len(content) > 1 and content[0] == 0xFF and content[1] >= 0xE0):
        return "mp3"
    return None


# --- key facts ------------------------------------------------------------------------------


def key_facts(application: Application, on: Any) -> dict[str, Any]:
    """What the borrower must see before consenting, as JSON-ready strings (exact money).

    The schedule's dates count from `on` (the disclosure date); the loan's own dates count from
    its payout, and its amounts are the same (interest is per whole period)."""
    terms = PRODUCT.terms_for(application.amount, application.term_months, on)
    built = schedule.build(terms)
    disclosed = rates.disclosed_rates(built)
    return {
        "product": PRODUCT.code,
        "amount": str(application.amount),
        "term_months": application.term_months,
        "nominal_rate_percent": str((PRODUCT.annual_rate * 100).quantize(Decimal("0.01"))),
        "annualised_rate_percent": str(rates.as_percent(disclosed.annualised)),
        "apr_percent": str(rates.as_percent(disclosed.apr)),
        "upfront_fee": str(terms.upfront_fee),
        "net_disbursed": str(terms.principal - terms.upfront_fee),
        "total_interest": str(built.total_interest),
        "total_fees": str(built.total_fees),
        "total_repayable": str(built.total_repayable),
        "instalment": str(built.instalments[0].total),
        "rounding": terms.rounding.name,
        "cooling_off_days": PRODUCT.cooling_off_days,
        "schedule": [
            {
                "number": i.number,
                "due": i.due.isoformat(),
                "principal": str(i.principal),
                "interest": str(i.interest),
                "fee": str(i.fee),
                "total": str(i.total),
                "balance": str(i.balance),
            }
            for i in built.instalments
        ],
    }


def facts_digest(facts: dict[str, Any]) -> str:
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def disclosure_of(*, session: Session, application_id: str) -> KeyFactsDisclosure | None:
    return session.scalar(
        select(KeyFactsDisclosure).where(KeyFactsDisclosure.application_id == application_id)
    )


def disclose(*, uow: UnitOfWork, principal: Principal, application_id: str) -> KeyFactsDisclosure:
    session, now = uow.session, uow.now()
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, OFFICERS, "disclose the key facts")
    if application.stage != Stage.APPROVED:
        raise RuleViolation(
            f"the application is {application.stage}; only an approved one is disclosed"
        )
    facts = key_facts(application, to_local(now).date())
    disclosure = KeyFactsDisclosure(
        application_id=application.id,
        facts=facts,
        facts_sha256=facts_digest(facts),
        disclosed_by=principal.user_id,
        disclosed_at=now,
    )
    session.add(disclosure)
    _move(uow, application, Stage.DISCLOSED)
    session.flush()
    return disclosure


def acknowledge(
    *, uow: UnitOfWork, principal: Principal, application_id: str, facts_sha256: str
) -> KeyFactsDisclosure:
    """The borrower confirms having read these key facts (named by their digest)."""
    session = uow.session
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, frozenset({Role.BORROWER}), "acknowledge the key facts")
    disclosure = disclosure_of(session=session, application_id=application.id)
    if disclosure is None or application.stage != Stage.DISCLOSED:
        raise RuleViolation(f"the application is {application.stage}; nothing to acknowledge")
    if facts_sha256 != disclosure.facts_sha256:
        raise InvalidInput.field(
            "facts_sha256", "does not match the key facts disclosed; reload the page"
        )
    if disclosure.acknowledged_at is None:
        disclosure.acknowledged_at = uow.now()
        disclosure.acknowledged_by = principal.user_id
        session.flush()
    return disclosure


# --- dual recording ---------------------------------------------------------------------------


def parse_checklist(raw: str) -> list[dict[str, Any]]:
    """The ticked statements with the second of the recording each was said at: a JSON list of
    {"statement", "at_seconds"}; every required statement must be there."""
    try:
        items = json.loads(raw)
    except ValueError:
        raise InvalidInput.field("checklist", "is not JSON") from None
    if not isinstance(items, list):
        raise InvalidInput.field("checklist", "must be a list of {statement, at_seconds}")
    out: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or item.get("statement") not in PRODUCT.recording_statements:
            raise InvalidInput.field(
                f"checklist[{n}].statement",
                "must be one of " + ", ".join(PRODUCT.recording_statements),
            )
        at = item.get("at_seconds")
        if not isinstance(at, int | float) or isinstance(at, bool) or not 0 <= at <= 86400:
            raise InvalidInput.field(
                f"checklist[{n}].at_seconds", "must be a number of seconds into the recording"
            )
        out.append({"statement": item["statement"], "at_seconds": at})
    missing = [s for s in PRODUCT.recording_statements if s not in {i["statement"] for i in out}]
    if missing:
        raise InvalidInput.field("checklist", "missing required statements: " + ", ".join(missing))
    return sorted(out, key=lambda i: (i["at_seconds"], i["statement"]))


def upload_recording(
    *,
    uow: UnitOfWork,
    principal: Principal,
    application_id: str,
    filename: str,
    content_type: str,
    content: bytes,
    checklist: str,
) -> DualRecording:
    session, now = uow.session, uow.now()
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, OFFICERS, "upload a dual recording")
    ticked = parse_checklist(checklist)
    if not content:
        raise InvalidInput.field("file", "the file is empty")
    if len(content) > RECORDING_LIMIT:
        raise PayloadTooLarge(f"a recording may have at most {RECORDING_LIMIT} bytes")
    declared = content_type.split(";")[0].strip().lower()
    if declared not in RECORDING_TYPES:
        raise InvalidInput.field(
            "file", f"{declared or 'no type'} is not an audio or video recording type"
        )
    if sniff(content) != RECORDING_TYPES[declared]:
        raise InvalidInput.field("file", f"the file's contents are not {declared}")
    disclosure = disclosure_of(session=session, application_id=application.id)
    if application.stage != Stage.DISCLOSED or disclosure is None:
        raise RuleViolation(
            f"the application is {application.stage}; the recording follows the disclosure"
        )
    if disclosure.acknowledged_at is None:
        raise RuleViolation("the borrower has not acknowledged the key facts yet")
    digest = hashlib.sha256(content).hexdigest()
    if session.get(LendingBlob, digest) is None:
        session.add(LendingBlob(sha256=digest, size=len(content), content=content, created_at=now))
        session.flush()
    recording = DualRecording(
        application_id=application.id,
        filename=filename[:200],
        content_type=declared,
        sha256=digest,
        size=len(content),
        checklist=ticked,
        uploaded_by=principal.user_id,
        uploaded_at=now,
        qc_outcome=QcOutcome.PENDING,
        qc_note="",
    )
    session.add(recording)
    session.flush()
    return recording


def recordings_of(*, session: Session, application_id: str) -> list[DualRecording]:
    return list(
        session.scalars(
            select(DualRecording)
            .where(DualRecording.application_id == application_id)
            .order_by(DualRecording.uploaded_at, DualRecording.id)
        )
    )


def review_recording(
    *,
    uow: UnitOfWork,
    principal: Principal,
    application_id: str,
    recording_id: str,
    approve: bool,
    note: str,
) -> DualRecording:
    """The quality check by a second officer. Approved: the recording's SHA-256 and checklist
    are anchored in the ledger and the cooling-off period starts."""
    session, now = uow.session, uow.now()
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, BANK_ROLES, "quality-check a recording")
    recording = session.get(DualRecording, recording_id)
    if recording is None or recording.application_id != application.id:
        raise NotFound("no such recording")
    if recording.uploaded_by == principal.user_id:
        raise RuleViolation("the quality check must be done by someone other than the uploader")
    if recording.qc_outcome != QcOutcome.PENDING:
        raise RuleViolation(f"the recording was already {recording.qc_outcome}")
    if application.stage != Stage.DISCLOSED:
        raise RuleViolation(f"the application is {application.stage}; nothing to check")
    recording.qc_by, recording.qc_at, recording.qc_note = principal.user_id, now, note.strip()
    if not approve:
        recording.qc_outcome = QcOutcome.REJECTED
        session.flush()
        return recording
    recording.qc_outcome = QcOutcome.APPROVED
    entry = append_entry(
        session=session,
        entry_type=RECORDING_ENTRY,
        organisation_id=application.organisation_id,
        body={
            "application_id": application.id,
            "recording_sha256": recording.sha256,
            "size": recording.size,
            "checklist": recording.checklist,
            "uploaded_by": recording.uploaded_by,
            "qc_by": principal.user_id,
            "qc_at": now.isoformat(),
        },
        now=now,
    )
    recording.ledger_seq = entry.seq
    _move(uow, application, Stage.RECORDED)
    disclosure = disclosure_of(session=session, application_id=application.id)
    assert disclosure is not None  # the stage DISCLOSED is reached only with one
    disclosure.cooling_off_ends_at = now + timedelta(days=PRODUCT.cooling_off_days)
    _move(uow, application, Stage.COOLING_OFF)
    session.flush()
    return recording


# --- cancelling, free of charge ---------------------------------------------------------------

CANCELLABLE = frozenset(
    {
        Stage.APPLICATION,
        Stage.REVIEW,
        Stage.APPROVED,
        Stage.DISCLOSED,
        Stage.RECORDED,
        Stage.COOLING_OFF,
        Stage.CALLBACK,
    }
)


def cancel(
    *, uow: UnitOfWork, principal: Principal, application_id: str, reason: str
) -> Application:
    """The borrower (or the officer, for them) cancels before payout; nothing is charged."""
    session, now = uow.session, uow.now()
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, OFFICERS | {Role.BORROWER}, "cancel an application")
    if application.stage not in CANCELLABLE:
        raise RuleViolation(
            f"the application is {application.stage}; it can no longer be cancelled"
        )
    _move(uow, application, Stage.CANCELLED)
    application.purpose_detail = (application.purpose_detail + f" [cancelled: {reason}]")[:500]
    clear_alarm(
        uow=uow,
        source_kind=OWNER_KIND,
        source_id=application.id,
        alarm_type="callback_due",
        now=now,
        reason="application cancelled",
    )
    session.flush()
    return application


# --- callback -----------------------------------------------------------------------------------


def _recipients(session: Session, application: Application) -> list[Recipient]:
    """The officer who took the application, the bank's risk officers and the borrower."""
    out = []
    officer = people.user_by_id(session=session, user_id=application.officer_id)
    if officer is not None:
        out.append(Recipient("bank_officer", officer.display_name, officer.id, officer.phone))
    for user in people.active_users_with_roles(
        session=session, organisation_id=application.organisation_id, roles=(Role.RISK_OFFICER,)
    ):
        out.append(Recipient("risk_officer", user.display_name, user.id, user.phone))
    borrower = session.get_one(Borrower, application.borrower_id)
    out.append(Recipient("borrower", borrower.name, borrower.user_id, borrower.phone))
    return out


def callbacks_of(*, session: Session, application_id: str) -> list[LoanCallback]:
    return list(
        session.scalars(
            select(LoanCallback)
            .where(LoanCallback.application_id == application_id)
            .order_by(LoanCallback.attempt)
        )
    )


def _raise_callback(
    uow: UnitOfWork, application: Application, attempt: int, now: datetime
) -> LoanCallback:
    borrower = uow.session.get_one(Borrower, application.borrower_id)
    # Each retry repeats the one open call task; past the product's attempts it is major.
    severity = Severity.MAJOR if attempt > PRODUCT.callback_attempts else Severity.MINOR
    alarm = raise_alarm(
        uow=uow,
        organisation_id=application.organisation_id,
        owner_kind=OWNER_KIND,
        owner_id=application.id,
        source_kind=OWNER_KIND,
        source_id=application.id,
        alarm_type="callback_due",
        severity=severity,
        title=f"贷前回访 Callback {borrower.name} ({attempt})",
        details={"attempt": attempt, "phone": borrower.phone, "application_id": application.id},
        policy="lending_callback",
        recipients=_recipients(uow.session, application),
        now=now,
    )
    callback = LoanCallback(
        application_id=application.id,
        attempt=attempt,
        alarm_id=alarm.id,
        outcome=CallbackOutcome.PENDING,
        answers={},
        note="",
        raised_at=now,
    )
    uow.session.add(callback)
    return callback


def start_callback(*, uow: UnitOfWork, principal: Principal, application_id: str) -> LoanCallback:
    """When the cooling-off period is over: raise the callback task (the first attempt)."""
    session, now = uow.session, uow.now()
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, OFFICERS, "start the callback")
    disclosure = disclosure_of(session=session, application_id=application.id)
    if application.stage != Stage.COOLING_OFF or disclosure is None:
        raise RuleViolation(
            f"the application is {application.stage}; the callback follows the cooling-off period"
        )
    ends = disclosure.cooling_off_ends_at
    if ends is None or now < ends:
        raise RuleViolation(f"the cooling-off period runs until {ends}; the callback comes after")
    _move(uow, application, Stage.CALLBACK)
    callback = _raise_callback(uow, application, 1, now)
    session.flush()
    return callback


def record_callback(
    *,
    uow: UnitOfWork,
    principal: Principal,
    application_id: str,
    reached: bool,
    answers: dict[str, bool],
    note: str,
) -> LoanCallback:
    """The officer's record of a call: unreached is retried (and after the product's number of
    attempts escalated to the risk officer); reached, the answers decide."""
    session, now = uow.session, uow.now()
    application = visible_application(
        session=session, principal=principal, application_id=application_id
    )
    _require(principal, BANK_ROLES, "record a callback")
    attempts = callbacks_of(session=session, application_id=application.id)
    current = attempts[-1] if attempts else None
    if (
        application.stage != Stage.CALLBACK
        or current is None
        or current.outcome != CallbackOutcome.PENDING
    ):
        raise RuleViolation(f"the application is {application.stage}; no callback is open")
    if reached:
        missing = [q.code for q in PRODUCT.callback_script if q.code not in answers]
        unknown = sorted(set(answers) - {q.code for q in PRODUCT.callback_script})
        if missing or unknown:
            raise InvalidInput.field(
                "answers",
                ("missing: " + ", ".join(missing) if missing else "")
                + ("; " if missing and unknown else "")
                + ("unknown: " + ", ".join(unknown) if unknown else ""),
            )
    current.answers = dict(answers) if reached else {}
    current.note = note.strip()
    current.recorded_by, current.recorded_at = principal.user_id, now
    if not reached:
        current.outcome = CallbackOutcome.UNREACHED
        # Retried at once as a new attempt; from the product's limit on, it escalates (major).
        _raise_callback(uow, application, current.attempt + 1, now)
        session.flush()
        return current
    clear_alarm(
        uow=uow,
        source_kind=OWNER_KIND,
        source_id=application.id,
        alarm_type="callback_due",
        now=now,
        reason="callback recorded",
    )
    if all(answers[k] == v for k, v in EXPECTED_ANSWERS.items()):
        current.outcome = CallbackOutcome.CONFIRMED
    else:
        current.outcome = CallbackOutcome.REFUSED
        _move(uow, application, Stage.CANCELLED)
    session.flush()
    return current


# --- the gates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    code: str
    passed: bool
    detail: str


def gates(*, session: Session, application: Application, now: datetime) -> list[Gate]:
    disclosure = disclosure_of(session=session, application_id=application.id)
    recordings = recordings_of(session=session, application_id=application.id)
    approved = [r for r in recordings if r.qc_outcome == QcOutcome.APPROVED]
    callbacks = callbacks_of(session=session, application_id=application.id)
    ends = disclosure.cooling_off_ends_at if disclosure else None
    return [
        Gate(
            "disclosure",
            disclosure is not None and disclosure.acknowledged_at is not None,
            "acknowledged by the borrower"
            if disclosure and disclosure.acknowledged_at
            else "key facts not yet disclosed and acknowledged",
        ),
        Gate(
            "dual_recording",
            any(r.ledger_seq is not None for r in approved),
            f"quality-checked, ledger entry {approved[0].ledger_seq}"
            if approved
            else "no recording has passed its quality check",
        ),
        Gate(
            "cooling_off",
            ends is not None and now >= ends,
            f"ends {ends.isoformat()}" if ends else "not started",
        ),
        Gate(
            "callback",
            any(c.outcome == CallbackOutcome.CONFIRMED for c in callbacks),
            "confirmed by the borrower"
            if any(c.outcome == CallbackOutcome.CONFIRMED for c in callbacks)
            else "no confirmed callback",
        ),
    ]
