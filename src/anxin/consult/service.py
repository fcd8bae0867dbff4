"""Consultations: requests, the doctors' queue and its triage, threads, the clinical record.

Who sees a consultation (issue 19, "Access"): the elder, the elder's consented family, the
elder's butler and the treating doctor. A waiting request is also shown to every doctor of
the organisation, because that is the queue a doctor takes it from; once taken, it is the
treating doctor's alone. Anyone else gets 404, so a consultation's existence does not leak.
Every read of a clinical record writes an audit row (`_audit_read`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, false, func, insert, or_, select
from sqlalchemy.orm import Session

from anxin.alerts import service as alerts
from anxin.alerts.service import Channel
from anxin.consult import drugs, fhir
from anxin.consult.models import (
    Allergy,
    Attachment,
    Consultation,
    ConsultationStatus,
    Dose,
    DoseStatus,
    FollowUp,
    Message,
    Prescription,
    PrescriptionStatus,
)
from anxin.consult.schemas import (
    AllergyCreate,
    ConsultationCreate,
    EncounterUpdate,
    FollowUpCreate,
    PrescriptionCreate,
)
from anxin.core.audit import AuditLog
from anxin.core.clock import SHANGHAI, to_local
from anxin.core.errors import FieldProblem, InvalidInput, NotFound, PermissionDenied, RuleViolation
from anxin.core.events import Event
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.homecare import flows as care_flows
from anxin.homecare import service as homecare
from anxin.homecare import sleep_service
from anxin.homecare.sleep import Thresholds, last_night
from anxin.iot import service as iot
from anxin.people import service as people

if TYPE_CHECKING:
    from anxin.homecare.models import Elder

REQUESTERS = frozenset({Role.ELDER, Role.FAMILY, Role.BUTLER})
MAX_ATTACHMENT = 10 * 1024 * 1024  # a phone photo or a scanned report fits
# Formats are recognised by their first bytes, not by what the client claims.
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
ALARM_PRIORITY, VITALS_PRIORITY = 2, 1
LIMITS = Thresholds()


# -- access ------------------------------------------------------------------------------------


def _own_elder_ids(session: Session, principal: Principal) -> list[str]:
    """The elders this requester speaks for: their own, their consented family's, their
    butler's charges."""
    elders = homecare.list_elders(session=session, principal=principal)
    if principal.role == Role.BUTLER:
        return [e.id for e in elders if e.butler_user_id == principal.user_id]
    if principal.role in (Role.ELDER, Role.FAMILY):
        return [e.id for e in elders]
    return []


def _visible(session: Session, principal: Principal) -> Select[Consultation]:
    stmt = select(Consultation).where(Consultation.organisation_id == principal.organisation_id)
    if principal.role == Role.DOCTOR:
        return stmt.where(
            or_(
                Consultation.doctor_user_id == principal.user_id,
                Consultation.status == ConsultationStatus.WAITING,
            )
        )
    if principal.role in REQUESTERS:
        return stmt.where(Consultation.elder_id.in_(_own_elder_ids(session, principal)))
    return stmt.where(false())


def _audit_read(uow: UnitOfWork, entity_type: str, entity_id: str) -> None:
    """Reads of clinical records are audited like changes (issue 19: "every read")."""
    row = {"at": uow.now(), "actor": uow.actor, "action": "read", "entity_type": entity_type,
           "entity_id": entity_id, "before": None, "after": None}  # fmt: skip
    uow.session.execute(insert(AuditLog), [row])


def get_consultation(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str
) -> Consultation:
    found = uow.session.scalar(
        _visible(uow.session, principal).where(Consultation.id == consultation_id)
    )
    if found is None:
        raise NotFound(f"no consultation {consultation_id}")
    _audit_read(uow, "consultations", found.id)
    return found


def list_consultations(
    *, uow: UnitOfWork, principal: Principal, elder_id: str | None = None
) -> list[Consultation]:
    stmt = _visible(uow.session, principal)
    if elder_id is not None:
        stmt = stmt.where(Consultation.elder_id == elder_id)
    return list(uow.session.scalars(stmt.order_by(Consultation.created_at.desc())))


def _record_elder(uow: UnitOfWork, principal: Principal, elder_id: str) -> Elder:
    """An elder whose clinical record the caller may read: a requester's own elder, or an
    elder with a consultation the doctor sees (in the queue or treated by them)."""
    session = uow.session
    if principal.role == Role.DOCTOR:
        seen = session.scalar(
            _visible(session, principal).where(Consultation.elder_id == elder_id).limit(1)
        )
        if seen is None:
            raise NotFound(f"no elder {elder_id}")
    elif elder_id not in _own_elder_ids(session, principal):
        raise NotFound(f"no elder {elder_id}")
    elder = homecare.get_elder(session=session, principal=principal, elder_id=elder_id)
    _audit_read(uow, "elders", elder.id)
    return elder


def _treating(uow: UnitOfWork, principal: Principal, consultation_id: str) -> Consultation:
    consultation = get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    if principal.role != Role.DOCTOR:
        raise PermissionDenied("only the treating doctor writes the clinical record")
    if consultation.doctor_user_id != principal.user_id:
        raise RuleViolation("take the consultation from the queue first")
    if consultation.status == ConsultationStatus.CLOSED:
        raise RuleViolation("the consultation is closed")
    return consultation


def publish(uow: UnitOfWork, consultation: Consultation, verb: str) -> None:
    # The live hub pings the viewers who may see this consultation; the page refetches.
    payload = {"organisation_id": consultation.organisation_id, "owner_kind": "consultation",
               "owner_id": consultation.id}  # fmt: skip
    uow.publish(Event(f"consult.consultation.{verb}", payload, uow.now()))


QUEUE_OWNER = "consult_queue"  # the owner kind of the doctors' queue: one per organisation


def publish_queue(uow: UnitOfWork, organisation_id: str, verb: str) -> None:
    """Tell the organisation's doctors that their queue changed (a request came, was taken or
    closed, or an elder's triage may have moved); their queue page refetches its rows."""
    payload = {"organisation_id": organisation_id, "owner_kind": QUEUE_OWNER,
               "owner_id": organisation_id}  # fmt: skip
    uow.publish(Event(f"consult.consultation.queue_{verb}", payload, uow.now()))


def queue_scope(session: Session, principal: Principal) -> Collection[str] | None:
    """Owner scope of kind "consult_queue": every doctor hears about their organisation's
    queue (None: all of it; the hub checks the organisation); nobody else does."""
    return None if principal.role == Role.DOCTOR else set()


def on_triage_event(uow: UnitOfWork, event: Event) -> None:
    """An alarm changed at a home, or the sleep mat measured abnormal vitals there: if an elder
    of that home has an open consultation, its triage priority may have moved, so the doctors'
    queue is pinged. Normal readings (every few seconds) do not ping: the queue catches up on
    the next ping or reload when vitals return to normal."""
    p = event.payload
    if p.get("owner_kind") != "household" or not p.get("owner_id"):
        return
    if event.subject.startswith("iot.telemetry."):
        values = [r.get("values", {}) for r in p.get("readings", [])]
        if not any(_abnormal(k, v) for vals in values for k, v in vals.items()):
            return
    elders = homecare.elders_of_household(session=uow.session, household_id=str(p["owner_id"]))
    open_one = uow.session.scalar(
        select(Consultation.id)
        .where(
            Consultation.elder_id.in_([e.id for e in elders]),
            Consultation.status != ConsultationStatus.CLOSED,
        )
        .limit(1)
    )
    if open_one is not None:
        publish_queue(uow, str(p["organisation_id"]), "triage")


def visible_consultation_ids(session: Session, principal: Principal) -> Collection[str] | None:
    """The owner scope of kind "consultation" (live updates of threads)."""
    return set(session.scalars(_visible(session, principal).with_only_columns(Consultation.id)))


# -- requests and the queue --------------------------------------------------------------------


def request_consultation(
    *, uow: UnitOfWork, principal: Principal, data: ConsultationCreate
) -> Consultation:
    if principal.role not in REQUESTERS:
        raise PermissionDenied("the elder, the family or the butler asks for a consultation")
    if data.elder_id not in _own_elder_ids(uow.session, principal):
        raise InvalidInput.field("elder_id", f"no elder {data.elder_id} you may ask for")
    consultation = Consultation(
        organisation_id=principal.organisation_id,
        elder_id=data.elder_id,
        requested_by_user_id=principal.user_id,
        mode=data.mode,
        complaint=data.complaint,
        status=ConsultationStatus.WAITING,
        created_at=uow.now(),
    )
    uow.session.add(consultation)
    uow.session.flush()
    publish(uow, consultation, "requested")
    publish_queue(uow, consultation.organisation_id, "requested")
    return consultation


@dataclass(frozen=True)
class Triage:
    priority: int
    reasons: list[str]


def _abnormal(key: str, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if key == "heart_rate":
        return bool(value > LIMITS.hr_high or value < LIMITS.hr_low)
    if key == "respiration_rate":
        return bool(value < LIMITS.rr_low)
    return False


def latest_vitals(uow: UnitOfWork, principal: Principal, elder: Elder) -> list[dict[str, Any]]:
    """The sleep mat's latest heart and respiration rates, each marked abnormal or not."""
    mat = sleep_service.elder_sleep_mat(uow.session, elder.household_id, elder.id)
    if mat is None:
        return []
    values = iot.latest_values(uow=uow, principal=principal, device_id=mat.id)
    return [
        {**v, "abnormal": _abnormal(v["key"], v["value"])}
        for v in values
        if v["key"] in ("heart_rate", "respiration_rate")
    ]


def triage(uow: UnitOfWork, principal: Principal, elder: Elder) -> Triage:
    """An active alarm at the elder's home outranks abnormal vitals, which outrank nothing."""
    reasons, priority = [], 0
    alarms = alerts.list_alarms(
        uow=uow, principal=principal, owner_kind="household", owner_id=elder.household_id,
        active=True, limit=1,
    )  # fmt: skip
    if alarms:
        reasons.append("active_alarm")
        priority += ALARM_PRIORITY
    if any(v["abnormal"] for v in latest_vitals(uow, principal, elder)):
        reasons.append("abnormal_vitals")
        priority += VITALS_PRIORITY
    return Triage(priority, reasons)


@dataclass(frozen=True)
class QueueEntry:
    consultation: Consultation
    elder: Elder
    triage: Triage


def queue(*, uow: UnitOfWork, principal: Principal) -> list[QueueEntry]:
    """The doctor's queue: waiting requests and the doctor's own open ones, most urgent first,
    then oldest first. Triage is computed now, so an alarm raised after the request counts."""
    if principal.role != Role.DOCTOR:
        raise PermissionDenied("the queue is the doctors'")
    stmt = _visible(uow.session, principal).where(Consultation.status != ConsultationStatus.CLOSED)
    entries = []
    for consultation in uow.session.scalars(stmt):
        elder = homecare.get_elder(
            session=uow.session, principal=principal, elder_id=consultation.elder_id
        )
        entries.append(QueueEntry(consultation, elder, triage(uow, principal, elder)))
    entries.sort(key=lambda e: (-e.triage.priority, e.consultation.created_at, e.consultation.id))
    return entries


def take(*, uow: UnitOfWork, principal: Principal, consultation_id: str) -> Consultation:
    consultation = get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    if principal.role != Role.DOCTOR:
        raise PermissionDenied("a doctor takes a consultation")
    if consultation.status != ConsultationStatus.WAITING:
        raise RuleViolation("another doctor has taken this consultation")
    consultation.status = ConsultationStatus.ACTIVE
    consultation.doctor_user_id = principal.user_id
    consultation.taken_at = uow.now()
    uow.session.flush()
    publish(uow, consultation, "taken")
    publish_queue(uow, consultation.organisation_id, "taken")
    return consultation


def close(*, uow: UnitOfWork, principal: Principal, consultation_id: str) -> Consultation:
    consultation = _treating(uow, principal, consultation_id)
    consultation.status = ConsultationStatus.CLOSED
    consultation.closed_at = uow.now()
    uow.session.flush()
    publish(uow, consultation, "closed")
    publish_queue(uow, consultation.organisation_id, "closed")
    return consultation


def attachments_of(*, session: Session, consultation_id: str) -> list[Attachment]:
    stmt = (
        select(Attachment)
        .where(Attachment.consultation_id == consultation_id)
        .order_by(Attachment.created_at, Attachment.id)
    )
    return list(session.scalars(stmt))


def sniff(data: bytes) -> str | None:
    """The content type the bytes are, among the accepted ones (PDF, PNG, JPEG)."""
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)


def add_attachment(
    *,
    uow: UnitOfWork,
    principal: Principal,
    consultation_id: str,
    filename: str,
    data: bytes,
) -> Attachment:
    consultation = get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    if consultation.status == ConsultationStatus.CLOSED:
        raise RuleViolation("the consultation is closed")
    if not data:
        raise InvalidInput.field("file", "the file is empty")
    if len(data) > MAX_ATTACHMENT:
        raise InvalidInput.field("file", f"larger than {MAX_ATTACHMENT // (1024 * 1024)} MiB")
    kind = sniff(data)
    if kind is None:
        raise InvalidInput.field("file", "not a PDF, PNG or JPEG file")
    attachment = Attachment(
        consultation_id=consultation.id,
        filename=(filename or "attachment")[:200],
        content_type=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_user_id=principal.user_id,
        created_at=uow.now(),
    )
    uow.session.add(attachment)
    uow.session.flush()
    publish(uow, consultation, "attached")
    return attachment


def get_attachment(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str, attachment_id: str
) -> Attachment:
    consultation = get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    found = uow.session.get(Attachment, attachment_id)
    if found is None or found.consultation_id != consultation.id:
        raise NotFound(f"no attachment {attachment_id}")
    _audit_read(uow, "consultation_attachments", found.id)
    return found


# -- the thread --------------------------------------------------------------------------------


def post_message(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str, body: str
) -> Message:
    consultation = get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    if consultation.status == ConsultationStatus.CLOSED:
        raise RuleViolation("the consultation is closed")
    if principal.role == Role.DOCTOR and consultation.doctor_user_id != principal.user_id:
        raise RuleViolation("take the consultation from the queue first")
    user = people.user_by_id(session=uow.session, user_id=principal.user_id)
    last = uow.session.scalar(
        select(func.max(Message.seq)).where(Message.consultation_id == consultation.id)
    )
    message = Message(
        consultation_id=consultation.id,
        seq=(last or 0) + 1,
        author_user_id=principal.user_id,
        author_name=user.display_name if user else principal.username,
        body=body,
        created_at=uow.now(),
    )
    uow.session.add(message)
    uow.session.flush()
    publish(uow, consultation, "message")
    return message


def messages(*, uow: UnitOfWork, principal: Principal, consultation_id: str) -> list[Message]:
    consultation = get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    stmt = select(Message).where(Message.consultation_id == consultation.id).order_by(Message.seq)
    return list(uow.session.scalars(stmt))


# -- the clinical record -----------------------------------------------------------------------


def update_encounter(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str, data: EncounterUpdate
) -> Consultation:
    consultation = _treating(uow, principal, consultation_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(consultation, key, value)
    uow.session.flush()
    publish(uow, consultation, "updated")
    return consultation


def allergies_of(*, session: Session, elder_id: str) -> list[Allergy]:
    stmt = select(Allergy).where(Allergy.elder_id == elder_id).order_by(Allergy.created_at)
    return list(session.scalars(stmt))


def list_allergies(*, uow: UnitOfWork, principal: Principal, elder_id: str) -> list[Allergy]:
    elder = _record_elder(uow, principal, elder_id)
    return allergies_of(session=uow.session, elder_id=elder.id)


def add_allergy(
    *, uow: UnitOfWork, principal: Principal, elder_id: str, data: AllergyCreate
) -> Allergy:
    if principal.role not in (Role.DOCTOR, Role.BUTLER):
        raise PermissionDenied("a doctor or the elder's butler records allergies")
    elder = _record_elder(uow, principal, elder_id)
    # Recording the same substance twice keeps one row (and one warning per prescription).
    for known in allergies_of(session=uow.session, elder_id=elder.id):
        if drugs.words(known.substance) == drugs.words(data.substance):
            return known
    allergy = Allergy(elder_id=elder.id, substance=data.substance, reaction=data.reaction,
                      recorded_by_user_id=principal.user_id, created_at=uow.now())  # fmt: skip
    uow.session.add(allergy)
    uow.session.flush()
    return allergy


def active_prescriptions(*, session: Session, elder_id: str, on: date) -> list[Prescription]:
    stmt = (
        select(Prescription)
        .where(
            Prescription.elder_id == elder_id,
            Prescription.status == PrescriptionStatus.ACTIVE,
            Prescription.ends_on >= on,
        )
        .order_by(Prescription.created_at, Prescription.id)
    )
    return list(session.scalars(stmt))


def prescribe(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str, data: PrescriptionCreate
) -> Prescription:
    """A prescription, refused with the reason when it meets a recorded allergy or duplicates
    an active drug, unless the doctor overrides with a reason (kept with the warnings)."""
    consultation = _treating(uow, principal, consultation_id)
    elder = homecare.get_elder(
        session=uow.session, principal=principal, elder_id=consultation.elder_id
    )
    today = to_local(uow.now()).date()
    active = [
        p.drug for p in active_prescriptions(session=uow.session, elder_id=elder.id, on=today)
    ]
    active += [str(m.get("name", "")) for m in elder.medications if isinstance(m, dict)]
    allergies = [
        (a.substance, a.reaction) for a in allergies_of(session=uow.session, elder_id=elder.id)
    ]
    warnings = drugs.check(data.drug, allergies=allergies, active=active)
    if warnings and data.override_reason is None:
        raise InvalidInput(
            "; ".join(w.reason for w in warnings) + " (send override_reason to prescribe anyway)",
            fields=[FieldProblem(w.field, f"{w.kind}: {w.reason}") for w in warnings],
        )
    times = data.times if data.times is not None else list(drugs.FREQUENCY_TIMES[data.frequency])
    prescription = Prescription(
        consultation_id=consultation.id,
        elder_id=elder.id,
        doctor_user_id=principal.user_id,
        drug=data.drug,
        strength=data.strength,
        dose=data.dose,
        route=data.route.value,
        frequency=data.frequency.value,
        duration_days=data.duration_days,
        quantity=data.quantity,
        times=sorted({t.strftime("%H:%M") for t in times}),
        starts_on=today,
        ends_on=today + timedelta(days=data.duration_days - 1),
        status=PrescriptionStatus.ACTIVE,
        override_reason=data.override_reason if warnings else None,
        warnings=[{"kind": w.kind, "reason": w.reason} for w in warnings],
        created_at=uow.now(),
    )
    uow.session.add(prescription)
    uow.session.flush()
    _schedule(uow, elder, prescription)
    publish(uow, consultation, "prescribed")
    return prescription


def stop_prescription(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str, prescription_id: str
) -> Prescription:
    consultation = _treating(uow, principal, consultation_id)
    found = uow.session.get(Prescription, prescription_id)
    if found is None or found.consultation_id != consultation.id:
        raise NotFound(f"no prescription {prescription_id}")
    found.status = PrescriptionStatus.STOPPED
    pending = select(Dose).where(Dose.prescription_id == found.id, Dose.status == DoseStatus.DUE)
    for dose in uow.session.scalars(pending):
        dose.status = DoseStatus.CANCELLED
    uow.session.flush()
    return found


def prescriptions_of(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str
) -> list[Prescription]:
    consultation = get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    stmt = (
        select(Prescription)
        .where(Prescription.consultation_id == consultation.id)
        .order_by(Prescription.created_at, Prescription.id)
    )
    return list(uow.session.scalars(stmt))


def elder_prescriptions(
    *, uow: UnitOfWork, principal: Principal, elder_id: str
) -> list[Prescription]:
    elder = _record_elder(uow, principal, elder_id)
    stmt = (
        select(Prescription)
        .where(Prescription.elder_id == elder.id)
        .order_by(Prescription.created_at, Prescription.id)
    )
    return list(uow.session.scalars(stmt))


def add_follow_up(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str, data: FollowUpCreate
) -> FollowUp:
    consultation = _treating(uow, principal, consultation_id)
    if data.due_on < to_local(uow.now()).date():
        raise InvalidInput.field("due_on", "a follow-up is due today or later")
    follow_up = FollowUp(consultation_id=consultation.id, due_on=data.due_on, plan=data.plan,
                         created_at=uow.now())  # fmt: skip
    uow.session.add(follow_up)
    uow.session.flush()
    return follow_up


def follow_ups(*, uow: UnitOfWork, principal: Principal, consultation_id: str) -> list[FollowUp]:
    consultation = get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    stmt = select(FollowUp).where(FollowUp.consultation_id == consultation.id)
    return list(uow.session.scalars(stmt.order_by(FollowUp.due_on, FollowUp.id)))


# -- the elder's card --------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    elder: Elder
    prescriptions: Sequence[Prescription]
    allergies: Sequence[Allergy]
    vitals: list[dict[str, Any]]
    sleep: dict[str, Any] | None
    alarms: list[Any]
    adherence: Adherence


def elder_card(*, uow: UnitOfWork, principal: Principal, elder_id: str) -> Card:
    elder = _record_elder(uow, principal, elder_id)
    session, now = uow.session, uow.now()
    _, report = sleep_service.elder_sleep_report(
        session=session, principal=principal, elder_id=elder.id, night=last_night(now)
    )
    sleep = None
    if report.samples:
        sleep = {"night": report.night, "time_in_bed_s": report.time_in_bed_s,
                 "heart_rate_mean": report.heart_rate.mean,
                 "respiration_rate_mean": report.respiration_rate.mean,
                 "anomalies": [a.kind for a in report.anomalies]}  # fmt: skip
    alarms = alerts.list_alarms(
        uow=uow, principal=principal, owner_kind="household", owner_id=elder.household_id,
        raised_from=now - timedelta(days=7), limit=10,
    )  # fmt: skip
    return Card(
        elder=elder,
        prescriptions=active_prescriptions(
            session=session, elder_id=elder.id, on=to_local(now).date()
        ),
        allergies=allergies_of(session=session, elder_id=elder.id),
        vitals=latest_vitals(uow, principal, elder),
        sleep=sleep,
        alarms=alarms,
        adherence=adherence(session=session, elder_id=elder.id),
    )


def requester_elders(*, session: Session, principal: Principal) -> list[Elder]:
    """The elders this user may ask a doctor about (the request form's choices)."""
    ids = set(_own_elder_ids(session, principal))
    return [e for e in homecare.list_elders(session=session, principal=principal) if e.id in ids]


# -- FHIR --------------------------------------------------------------------------------------


def fhir_record(*, uow: UnitOfWork, principal: Principal, elder_id: str) -> fhir.Record:
    """What the caller may see of the elder's record, for the FHIR export: the consultations
    they see, with their prescriptions and messages, the allergies and the latest vitals."""
    elder = _record_elder(uow, principal, elder_id)
    session = uow.session
    consultations = list_consultations(uow=uow, principal=principal, elder_id=elder.id)
    ids = [c.id for c in consultations]
    doctor_ids = sorted({c.doctor_user_id for c in consultations if c.doctor_user_id})
    doctors = []
    for doctor_id in doctor_ids:
        user = people.user_by_id(session=session, user_id=doctor_id)
        doctors.append(fhir.Doctor(doctor_id, user.display_name if user else doctor_id))
    rx = select(Prescription).where(Prescription.consultation_id.in_(ids))
    thread = select(Message).where(Message.consultation_id.in_(ids))
    return fhir.Record(
        elder=elder,
        doctors=doctors,
        consultations=consultations,
        allergies=allergies_of(session=session, elder_id=elder.id),
        prescriptions=list(session.scalars(rx.order_by(Prescription.created_at, Prescription.id))),
        messages=list(session.scalars(thread.order_by(Message.consultation_id, Message.seq))),
        vitals=latest_vitals(uow, principal, elder),
    )


# -- medication reminders ----------------------------------------------------------------------

GRACE = timedelta(minutes=60)  # a dose unconfirmed this long after its time is missed
# A reminder is worth sending for half an hour after the dose's time, not later (say after a
# restart): a reminder an hour late could make someone take a dose twice.
REMIND_WINDOW = timedelta(minutes=30)
EARLY = timedelta(minutes=60)  # a dose may be confirmed this long before its time
SWEEP_BATCH = 500


def _schedule(uow: UnitOfWork, elder: Elder, prescription: Prescription) -> None:
    """One dose row per reminder time per day of the prescription, from now on."""
    now = uow.now()
    doses = []
    for offset in range(prescription.duration_days):
        day = prescription.starts_on + timedelta(days=offset)
        for hhmm in prescription.times:
            local = datetime.combine(day, time.fromisoformat(hhmm), tzinfo=SHANGHAI)
            due_at = local.astimezone(UTC)
            if due_at >= now:
                doses.append(Dose(prescription_id=prescription.id, elder_id=elder.id,
                                  organisation_id=elder_household_org(uow, elder),
                                  household_id=elder.household_id, due_at=due_at,
                                  status=DoseStatus.DUE))  # fmt: skip
    uow.session.add_all(doses)
    uow.session.flush()


def elder_household_org(uow: UnitOfWork, elder: Elder) -> str:
    household = homecare.household_by_id(session=uow.session, household_id=elder.household_id)
    assert household is not None  # an elder always has a household (foreign key)
    return household.organisation_id


def doses(
    *, uow: UnitOfWork, principal: Principal, elder_id: str, start: datetime, end: datetime
) -> list[Dose]:
    elder = _record_elder(uow, principal, elder_id)
    stmt = select(Dose).where(Dose.elder_id == elder.id, Dose.due_at >= start, Dose.due_at < end)
    return list(uow.session.scalars(stmt.order_by(Dose.due_at, Dose.id)))


def doses_on(
    *, uow: UnitOfWork, principal: Principal, elder_id: str, day: date | None
) -> list[Dose]:
    """A day's doses in Shanghai time (today by default)."""
    day = day or to_local(uow.now()).date()
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    return doses(uow=uow, principal=principal, elder_id=elder_id, start=start,
                 end=start + timedelta(days=1))  # fmt: skip


def drug_names(*, session: Session, doses: Sequence[Dose]) -> dict[str, str]:
    """Prescription id -> "drug strength · dose", for listing doses."""
    ids = {d.prescription_id for d in doses}
    if not ids:
        return {}
    rows = session.scalars(select(Prescription).where(Prescription.id.in_(ids)))
    return {p.id: f"{p.drug} {p.strength} · {p.dose}" for p in rows}


def confirm_dose(*, uow: UnitOfWork, principal: Principal, dose_id: str) -> Dose:
    """The elder (or their butler, at the visit) confirms a dose; a late confirmation of a
    missed dose is recorded as taken and clears its alarm."""
    dose = uow.session.get(Dose, dose_id)
    if dose is None:
        raise NotFound(f"no dose {dose_id}")
    _record_elder(uow, principal, dose.elder_id)  # 404 for anyone who may not see the elder
    if principal.role not in (Role.ELDER, Role.BUTLER):
        raise PermissionDenied("the elder or their butler confirms a dose")
    now = uow.now()
    if dose.status in (DoseStatus.TAKEN, DoseStatus.CANCELLED):
        raise RuleViolation(f"the dose is already {dose.status.value}")
    if dose.due_at - EARLY > now:
        raise RuleViolation("too early: a dose is confirmed from an hour before its time")
    _take(uow, dose, principal.user_id, now)
    return dose


def _take(uow: UnitOfWork, dose: Dose, user_id: str | None, now: datetime) -> None:
    """Record a dose taken; a late confirmation of a missed dose clears its alarm."""
    was_missed = dose.status == DoseStatus.MISSED
    dose.status = DoseStatus.TAKEN
    dose.confirmed_at = now
    dose.confirmed_by_user_id = user_id
    uow.session.flush()
    if was_missed:
        alerts.clear_alarm(uow=uow, source_kind="dose", source_id=dose.id,
                           alarm_type="missed_dose", now=now, reason="taken late")  # fmt: skip


SPEAKER_TYPE = "smart_speaker"


def confirm_by_speaker(*, uow: UnitOfWork, token: str) -> list[Dose]:
    """The elder tells the home's smart speaker the medicine is taken (the speaker calls with
    its device token): the doses of that home around now — from an hour before their time to
    the end of their grace period — are recorded taken, by the elder. Not older ones: "taken"
    said in the morning is not last night's dose (a late one is confirmed on the page)."""
    device = iot.authenticate_device(session=uow.session, token=token)
    if device.device_type != SPEAKER_TYPE or device.owner_kind != "household":
        raise PermissionDenied("only a home's smart speaker confirms doses")
    now = uow.now()
    stmt = (
        select(Dose)
        .where(
            Dose.household_id == device.owner_id,
            Dose.status == DoseStatus.DUE,
            Dose.due_at <= now + EARLY,
            Dose.due_at > now - GRACE,
        )
        .order_by(Dose.due_at, Dose.id)
    )
    found = list(uow.session.scalars(stmt))
    home = homecare.elders_of_household(session=uow.session, household_id=device.owner_id)
    elders = {e.id: e for e in home}
    for dose in found:
        elder = elders.get(dose.elder_id)
        _take(uow, dose, elder.user_id if elder else None, now)
    return found


def sweep_doses(*, uow: UnitOfWork, now: datetime) -> int:
    """Mark doses unconfirmed past the grace period missed and raise a missed-dose alarm at the
    elder's home (policy homecare_alert: the family and the butler are told). Idempotent: a
    dose is missed once."""
    stmt = (
        select(Dose)
        .where(Dose.status == DoseStatus.DUE, Dose.due_at <= now - GRACE)
        .order_by(Dose.due_at)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    missed = list(uow.session.scalars(stmt))
    for dose in missed:
        dose.status = DoseStatus.MISSED
        prescription = uow.session.get(Prescription, dose.prescription_id)
        drug = prescription.drug if prescription else "?"
        household = homecare.household_by_id(session=uow.session, household_id=dose.household_id)
        if household is None:
            continue
        recipients, _ = care_flows.recipients_for(uow.session, household)
        alerts.raise_alarm(
            uow=uow, organisation_id=dose.organisation_id, owner_kind="household",
            owner_id=dose.household_id, source_kind="dose", source_id=dose.id,
            alarm_type="missed_dose", severity=alerts.Severity.MINOR,
            title=f"漏服药物 Missed dose: {drug} {to_local(dose.due_at):%H:%M}",
            details={"dose_id": dose.id, "prescription_id": dose.prescription_id,
                     "due_at": dose.due_at.isoformat()},
            policy=care_flows.ALERT_POLICY, recipients=recipients, now=now,
        )  # fmt: skip
    uow.session.flush()
    return len(missed)


def remind_doses(*, uow: UnitOfWork, now: datetime) -> int:
    """At a dose's time, tell the elder: a push to their app (the /consult page, which also
    updates live) and to every smart speaker at home, through the alerts outbox (an elder
    without a login gets an SMS). Once per dose: `reminded_at` is set, and the outbox key is the
    dose and recipient. A dose already confirmed, or stopped, is not reminded."""
    stmt = (
        select(Dose)
        .where(
            Dose.status == DoseStatus.DUE,
            Dose.reminded_at.is_(None),
            Dose.due_at <= now,
            Dose.due_at > now - REMIND_WINDOW,
        )
        .order_by(Dose.due_at)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    queued, session = 0, uow.session
    for dose in list(session.scalars(stmt)):
        dose.reminded_at = now
        prescription = session.get(Prescription, dose.prescription_id)
        elders = homecare.elders_of_household(session=session, household_id=dose.household_id)
        elder = next((e for e in elders if e.id == dose.elder_id), None)
        if prescription is None or elder is None:
            continue
        what = f"{prescription.drug} {prescription.strength} · {prescription.dose}"
        subject = f"服药提醒 Time for your medicine {to_local(dose.due_at):%H:%M}"
        body = (
            f"现在该服用 {what}。服用后请在“问医生”页面点“已服用”,或告诉音箱“药吃过了”。 "
            f"Time to take {what}. Once you have, press “Taken” on the Ask a doctor page "
            "or tell the speaker."
        )
        for role, name, user_id, channel, address in _reminded(session, elder, dose):
            digest = hashlib.sha256(f"{dose.id}|{role}|{address}".encode()).hexdigest()[:48]
            queued += alerts.queue_message(
                session=session, organisation_id=dose.organisation_id,
                key=f"dose-reminder-{digest}", purpose="reminder", channel=channel,
                recipient_role=role, recipient_name=name, recipient_user_id=user_id,
                address=address, subject=subject, body=body, now=now,
            )  # fmt: skip
        payload = {"organisation_id": dose.organisation_id, "owner_kind": "household",
                   "owner_id": dose.household_id, "dose_id": dose.id}  # fmt: skip
        uow.publish(Event("consult.dose.reminded", payload, now))
    session.flush()
    return queued


def _reminded(
    session: Session, elder: Elder, dose: Dose
) -> list[tuple[str, str, str | None, Channel, str]]:
    """(role, name, user id, channel, address) of each reminder of a dose: the elder's app (or
    SMS without a login) and the home's smart speakers, which read the body aloud."""
    out: list[tuple[str, str, str | None, Channel, str]] = []
    if elder.user_id:
        out.append(("elder", elder.full_name, elder.user_id, Channel.PUSH, elder.user_id))
    elif elder.phone:
        out.append(("elder", elder.full_name, None, Channel.SMS, elder.phone))
    speakers = iot.devices_of_owner(
        session=session, owner_kind="household", owner_id=dose.household_id,
        device_type="smart_speaker",
    )  # fmt: skip
    for speaker in speakers:
        out.append(("smart_speaker", speaker.name, None, Channel.PUSH, f"device:{speaker.id}"))
    return out


@dataclass(frozen=True)
class Adherence:
    taken: int
    missed: int
    due: int  # still to come or within the grace period

    @property
    def rate(self) -> float | None:
        """Doses taken of those whose time has passed (None before the first)."""
        done = self.taken + self.missed
        return self.taken / done if done else None


def adherence(*, session: Session, elder_id: str) -> Adherence:
    rows = dict(
        session.execute(
            select(Dose.status, func.count()).where(Dose.elder_id == elder_id).group_by(Dose.status)
        ).all()
    )
    return Adherence(
        taken=int(rows.get(DoseStatus.TAKEN, 0)),
        missed=int(rows.get(DoseStatus.MISSED, 0)),
        due=int(rows.get(DoseStatus.DUE, 0)),
    )
