"""Voice and video calls of a consultation: WebRTC between the doctor's and the elder's pages,
signalled through anxin and nothing else.

The treating doctor rings (`ring`); someone on the elder's side — the elder, consented family
or the butler, whoever has the consultation open — answers (`answer`); only then does the
doctor's page make its offer, so an offer is never sent to a page that is not listening. Offer,
answer and ICE candidates are POSTed (`relay`) and published as `consult.consultation.signal`
events of owner kind "consultation": the live hub hands them, after commit, to the viewers of
that consultation and to no one else. Either side hangs up (`hang_up`); the call's start, end
and duration are recorded from the server's clock, not the browsers'.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from anxin.consult import service
from anxin.consult.models import Call, CallStatus, Consultation, ConsultationStatus, Mode
from anxin.consult.schemas import CallCreate, Signal, SignalKind
from anxin.core.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from anxin.core.events import Event
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork

OPEN = (CallStatus.RINGING, CallStatus.ACTIVE)


def _participant(uow: UnitOfWork, principal: Principal, consultation_id: str) -> Consultation:
    """The consultation, if the caller is one of its two sides: its treating doctor, or the
    elder's side (404 for anyone who may not see it, 403 for a doctor who does not treat it)."""
    consultation = service.get_consultation(
        uow=uow, principal=principal, consultation_id=consultation_id
    )
    if principal.role == Role.DOCTOR and consultation.doctor_user_id != principal.user_id:
        raise PermissionDenied("only the treating doctor takes part in this consultation's calls")
    if principal.role not in service.REQUESTERS and principal.role != Role.DOCTOR:
        raise PermissionDenied("only the doctor and the elder's side take part in a call")
    return consultation


def _call(uow: UnitOfWork, consultation: Consultation, call_id: str) -> Call:
    found = uow.session.get(Call, call_id)
    if found is None or found.consultation_id != consultation.id:
        raise NotFound(f"no call {call_id}")
    return found


def _signal(uow: UnitOfWork, consultation: Consultation, call: Call, principal: Principal,
            kind: str, extra: dict[str, Any] | None = None) -> None:  # fmt: skip
    """Published to the consultation's viewers after commit. `quiet` tells `live.js` not to
    refetch the page for it (negotiation is for `call.js`, not the thread)."""
    payload = {"organisation_id": consultation.organisation_id, "owner_kind": "consultation",
               "owner_id": consultation.id, "call_id": call.id, "mode": call.mode.value,
               "kind": kind, "from_user_id": principal.user_id,
               "from_side": "doctor" if principal.role == Role.DOCTOR else "elder",
               "quiet": kind in {k.value for k in SignalKind}, **(extra or {})}  # fmt: skip
    uow.publish(Event("consult.consultation.signal", payload, uow.now()))


def ring(*, uow: UnitOfWork, principal: Principal, consultation_id: str, data: CallCreate) -> Call:
    consultation = _participant(uow, principal, consultation_id)
    if principal.role != Role.DOCTOR:
        raise PermissionDenied("the treating doctor places the call")
    if consultation.status != ConsultationStatus.ACTIVE:
        raise RuleViolation("a call needs a consultation the doctor has taken and not closed")
    busy = uow.session.scalar(
        select(Call.id).where(Call.consultation_id == consultation.id, Call.status.in_(OPEN))
    )
    if busy is not None:
        raise RuleViolation(f"call {busy} is still open: hang it up first")
    call = Call(
        consultation_id=consultation.id,
        mode=Mode(data.mode.value),
        status=CallStatus.RINGING,
        caller_user_id=principal.user_id,
        created_at=uow.now(),
    )
    uow.session.add(call)
    uow.session.flush()
    _signal(uow, consultation, call, principal, "ring")
    return call


def answer(*, uow: UnitOfWork, principal: Principal, consultation_id: str, call_id: str) -> Call:
    consultation = _participant(uow, principal, consultation_id)
    call = _call(uow, consultation, call_id)
    if principal.role == Role.DOCTOR:
        raise PermissionDenied("the elder's side answers the doctor's call")
    if call.status != CallStatus.RINGING:
        raise RuleViolation(f"the call is {call.status.value}, not ringing")
    call.status = CallStatus.ACTIVE
    call.answered_by_user_id = principal.user_id
    call.started_at = uow.now()
    uow.session.flush()
    _signal(uow, consultation, call, principal, "answered")
    return call


def relay(
    *, uow: UnitOfWork, principal: Principal, consultation_id: str, call_id: str, data: Signal
) -> None:
    """Pass an offer, answer or ICE candidate to the other side. The offer is the caller's,
    the answer is the answerer's, and candidates come from either while the call is on."""
    if data.kind in (SignalKind.OFFER, SignalKind.ANSWER) and data.sdp is None:
        raise InvalidInput.field("sdp", f"an {data.kind.value} carries its session description")
    if data.kind == SignalKind.CANDIDATE and data.candidate is None:
        raise InvalidInput.field("candidate", "a candidate carries its candidate line")
    consultation = _participant(uow, principal, consultation_id)
    call = _call(uow, consultation, call_id)
    if call.status != CallStatus.ACTIVE:
        raise RuleViolation(f"the call is {call.status.value}: nothing to negotiate")
    doctor = principal.role == Role.DOCTOR
    if data.kind == SignalKind.OFFER and not doctor:
        raise InvalidInput.field("kind", "the offer is the calling doctor's")
    if data.kind == SignalKind.ANSWER and principal.user_id != call.answered_by_user_id:
        raise InvalidInput.field("kind", "the answer is from whoever answered the call")
    if not doctor and principal.user_id != call.answered_by_user_id:
        raise RuleViolation("someone else on the elder's side answered this call")
    _signal(uow, consultation, call, principal, data.kind.value,
            data.model_dump(exclude={"kind"}, exclude_none=True))  # fmt: skip


def hang_up(*, uow: UnitOfWork, principal: Principal, consultation_id: str, call_id: str) -> Call:
    consultation = _participant(uow, principal, consultation_id)
    call = _call(uow, consultation, call_id)
    if call.status not in OPEN:
        return call  # both sides hang up at once: the second one changes nothing
    now = uow.now()
    call.ended_at = now
    call.ended_by_user_id = principal.user_id
    if call.started_at is None:
        call.status, call.duration_s = CallStatus.MISSED, 0
    else:
        call.status = CallStatus.ENDED
        call.duration_s = max(0, int((now - call.started_at).total_seconds()))
    uow.session.flush()
    _signal(uow, consultation, call, principal, "ended")
    return call


def calls_of(*, uow: UnitOfWork, principal: Principal, consultation_id: str) -> list[Call]:
    consultation = service.get_consultation(
        uow=uow, principal=principal, consultation_id=consultation_id
    )
    stmt = select(Call).where(Call.consultation_id == consultation.id)
    return list(uow.session.scalars(stmt.order_by(Call.created_at, Call.id)))


def open_call(calls: list[Call]) -> Call | None:
    return next((c for c in reversed(calls) if c.status in OPEN), None)
