"""The consultation API: requests, the queue, threads, the clinical record, the elder's card."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Request, Response, UploadFile, status
from sqlalchemy.orm import Session

from anxin.consult import calls, fhir, orders, service
from anxin.consult.models import Consultation
from anxin.consult.schemas import (
    AdherenceRead,
    AlarmLine,
    AllergyCreate,
    AllergyRead,
    AttachmentRead,
    CallCreate,
    CallRead,
    ConsultationCreate,
    ConsultationRead,
    DoseRead,
    ElderCard,
    EncounterUpdate,
    FollowUpCreate,
    FollowUpRead,
    MedicineOrderCreate,
    MedicineOrderRead,
    MessageCreate,
    MessageRead,
    PrescriptionCreate,
    PrescriptionRead,
    QueueLine,
    Signal,
    SleepLine,
    SpeakerDoses,
    VitalRead,
)
from anxin.core.bounds import SaneDate
from anxin.core.errors import Unauthenticated
from anxin.people.deps import CurrentPrincipal, UnitDep

router = APIRouter(prefix="/api/v1/consult", tags=["consult"])


def read(session: Session, consultation: Consultation) -> ConsultationRead:
    out = ConsultationRead.model_validate(consultation)
    out.attachments = [
        AttachmentRead.model_validate(a)
        for a in service.attachments_of(session=session, consultation_id=consultation.id)
    ]
    return out


@router.post("/consultations", response_model=ConsultationRead, status_code=status.HTTP_201_CREATED)
def post_consultation(
    body: ConsultationCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ConsultationRead:
    """Ask a doctor, by text, voice or video: the elder, consented family or the butler."""
    consultation = service.request_consultation(uow=uow, principal=principal, data=body)
    return read(uow.session, consultation)


@router.get("/consultations", response_model=list[ConsultationRead])
def get_consultations(
    principal: CurrentPrincipal, uow: UnitDep, elder_id: str | None = None
) -> list[ConsultationRead]:
    found = service.list_consultations(uow=uow, principal=principal, elder_id=elder_id)
    return [read(uow.session, c) for c in found]


@router.get("/queue", response_model=list[QueueLine])
def get_queue(principal: CurrentPrincipal, uow: UnitDep) -> list[QueueLine]:
    """The doctor's queue, most urgent first: an active alarm at the elder's home, then
    abnormal sleep-mat vitals, then the oldest request."""
    return [
        QueueLine(
            consultation=read(uow.session, e.consultation),
            elder_name=e.elder.full_name,
            priority=e.triage.priority,
            reasons=e.triage.reasons,
        )
        for e in service.queue(uow=uow, principal=principal)
    ]


@router.get("/consultations/{consultation_id}", response_model=ConsultationRead)
def get_consultation(
    consultation_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> ConsultationRead:
    found = service.get_consultation(uow=uow, principal=principal, consultation_id=consultation_id)
    return read(uow.session, found)


@router.post("/consultations/{consultation_id}/take", response_model=ConsultationRead)
def post_take(consultation_id: str, principal: CurrentPrincipal, uow: UnitDep) -> ConsultationRead:
    """A doctor takes a waiting request; from now on only they see it among the doctors."""
    found = service.take(uow=uow, principal=principal, consultation_id=consultation_id)
    return read(uow.session, found)


@router.post("/consultations/{consultation_id}/close", response_model=ConsultationRead)
def post_close(consultation_id: str, principal: CurrentPrincipal, uow: UnitDep) -> ConsultationRead:
    found = service.close(uow=uow, principal=principal, consultation_id=consultation_id)
    return read(uow.session, found)


@router.post(
    "/consultations/{consultation_id}/attachments",
    response_model=AttachmentRead,
    status_code=status.HTTP_201_CREATED,
)
def post_attachment(
    consultation_id: str,
    principal: CurrentPrincipal,
    uow: UnitDep,
    file: Annotated[UploadFile, File(description="a photo (PNG, JPEG) or a report (PDF)")],
) -> AttachmentRead:
    # One byte past the limit is enough to refuse an oversized file without reading it all.
    data = file.file.read(service.MAX_ATTACHMENT + 1)
    attachment = service.add_attachment(
        uow=uow,
        principal=principal,
        consultation_id=consultation_id,
        filename=file.filename or "attachment",
        data=data,
    )
    return AttachmentRead.model_validate(attachment)


@router.get(
    "/consultations/{consultation_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={200: {"description": "The file", "content": {"application/pdf": {},
                                                             "image/png": {}, "image/jpeg": {}}}},
)  # fmt: skip
def get_attachment(
    consultation_id: str, attachment_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> Response:
    found = service.get_attachment(
        uow=uow, principal=principal, consultation_id=consultation_id, attachment_id=attachment_id
    )
    disposition = f"inline; filename*=UTF-8''{quote(found.filename)}"
    return Response(
        content=found.data,
        media_type=found.content_type,
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/consultations/{consultation_id}/messages", response_model=list[MessageRead])
def get_messages(
    consultation_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> list[MessageRead]:
    found = service.messages(uow=uow, principal=principal, consultation_id=consultation_id)
    return [MessageRead.model_validate(m) for m in found]


@router.post(
    "/consultations/{consultation_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
)
def post_message(
    consultation_id: str, body: MessageCreate, principal: CurrentPrincipal, uow: UnitDep
) -> MessageRead:
    message = service.post_message(
        uow=uow, principal=principal, consultation_id=consultation_id, body=body.body
    )
    return MessageRead.model_validate(message)


@router.put("/consultations/{consultation_id}/encounter", response_model=ConsultationRead)
def put_encounter(
    consultation_id: str, body: EncounterUpdate, principal: CurrentPrincipal, uow: UnitDep
) -> ConsultationRead:
    """The treating doctor's note, interpretation of reports and medication guidance."""
    found = service.update_encounter(
        uow=uow, principal=principal, consultation_id=consultation_id, data=body
    )
    return read(uow.session, found)


@router.get("/consultations/{consultation_id}/prescriptions", response_model=list[PrescriptionRead])
def get_prescriptions(
    consultation_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> list[PrescriptionRead]:
    found = service.prescriptions_of(uow=uow, principal=principal, consultation_id=consultation_id)
    return [PrescriptionRead.model_validate(p) for p in found]


@router.post(
    "/consultations/{consultation_id}/prescriptions",
    response_model=PrescriptionRead,
    status_code=status.HTTP_201_CREATED,
)
def post_prescription(
    consultation_id: str, body: PrescriptionCreate, principal: CurrentPrincipal, uow: UnitDep
) -> PrescriptionRead:
    """Prescribe; 422 naming the allergy or the duplicate drug unless `override_reason`."""
    prescription = service.prescribe(
        uow=uow, principal=principal, consultation_id=consultation_id, data=body
    )
    return PrescriptionRead.model_validate(prescription)


@router.post(
    "/consultations/{consultation_id}/prescriptions/{prescription_id}/stop",
    response_model=PrescriptionRead,
)
def post_stop_prescription(
    consultation_id: str, prescription_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> PrescriptionRead:
    found = service.stop_prescription(
        uow=uow,
        principal=principal,
        consultation_id=consultation_id,
        prescription_id=prescription_id,
    )
    return PrescriptionRead.model_validate(found)


@router.get("/consultations/{consultation_id}/follow-ups", response_model=list[FollowUpRead])
def get_follow_ups(
    consultation_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> list[FollowUpRead]:
    found = service.follow_ups(uow=uow, principal=principal, consultation_id=consultation_id)
    return [FollowUpRead.model_validate(f) for f in found]


@router.post(
    "/consultations/{consultation_id}/follow-ups",
    response_model=FollowUpRead,
    status_code=status.HTTP_201_CREATED,
)
def post_follow_up(
    consultation_id: str, body: FollowUpCreate, principal: CurrentPrincipal, uow: UnitDep
) -> FollowUpRead:
    found = service.add_follow_up(
        uow=uow, principal=principal, consultation_id=consultation_id, data=body
    )
    return FollowUpRead.model_validate(found)


@router.get("/elders/{elder_id}/allergies", response_model=list[AllergyRead])
def get_allergies(elder_id: str, principal: CurrentPrincipal, uow: UnitDep) -> list[AllergyRead]:
    found = service.list_allergies(uow=uow, principal=principal, elder_id=elder_id)
    return [AllergyRead.model_validate(a) for a in found]


@router.post(
    "/elders/{elder_id}/allergies", response_model=AllergyRead, status_code=status.HTTP_201_CREATED
)
def post_allergy(
    elder_id: str, body: AllergyCreate, principal: CurrentPrincipal, uow: UnitDep
) -> AllergyRead:
    found = service.add_allergy(uow=uow, principal=principal, elder_id=elder_id, data=body)
    return AllergyRead.model_validate(found)


@router.get("/elders/{elder_id}/prescriptions", response_model=list[PrescriptionRead])
def get_elder_prescriptions(
    elder_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> list[PrescriptionRead]:
    found = service.elder_prescriptions(uow=uow, principal=principal, elder_id=elder_id)
    return [PrescriptionRead.model_validate(p) for p in found]


def card_read(card: service.Card) -> ElderCard:
    elder = card.elder
    return ElderCard(
        elder_id=elder.id,
        full_name=elder.full_name,
        birth_date=elder.birth_date,
        sex=elder.sex,
        conditions=list(elder.conditions),
        medications=list(elder.medications),
        prescriptions=[PrescriptionRead.model_validate(p) for p in card.prescriptions],
        allergies=[AllergyRead.model_validate(a) for a in card.allergies],
        vitals=[VitalRead(**v) for v in card.vitals],
        sleep=SleepLine(**card.sleep) if card.sleep else None,
        alarms=[
            AlarmLine(
                id=a.id,
                alarm_type=a.alarm_type,
                state=a.state.value,
                first_raised_at=a.first_raised_at,
            )
            for a in card.alarms
        ],
        adherence=AdherenceRead(
            taken=card.adherence.taken,
            missed=card.adherence.missed,
            due=card.adherence.due,
            rate=card.adherence.rate,
        ),
    )


@router.get("/elders/{elder_id}/card", response_model=ElderCard)
def get_card(elder_id: str, principal: CurrentPrincipal, uow: UnitDep) -> ElderCard:
    """The elder's card beside a request: conditions, medications, allergies, the latest
    vitals, last night's sleep, the week's alarms."""
    return card_read(service.elder_card(uow=uow, principal=principal, elder_id=elder_id))


@router.get(
    "/elders/{elder_id}/fhir",
    response_class=Response,  # errors stay JSON; the 200 is a FHIR Bundle
    responses={200: {"description": "A FHIR R4 Bundle (collection)",
                     "content": {"application/fhir+json": {}}}},
)  # fmt: skip
def get_fhir(elder_id: str, principal: CurrentPrincipal, uow: UnitDep) -> Response:
    """The elder's record as a FHIR R4 Bundle: Patient, Practitioner, Encounter, Observation
    (heart rate LOINC 8867-4, respiratory rate 9279-1), Condition, AllergyIntolerance,
    MedicationRequest and Communication, validated before it is sent."""
    record = service.fhir_record(uow=uow, principal=principal, elder_id=elder_id)
    document = fhir.bundle(record, generated_at=uow.now())
    return Response(
        content=document.model_dump_json(exclude_none=True),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="elder-{elder_id}.fhir.json"'},
    )


@router.get("/elders/{elder_id}/doses", response_model=list[DoseRead])
def get_doses(
    elder_id: str, principal: CurrentPrincipal, uow: UnitDep, day: SaneDate | None = None
) -> list[DoseRead]:
    """The elder's scheduled doses on a day (Shanghai; default today), with their status."""
    found = service.doses_on(uow=uow, principal=principal, elder_id=elder_id, day=day)
    return [DoseRead.model_validate(d) for d in found]


@router.post("/doses/{dose_id}/confirm", response_model=DoseRead)
def post_confirm_dose(dose_id: str, principal: CurrentPrincipal, uow: UnitDep) -> DoseRead:
    """The elder confirms a dose (or the butler at a visit); late ones clear their alarm."""
    return DoseRead.model_validate(
        service.confirm_dose(uow=uow, principal=principal, dose_id=dose_id)
    )


# -- calls: WebRTC signalling through anxin (consult.calls) -------------------------------------


@router.get("/consultations/{consultation_id}/calls", response_model=list[CallRead])
def get_calls(consultation_id: str, principal: CurrentPrincipal, uow: UnitDep) -> list[CallRead]:
    found = calls.calls_of(uow=uow, principal=principal, consultation_id=consultation_id)
    return [CallRead.model_validate(c) for c in found]


@router.post(
    "/consultations/{consultation_id}/calls",
    response_model=CallRead,
    status_code=status.HTTP_201_CREATED,
)
def post_call(
    consultation_id: str, body: CallCreate, principal: CurrentPrincipal, uow: UnitDep
) -> CallRead:
    """The treating doctor rings the elder's side (voice or video)."""
    call = calls.ring(uow=uow, principal=principal, consultation_id=consultation_id, data=body)
    return CallRead.model_validate(call)


@router.post("/consultations/{consultation_id}/calls/{call_id}/answer", response_model=CallRead)
def post_call_answer(
    consultation_id: str, call_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> CallRead:
    """The elder, family or butler answers: the call starts now."""
    call = calls.answer(uow=uow, principal=principal, consultation_id=consultation_id,
                        call_id=call_id)  # fmt: skip
    return CallRead.model_validate(call)


@router.post(
    "/consultations/{consultation_id}/calls/{call_id}/signals",
    status_code=status.HTTP_204_NO_CONTENT,
)
def post_call_signal(
    consultation_id: str, call_id: str, body: Signal, principal: CurrentPrincipal, uow: UnitDep
) -> Response:
    """An offer, answer or ICE candidate, relayed live to the other side's page."""
    calls.relay(uow=uow, principal=principal, consultation_id=consultation_id, call_id=call_id,
                data=body)  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/consultations/{consultation_id}/calls/{call_id}/end", response_model=CallRead)
def post_call_end(
    consultation_id: str, call_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> CallRead:
    """Either side hangs up; the duration is recorded."""
    call = calls.hang_up(uow=uow, principal=principal, consultation_id=consultation_id,
                         call_id=call_id)  # fmt: skip
    return CallRead.model_validate(call)


# -- medicine orders: a home-services booking from a prescription (consult.orders) --------------


def order_read(line: orders.OrderLine) -> MedicineOrderRead:
    o, b = line.order, line.booking
    return MedicineOrderRead(
        id=o.id, prescription_id=o.prescription_id, booking_id=o.booking_id,
        status=b.status.value if b else None, start=b.start if b else None,
        worker_name=b.worker_name if b else None, created_at=o.created_at,
    )  # fmt: skip


@router.post(
    "/consultations/{consultation_id}/prescriptions/{prescription_id}/orders",
    response_model=MedicineOrderRead,
    status_code=status.HTTP_201_CREATED,
)
def post_order(
    consultation_id: str,
    prescription_id: str,
    body: MedicineOrderCreate,
    principal: CurrentPrincipal,
    uow: UnitDep,
) -> MedicineOrderRead:
    """The elder's side orders the prescription's medicines, delivered as a home service."""
    line = orders.order_medicines(uow=uow, principal=principal, consultation_id=consultation_id,
                                  prescription_id=prescription_id, start=body.start)  # fmt: skip
    return order_read(line)


@router.get("/consultations/{consultation_id}/orders", response_model=list[MedicineOrderRead])
def get_orders(
    consultation_id: str, principal: CurrentPrincipal, uow: UnitDep
) -> list[MedicineOrderRead]:
    found = orders.orders_of(uow=uow, principal=principal, consultation_id=consultation_id)
    return [order_read(line) for line in found]


@router.post("/speaker/doses/confirm", response_model=SpeakerDoses)
def post_speaker_confirm(request: Request, uow: UnitDep) -> SpeakerDoses:
    """The home's smart speaker heard the elder say the medicine is taken. Authenticated by
    the speaker's device token, not a user; the reply is what the speaker says back."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the speaker's device token as 'Authorization: Bearer <token>'")
    doses = service.confirm_by_speaker(uow=uow, token=token.strip())
    if doses:
        say = f"好的,已记下 {len(doses)} 次服药。 OK, {len(doses)} dose(s) recorded as taken."
    else:
        say = "现在没有要服的药。 There is no medicine to take now."
    return SpeakerDoses(confirmed=[DoseRead.model_validate(d) for d in doses], say=say)
