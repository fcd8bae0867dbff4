"""The services API: catalogue, providers and workers, bookings, the visit, the speaker."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from anxin.core.clock import to_local
from anxin.core.errors import Unauthenticated
from anxin.iot import service as iot
from anxin.people.deps import CurrentPrincipal, UnitDep
from anxin.services import service, supervision
from anxin.services.catalogue import CATALOGUE, Scenario
from anxin.services.models import Booking
from anxin.services.schemas import (
    AssignRequest,
    BookingCreate,
    BookingRead,
    CheckItemRead,
    ChecklistUpdate,
    ComplaintClose,
    ComplaintCreate,
    ComplaintRead,
    ProviderCreate,
    ProviderRead,
    ProviderScoreRead,
    RatingCreate,
    ScenarioRead,
    SpeakerReply,
    SpeakerRequest,
    SupervisionRead,
    TallyRead,
    TargetsRead,
    WorkerCreate,
    WorkerRead,
)
from anxin.services.speaker import Refusal

router = APIRouter(prefix="/api/v1/services", tags=["services"])

LABELS: dict[str, tuple[str, str]] = {
    "services_catalogue": ("服务项目", "Home services"),
    "services_duration": ("时长(分钟)", "Duration (minutes)"),
    "services_price": ("价格(元)", "Price (yuan)"),
    "services_checklist": ("完成标准", "What done means"),
}


def scenario_read(s: Scenario) -> ScenarioRead:
    return ScenarioRead(
        code=s.code,
        zh=s.zh,
        en=s.en,
        duration_minutes=s.duration_minutes,
        price=s.price,
        skills=sorted(s.skills),
        checklist=[CheckItemRead(code=c.code, zh=c.zh, en=c.en) for c in s.checklist],
    )


def _read(booking: Booking, alarm_open: bool = False) -> BookingRead:
    read = BookingRead.model_validate(booking)
    read.alarm_open = alarm_open
    return read


@router.get("/catalogue", response_model=list[ScenarioRead])
def get_catalogue(_: CurrentPrincipal) -> list[ScenarioRead]:
    """The ten scenarios every member may book; the same for every organisation."""
    return [scenario_read(s) for s in CATALOGUE.values()]


@router.post("/providers", response_model=ProviderRead, status_code=status.HTTP_201_CREATED)
def post_provider(body: ProviderCreate, principal: CurrentPrincipal, uow: UnitDep) -> ProviderRead:
    provider = service.create_provider(
        session=uow.session, principal=principal, data=body, now=uow.now()
    )
    return ProviderRead.model_validate(provider)


@router.post(
    "/providers/{provider_id}/workers",
    response_model=WorkerRead,
    status_code=status.HTTP_201_CREATED,
)
def post_worker(
    provider_id: str, body: WorkerCreate, principal: CurrentPrincipal, uow: UnitDep
) -> WorkerRead:
    worker = service.add_worker(
        session=uow.session,
        principal=principal,
        provider_id=provider_id,
        data=body,
        now=uow.now(),
    )
    return WorkerRead.model_validate(worker)


@router.get("/workers", response_model=list[WorkerRead])
def get_workers(principal: CurrentPrincipal, uow: UnitDep) -> list[WorkerRead]:
    workers = service.list_workers(session=uow.session, principal=principal)
    return [WorkerRead.model_validate(w) for w in workers]


@router.post("/bookings", response_model=BookingRead, status_code=status.HTTP_201_CREATED)
def post_booking(body: BookingCreate, principal: CurrentPrincipal, uow: UnitDep) -> BookingRead:
    """Book a visit for an elder: the elder, a family member with consent, or the butler."""
    return _read(service.book(uow=uow, principal=principal, data=body))


@router.get("/bookings", response_model=list[BookingRead])
def get_bookings(
    principal: CurrentPrincipal, uow: UnitDep, elder_id: str | None = None
) -> list[BookingRead]:
    bookings = service.list_bookings(session=uow.session, principal=principal, elder_id=elder_id)
    return [_read(b) for b in bookings]


@router.get("/board", response_model=list[BookingRead])
def get_board(principal: CurrentPrincipal, uow: UnitDep) -> list[BookingRead]:
    """The butler's queue: emergencies at homes with an open alarm on top."""
    return [
        _read(line.booking, line.alarm_open) for line in service.board(uow=uow, principal=principal)
    ]


@router.get("/bookings/{booking_id}", response_model=BookingRead)
def get_booking(booking_id: str, principal: CurrentPrincipal, uow: UnitDep) -> BookingRead:
    return _read(
        service.get_booking(session=uow.session, principal=principal, booking_id=booking_id)
    )


@router.post("/bookings/{booking_id}/assign", response_model=BookingRead)
def post_assign(
    booking_id: str, body: AssignRequest, principal: CurrentPrincipal, uow: UnitDep
) -> BookingRead:
    booking, _ = service.assign(
        uow=uow, principal=principal, booking_id=booking_id, worker_id=body.worker_id
    )
    return _read(booking)


@router.post("/bookings/{booking_id}/cancel", response_model=BookingRead)
def post_cancel(booking_id: str, principal: CurrentPrincipal, uow: UnitDep) -> BookingRead:
    return _read(service.cancel(uow=uow, principal=principal, booking_id=booking_id))


@router.post("/bookings/{booking_id}/check-in", response_model=BookingRead)
def post_check_in(booking_id: str, principal: CurrentPrincipal, uow: UnitDep) -> BookingRead:
    return _read(service.check_in(uow=uow, principal=principal, booking_id=booking_id))


@router.put("/bookings/{booking_id}/checklist", response_model=BookingRead)
def put_checklist(
    booking_id: str, body: ChecklistUpdate, principal: CurrentPrincipal, uow: UnitDep
) -> BookingRead:
    booking = service.tick_checklist(
        uow=uow, principal=principal, booking_id=booking_id, done=body.done
    )
    return _read(booking)


@router.post("/bookings/{booking_id}/check-out", response_model=BookingRead)
def post_check_out(booking_id: str, principal: CurrentPrincipal, uow: UnitDep) -> BookingRead:
    return _read(service.check_out(uow=uow, principal=principal, booking_id=booking_id))


@router.post("/bookings/{booking_id}/rating", response_model=BookingRead)
def post_rating(
    booking_id: str, body: RatingCreate, principal: CurrentPrincipal, uow: UnitDep
) -> BookingRead:
    booking = service.rate(
        uow=uow, principal=principal, booking_id=booking_id, stars=body.stars, comment=body.comment
    )
    return _read(booking)


def _speaker(request: Request, uow: UnitDep) -> service.SpeakerHome:
    """The speaker's home from its device token; a dependency, so that a caller without a
    token hears 401 before the body is even read."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the speaker's device token as 'Authorization: Bearer <token>'")
    device = iot.authenticate_device(session=uow.session, token=token.strip())
    return service.speaker_home(
        device_type=device.device_type,
        owner_kind=device.owner_kind,
        organisation_id=device.organisation_id,
        owner_id=device.owner_id,
    )


SpeakerHome = Annotated[service.SpeakerHome, Depends(_speaker)]


@router.post("/speaker/utterances", response_model=SpeakerReply)
def post_utterance(body: SpeakerRequest, home: SpeakerHome, uow: UnitDep) -> SpeakerReply:
    """What the speaker heard: a draft to confirm (or an emergency sent now), or a refusal.
    Authenticated by the speaker's device token, not a user."""
    result, booking = service.hear(uow=uow, home=home, text=body.text)
    if isinstance(result, Refusal):
        return SpeakerReply(
            understood=False, reason=result.reason.value, say_zh=result.zh, say_en=result.en
        )
    return SpeakerReply(
        understood=True,
        say_zh=result.zh,
        say_en=result.en,
        booking=None if booking is None else _read(booking),
    )


@router.post("/speaker/bookings/{booking_id}/confirm", response_model=SpeakerReply)
def post_speaker_confirm(booking_id: str, home: SpeakerHome, uow: UnitDep) -> SpeakerReply:
    """The elder said "confirm": the draft becomes a booking and is assigned if anyone fits."""
    booking = service.confirm_by_speaker(uow=uow, home=home, booking_id=booking_id)
    assigned = booking.worker_id is not None
    return SpeakerReply(
        understood=True,
        say_zh="已预约成功，"
        + ("服务人员已安排。" if assigned else "管家会尽快为您安排服务人员。"),
        say_en="Booked. "
        + ("A worker is assigned." if assigned else "Your butler will assign a worker soon."),
        booking=_read(booking),
    )


@router.post(
    "/bookings/{booking_id}/complaints",
    response_model=ComplaintRead,
    status_code=status.HTTP_201_CREATED,
)
def post_complaint(
    booking_id: str, body: ComplaintCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ComplaintRead:
    complaint = service.open_complaint(
        uow=uow, principal=principal, booking_id=booking_id, text=body.text
    )
    return ComplaintRead.model_validate(complaint)


@router.get("/complaints", response_model=list[ComplaintRead])
def get_complaints(principal: CurrentPrincipal, uow: UnitDep) -> list[ComplaintRead]:
    complaints = service.list_complaints(session=uow.session, principal=principal)
    return [ComplaintRead.model_validate(c) for c in complaints]


@router.post("/complaints/{complaint_id}/close", response_model=ComplaintRead)
def post_close_complaint(
    complaint_id: str, body: ComplaintClose, principal: CurrentPrincipal, uow: UnitDep
) -> ComplaintRead:
    complaint = service.close_complaint(
        uow=uow, principal=principal, complaint_id=complaint_id, resolution=body.resolution
    )
    return ComplaintRead.model_validate(complaint)


def _tally(tally: supervision.Tally) -> TallyRead:
    c = tally.counts
    return TallyRead(
        on_time=c[supervision.Outcome.ON_TIME],
        late=c[supervision.Outcome.LATE],
        missed=c[supervision.Outcome.MISSED],
        pending=c[supervision.Outcome.PENDING],
        rate=tally.rate,
    )


Month = Annotated[
    str | None,
    # Years inside core.bounds' sane window (1900-2199): "0000-01" is not a month anyone means.
    Query(
        pattern=r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$",
        description="YYYY-MM (1900-2199); this month if omitted",
    ),
]


@router.get("/supervision", response_model=SupervisionRead)
def get_supervision(
    principal: CurrentPrincipal, uow: UnitDep, month: Month = None
) -> SupervisionRead:
    """The month's service levels, measured from recorded alarms, visits and complaints."""
    first = (
        date.fromisoformat(f"{month}-01") if month else to_local(uow.now()).date().replace(day=1)
    )
    targets = supervision.Targets()
    report, names = service.month_report(uow=uow, principal=principal, month=first, targets=targets)
    return SupervisionRead(
        month=report.month,
        as_of=uow.now(),
        targets=TargetsRead(
            alarm_ack_minutes=targets.alarm_ack_minutes,
            arrival_grace_minutes=targets.arrival_grace_minutes,
            complaint_close_days=targets.complaint_close_days,
        ),
        alarms=_tally(report.alarms),
        visits=_tally(report.visits),
        complaints=_tally(report.complaints),
        providers=[
            ProviderScoreRead(
                provider_id=p.provider_id,
                name=names.get(p.provider_id, p.provider_id),
                visits=_tally(p.visits),
                complaints=_tally(p.complaints),
                mean_rating=p.mean_rating,
                score=p.score,
            )
            for p in report.providers
        ],
    )
