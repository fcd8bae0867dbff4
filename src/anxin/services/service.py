"""Providers, workers, bookings and complaints: who may book for whom, assignment, the visit itself.

Elders, households and family consent come from `homecare.service`; open alarms from
`alerts.service`. Services flush, never commit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from anxin.alerts.service import Channel, list_alarms, queue_message
from anxin.core.clock import SHANGHAI
from anxin.core.errors import InvalidInput, NotFound, PermissionDenied, RuleViolation
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.homecare import service as homecare
from anxin.people import service as people
from anxin.services import assignment, reminders, supervision
from anxin.services.catalogue import FROM_PRESCRIPTION, ScenarioCode, Skill, scenario
from anxin.services.models import (
    Booking,
    BookingSource,
    BookingStatus,
    Complaint,
    ServiceProvider,
    ServiceWorker,
)
from anxin.services.schemas import BookingCreate, ProviderCreate, WorkerCreate
from anxin.services.speaker import Draft, Interpretation, interpret

if TYPE_CHECKING:
    from anxin.alerts.models import Alarm

MANAGERS = frozenset({Role.ADMIN, Role.BUTLER})
BOOKERS = {
    Role.ELDER: BookingSource.ELDER,
    Role.FAMILY: BookingSource.FAMILY,
    Role.BUTLER: BookingSource.BUTLER,
    Role.ADMIN: BookingSource.BUTLER,
}
OPEN = (BookingStatus.REQUESTED, BookingStatus.ASSIGNED, BookingStatus.IN_PROGRESS)
SPEAKER_TYPE = "smart_speaker"

_DISTRICT = re.compile(r"[\u4e00-\u9fff]{1,5}?(?:新区|区|县)")


def district_of(address: str) -> str:
    """The district (区/县) of a Chinese address, after the city; "" when none is written."""
    match = _DISTRICT.search(address.rsplit("市", 1)[-1])
    return match.group(0) if match else ""


def _require_manager(principal: Principal) -> None:
    if principal.role not in MANAGERS:
        raise PermissionDenied(f"role {principal.role.value!r} may not manage home services")


# Providers and workers


def create_provider(
    *, session: Session, principal: Principal, data: ProviderCreate, now: datetime
) -> ServiceProvider:
    _require_manager(principal)
    provider = ServiceProvider(
        organisation_id=principal.organisation_id, name=data.name, created_at=now
    )
    session.add(provider)
    session.flush()
    return provider


def get_provider(*, session: Session, principal: Principal, provider_id: str) -> ServiceProvider:
    provider = session.get(ServiceProvider, provider_id)
    if provider is None or provider.organisation_id != principal.organisation_id:
        raise NotFound(f"no provider {provider_id}")
    return provider


def add_worker(
    *,
    session: Session,
    principal: Principal,
    provider_id: str,
    data: WorkerCreate,
    now: datetime,
) -> ServiceWorker:
    _require_manager(principal)
    provider = get_provider(session=session, principal=principal, provider_id=provider_id)
    if data.user_id is not None:
        user = people.user_by_id(session=session, user_id=data.user_id)
        if (
            user is None
            or user.organisation_id != principal.organisation_id
            or user.role != Role.PROVIDER
        ):
            raise InvalidInput.field(
                "user_id", "no provider user with this id in your organisation"
            )
    worker = ServiceWorker(
        provider_id=provider.id,
        user_id=data.user_id,
        name=data.name,
        skills=sorted({s.value for s in data.skills}),
        areas=sorted(set(data.areas)),
        week=[
            {
                "weekday": s.weekday,
                "start": s.start.strftime("%H:%M"),
                "end": s.end.strftime("%H:%M"),
            }
            for s in data.week
        ],
        created_at=now,
    )
    session.add(worker)
    session.flush()
    return worker


def _org_workers(session: Session, organisation_id: str) -> Select[ServiceWorker]:
    return (
        select(ServiceWorker)
        .join(ServiceProvider, ServiceProvider.id == ServiceWorker.provider_id)
        .where(ServiceProvider.organisation_id == organisation_id)
    )


def list_workers(*, session: Session, principal: Principal) -> list[ServiceWorker]:
    _require_manager(principal)
    stmt = _org_workers(session, principal.organisation_id).order_by(ServiceWorker.name)
    return list(session.scalars(stmt))


def worker_of_user(*, session: Session, principal: Principal) -> ServiceWorker | None:
    if principal.role != Role.PROVIDER:
        return None
    return session.scalar(select(ServiceWorker).where(ServiceWorker.user_id == principal.user_id))


# Bookings


def _visible(session: Session, principal: Principal) -> Select[Booking]:
    stmt = select(Booking).where(Booking.organisation_id == principal.organisation_id)
    if principal.role in MANAGERS:
        return stmt
    if principal.role in (Role.ELDER, Role.FAMILY):
        # homecare decides whose elders they are: a family sees only consented links.
        elders = [e.id for e in homecare.list_elders(session=session, principal=principal)]
        return stmt.where(Booking.elder_id.in_(elders))
    worker = worker_of_user(session=session, principal=principal)
    if worker is not None:
        return stmt.where(Booking.worker_id == worker.id)
    return stmt.where(false())


def get_booking(*, session: Session, principal: Principal, booking_id: str) -> Booking:
    """404 for a booking the caller may not see."""
    booking = session.scalar(_visible(session, principal).where(Booking.id == booking_id))
    if booking is None:
        raise NotFound(f"no booking {booking_id}")
    return booking


def list_bookings(
    *, session: Session, principal: Principal, elder_id: str | None = None
) -> list[Booking]:
    stmt = _visible(session, principal).where(Booking.status != BookingStatus.DRAFT)
    if elder_id is not None:
        stmt = stmt.where(Booking.elder_id == elder_id)
    return list(session.scalars(stmt.order_by(Booking.start, Booking.id)))


def book(*, uow: UnitOfWork, principal: Principal, data: BookingCreate) -> Booking:
    """A confirmed booking by the elder, a consenting family member or the butler."""
    if data.scenario in FROM_PRESCRIPTION:
        raise InvalidInput.field("scenario", "medicines are ordered from a doctor's prescription")
    return _book(uow=uow, principal=principal, data=data)


def book_medicine_delivery(
    *, uow: UnitOfWork, principal: Principal, elder_id: str, start: datetime, notes: str
) -> Booking:
    """Delivery of prescribed medicines, booked like any visit (the same bookers, checks and
    automatic assignment to a worker who delivers). The consult domain calls this once it has
    checked the prescription; `notes` names the drugs for the worker's checklist."""
    data = BookingCreate(elder_id=elder_id, scenario=ScenarioCode.MEDICINE_DELIVERY,
                         start=start, notes=notes)  # fmt: skip
    return _book(uow=uow, principal=principal, data=data)


@dataclass(frozen=True)
class BookingSummary:
    """What another domain shows of a booking it refers to."""

    id: str
    status: BookingStatus
    start: datetime
    worker_name: str | None


def booking_summaries(
    *, session: Session, booking_ids: Collection[str]
) -> dict[str, BookingSummary]:
    """Status, time and worker of these bookings. The caller has already decided its viewer may
    see them (consult shows a consultation's medicine orders to whoever sees the consultation,
    the treating doctor included, who does not see bookings here)."""
    if not booking_ids:
        return {}
    rows = list(session.scalars(select(Booking).where(Booking.id.in_(booking_ids))))
    worker_ids = {b.worker_id for b in rows if b.worker_id}
    names = dict(
        session.execute(
            select(ServiceWorker.id, ServiceWorker.name).where(ServiceWorker.id.in_(worker_ids))
        ).all()
    ) if worker_ids else {}  # fmt: skip
    return {
        b.id: BookingSummary(
            b.id, b.status, b.start, names.get(b.worker_id) if b.worker_id else None
        )
        for b in rows
    }


def _book(*, uow: UnitOfWork, principal: Principal, data: BookingCreate) -> Booking:
    source = BOOKERS.get(principal.role)
    if source is None:
        raise PermissionDenied(f"role {principal.role.value!r} may not book home services")
    session = uow.session
    elder = homecare.get_elder(session=session, principal=principal, elder_id=data.elder_id)
    household = homecare.get_household(
        session=session, principal=principal, household_id=elder.household_id
    )
    now = uow.now()
    if data.scenario == ScenarioCode.EMERGENCY_HELP:
        start = now  # help is sent now, whatever time was asked
    elif data.start is None:
        raise InvalidInput.field("start", "required for a planned visit")
    elif data.start < now:
        raise InvalidInput.field("start", "is in the past")
    else:
        start = data.start
    booking = new_booking(
        organisation_id=principal.organisation_id,
        elder_id=elder.id,
        household_id=household.id,
        area=district_of(household.address),
        code=data.scenario,
        start=start,
        source=source,
        booked_by=principal.user_id,
        notes=data.notes,
        now=now,
    )
    _confirm(session, booking, now)
    return booking


def new_booking(
    *,
    organisation_id: str,
    elder_id: str,
    household_id: str,
    area: str,
    code: ScenarioCode,
    start: datetime,
    source: BookingSource,
    booked_by: str,
    notes: str,
    now: datetime,
) -> Booking:
    """A draft at the scenario's list price and duration; `_confirm` makes it a request."""
    s = scenario(code)
    return Booking(
        organisation_id=organisation_id,
        elder_id=elder_id,
        household_id=household_id,
        scenario=s.code.value,
        area=area,
        start=start.astimezone(UTC),  # stored and served in UTC; pages show Shanghai
        minutes=s.duration_minutes,
        price=s.price,
        status=BookingStatus.DRAFT,
        source=source,
        booked_by=booked_by,
        notes=notes,
        checklist_done=[],
        created_at=now,
    )


def _confirm(session: Session, booking: Booking, now: datetime) -> None:
    """Confirm and try to assign automatically; left `requested` for the butler otherwise."""
    booking.status = BookingStatus.REQUESTED
    booking.confirmed_at = now
    if booking not in session:
        session.add(booking)
    session.flush()
    workers = list(session.scalars(_org_workers(session, booking.organisation_id)))
    chosen = assignment.choose(_visit(booking), _candidates(session, workers, booking))
    if chosen is not None:
        booking.worker_id = chosen.id
        booking.assigned_by = "auto"
        booking.status = BookingStatus.ASSIGNED
    session.flush()


def _visit(booking: Booking) -> assignment.Visit:
    s = scenario(booking.scenario)
    return assignment.Visit(s.skills, booking.area, booking.start, booking.minutes)


def _candidates(
    session: Session, workers: Sequence[ServiceWorker], booking: Booking
) -> list[assignment.Worker]:
    """The workers with the visits they already have within a day of this one (one query)."""
    ids = [w.id for w in workers]
    near = session.execute(
        select(Booking.worker_id, Booking.start, Booking.minutes).where(
            Booking.worker_id.in_(ids),
            Booking.id != booking.id,
            Booking.status.in_((BookingStatus.ASSIGNED, BookingStatus.IN_PROGRESS)),
            Booking.start >= booking.start - timedelta(days=1),
            Booking.start <= booking.start + timedelta(days=1),
        )
    ).all()
    busy: dict[str, list[tuple[datetime, datetime]]] = {}
    for worker_id, start, minutes in near:
        if worker_id is None:
            continue
        busy.setdefault(worker_id, []).append((start, start + timedelta(minutes=minutes)))
    return [
        assignment.Worker(
            id=w.id,
            skills=frozenset(Skill(s) for s in w.skills),
            areas=frozenset(w.areas),
            week=tuple(
                assignment.Shift(
                    s["weekday"], time.fromisoformat(s["start"]), time.fromisoformat(s["end"])
                )
                for s in w.week
            ),
            busy=tuple(busy.get(w.id, ())),
        )
        for w in workers
    ]


def assign(
    *, uow: UnitOfWork, principal: Principal, booking_id: str, worker_id: str
) -> tuple[Booking, list[assignment.Unfit]]:
    """The butler's choice, overriding area and calendar; returns what was overridden."""
    _require_manager(principal)
    session = uow.session
    booking = get_booking(session=session, principal=principal, booking_id=booking_id)
    if booking.status not in (BookingStatus.REQUESTED, BookingStatus.ASSIGNED):
        raise RuleViolation(f"a {booking.status.value} booking cannot be reassigned")
    worker = session.scalar(
        _org_workers(session, principal.organisation_id).where(ServiceWorker.id == worker_id)
    )
    if worker is None:
        raise InvalidInput.field("worker_id", "no worker with this id in your organisation")
    (candidate,) = _candidates(session, [worker], booking)
    blockers = assignment.override_blockers(_visit(booking), candidate)
    if blockers:
        raise InvalidInput.field("worker_id", "cannot take it: " + ", ".join(blockers))
    booking.worker_id = worker.id
    booking.assigned_by = principal.user_id
    booking.status = BookingStatus.ASSIGNED
    session.flush()
    return booking, assignment.fit(_visit(booking), candidate)


def cancel(*, uow: UnitOfWork, principal: Principal, booking_id: str) -> Booking:
    booking = get_booking(session=uow.session, principal=principal, booking_id=booking_id)
    if principal.role not in BOOKERS:
        raise NotFound(f"no booking {booking_id}")
    if booking.status not in (BookingStatus.REQUESTED, BookingStatus.ASSIGNED):
        raise RuleViolation(f"a {booking.status.value} booking cannot be cancelled")
    booking.status = BookingStatus.CANCELLED
    uow.session.flush()
    return booking


# The butler's board


@dataclass(frozen=True)
class BoardLine:
    booking: Booking
    alarm_open: bool


def board(*, uow: UnitOfWork, principal: Principal) -> list[BoardLine]:
    """Open bookings, emergencies at homes with an open alarm first, then other emergencies,
    then by start time."""
    _require_manager(principal)
    session = uow.session
    stmt = _visible(session, principal).where(Booking.status.in_(OPEN))
    bookings = list(session.scalars(stmt))
    alarms = list_alarms(uow=uow, principal=principal, active=True, owner_kind="household")
    alarmed = {a.owner_id for a in alarms}
    lines = [BoardLine(b, b.household_id in alarmed) for b in bookings]

    def rank(line: BoardLine) -> tuple[int, datetime, str]:
        emergency = line.booking.scenario == ScenarioCode.EMERGENCY_HELP
        order = 0 if emergency and line.alarm_open else 1 if emergency else 2
        return order, line.booking.start, line.booking.id

    return sorted(lines, key=rank)


# Who and where, for the pages


@dataclass(frozen=True)
class Home:
    """The elder and address a visit goes to, as the worker and the butler read them."""

    elder_name: str
    address: str
    phone: str | None


def homes_of(*, session: Session, bookings: Sequence[Booking]) -> dict[str, Home]:
    """Booking id -> its home. Only for bookings the caller was allowed to load: a worker
    learns the address of the visits assigned to them and of no other home."""
    homes: dict[str, Home] = {}
    cache: dict[str, tuple[str, str | None, str]] = {}
    for b in bookings:
        if b.household_id not in cache:
            household = homecare.household_by_id(session=session, household_id=b.household_id)
            elders = homecare.elders_of_household(session=session, household_id=b.household_id)
            first = next((e for e in elders if e.id == b.elder_id), elders[0] if elders else None)
            cache[b.household_id] = (
                first.full_name if first else "",
                first.phone if first else None,
                household.address if household else "",
            )
        name, phone, address = cache[b.household_id]
        homes[b.id] = Home(name, address, phone)
    return homes


def worker_day(*, session: Session, principal: Principal, day: date) -> list[Booking]:
    """The provider worker's visits on a Shanghai calendar day, in time order."""
    worker = worker_of_user(session=session, principal=principal)
    if worker is None:
        raise PermissionDenied("this page is for service workers")
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
    stmt = _visible(session, principal).where(
        Booking.start >= start,
        Booking.start < start + timedelta(days=1),
        Booking.status != BookingStatus.CANCELLED,
    )
    return list(session.scalars(stmt.order_by(Booking.start, Booking.id)))


def worker_names(*, session: Session, principal: Principal) -> dict[str, str]:
    """Worker id -> name, within the caller's organisation (for the pages' tables)."""
    stmt = _org_workers(session, principal.organisation_id).with_only_columns(
        ServiceWorker.id, ServiceWorker.name
    )
    return {worker_id: name for worker_id, name in session.execute(stmt)}


# The visit


def _own_visit(session: Session, principal: Principal, booking_id: str) -> Booking:
    worker = worker_of_user(session=session, principal=principal)
    booking = get_booking(session=session, principal=principal, booking_id=booking_id)
    if worker is None or booking.worker_id != worker.id:
        raise NotFound(f"no booking {booking_id}")
    return booking


def check_in(*, uow: UnitOfWork, principal: Principal, booking_id: str) -> Booking:
    booking = _own_visit(uow.session, principal, booking_id)
    if booking.status != BookingStatus.ASSIGNED:
        raise RuleViolation(f"cannot check in to a {booking.status.value} booking")
    booking.status = BookingStatus.IN_PROGRESS
    booking.checked_in_at = uow.now()
    uow.session.flush()
    return booking


def tick_checklist(
    *, uow: UnitOfWork, principal: Principal, booking_id: str, done: Sequence[str]
) -> Booking:
    booking = _own_visit(uow.session, principal, booking_id)
    if booking.status != BookingStatus.IN_PROGRESS:
        raise RuleViolation("the checklist is ticked during the visit")
    known = [c.code for c in scenario(booking.scenario).checklist]
    unknown = sorted(set(done) - set(known))
    if unknown:
        raise InvalidInput.field("done", f"not on this service's checklist: {', '.join(unknown)}")
    booking.checklist_done = [code for code in known if code in set(done)]
    uow.session.flush()
    return booking


def check_out(*, uow: UnitOfWork, principal: Principal, booking_id: str) -> Booking:
    """Done. An incomplete checklist is allowed (the elder may refuse a step) and counts
    against the provider in supervision."""
    booking = _own_visit(uow.session, principal, booking_id)
    if booking.status != BookingStatus.IN_PROGRESS:
        raise RuleViolation(f"cannot check out of a {booking.status.value} booking")
    booking.status = BookingStatus.DONE
    booking.checked_out_at = uow.now()
    uow.session.flush()
    return booking


def rate(
    *, uow: UnitOfWork, principal: Principal, booking_id: str, stars: int, comment: str | None
) -> Booking:
    if principal.role not in (Role.ELDER, Role.FAMILY):
        raise PermissionDenied("the elder or their family rates a visit")
    booking = get_booking(session=uow.session, principal=principal, booking_id=booking_id)
    if booking.status != BookingStatus.DONE:
        raise RuleViolation("only a finished visit can be rated")
    if booking.rating is not None:
        raise RuleViolation("this visit is already rated")
    booking.rating = stars
    booking.comment = comment
    uow.session.flush()
    return booking


def checklist_complete(booking: Booking) -> bool:
    return set(booking.checklist_done) >= {c.code for c in scenario(booking.scenario).checklist}


# The smart speaker


@dataclass(frozen=True)
class SpeakerHome:
    """The household an authenticated speaker belongs to."""

    organisation_id: str
    household_id: str


def speaker_home(
    *, device_type: str, owner_kind: str, organisation_id: str, owner_id: str
) -> SpeakerHome:
    if device_type != SPEAKER_TYPE or owner_kind != "household":
        raise PermissionDenied("only a household's smart speaker may book home services")
    return SpeakerHome(organisation_id, owner_id)


def hear(*, uow: UnitOfWork, home: SpeakerHome, text: str) -> tuple[Interpretation, Booking | None]:
    """A draft the elder confirms by voice; an emergency goes to the butler at once."""
    session = uow.session
    result = interpret(text, uow.now())
    if not isinstance(result, Draft):
        return result, None
    household = homecare.household_by_id(session=session, household_id=home.household_id)
    elders = homecare.elders_of_household(session=session, household_id=home.household_id)
    if household is None or household.organisation_id != home.organisation_id or not elders:
        raise NotFound("this speaker's home has no elder on record")
    booking = new_booking(
        organisation_id=home.organisation_id,
        # A speaker serves a home, not a person: a couple's bookings go to the first elder.
        elder_id=elders[0].id,
        household_id=household.id,
        area=district_of(household.address),
        code=result.scenario,
        start=result.start,
        source=BookingSource.SPEAKER,
        booked_by=f"speaker:{home.household_id}",
        notes=result.notes,
        now=uow.now(),
    )
    session.add(booking)
    if result.asap:
        # Waiting for "confirm" from someone who has fallen would be wrong.
        _confirm(session, booking, uow.now())
    session.flush()
    return result, booking


def confirm_by_speaker(*, uow: UnitOfWork, home: SpeakerHome, booking_id: str) -> Booking:
    booking = uow.session.get(Booking, booking_id)
    if booking is None or booking.household_id != home.household_id:
        raise NotFound(f"no booking {booking_id}")
    if booking.status != BookingStatus.DRAFT:
        raise RuleViolation(f"booking is already {booking.status.value}")
    if booking.start < uow.now():
        raise RuleViolation("the time of this draft has passed; please ask again")
    _confirm(uow.session, booking, uow.now())
    return booking


# Complaints


def open_complaint(
    *, uow: UnitOfWork, principal: Principal, booking_id: str, text: str
) -> Complaint:
    """The elder, their family or the butler complain about a visit a worker was sent to."""
    if principal.role not in BOOKERS:
        raise PermissionDenied(f"role {principal.role.value!r} may not file complaints")
    session = uow.session
    booking = get_booking(session=session, principal=principal, booking_id=booking_id)
    worker = session.get(ServiceWorker, booking.worker_id) if booking.worker_id else None
    if worker is None:
        raise RuleViolation("no provider was sent to this booking")
    complaint = Complaint(
        organisation_id=booking.organisation_id,
        booking_id=booking.id,
        provider_id=worker.provider_id,
        opened_by=principal.user_id,
        text=text,
        opened_at=uow.now(),
    )
    session.add(complaint)
    session.flush()
    return complaint


def list_complaints(*, session: Session, principal: Principal) -> list[Complaint]:
    visible = _visible(session, principal).with_only_columns(Booking.id)
    stmt = select(Complaint).where(Complaint.booking_id.in_(visible))
    return list(session.scalars(stmt.order_by(Complaint.opened_at, Complaint.id)))


def close_complaint(
    *, uow: UnitOfWork, principal: Principal, complaint_id: str, resolution: str
) -> Complaint:
    _require_manager(principal)
    complaint = uow.session.get(Complaint, complaint_id)
    if complaint is None or complaint.organisation_id != principal.organisation_id:
        raise NotFound(f"no complaint {complaint_id}")
    if complaint.closed_at is not None:
        raise RuleViolation("this complaint is already closed")
    complaint.closed_at = uow.now()
    complaint.closed_by = principal.user_id
    complaint.resolution = resolution
    uow.session.flush()
    return complaint


# Supervision: read what happened, measure it with `supervision`


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The UTC instants that bound a Shanghai calendar month."""
    first = datetime.combine(month.replace(day=1), time(0), tzinfo=SHANGHAI)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = datetime.combine(following, time(0), tzinfo=SHANGHAI)
    return first.astimezone(UTC), last.astimezone(UTC)


def _alarm_fact(alarm: Alarm, targets: supervision.Targets) -> supervision.AlarmFact | None:
    """An acknowledgement or a resolution by a person answers an alarm; an alarm the device
    cleared before anyone had to answer asked nothing of anyone and is not counted."""
    answered = alarm.acknowledged_at or alarm.resolved_at
    due = alarm.first_raised_at + timedelta(minutes=targets.alarm_ack_minutes)
    if answered is None and alarm.cleared_at is not None and alarm.cleared_at <= due:
        return None
    return supervision.AlarmFact(alarm.id, alarm.first_raised_at, answered)


def month_report(
    *, uow: UnitOfWork, principal: Principal, month: date, targets: supervision.Targets
) -> tuple[supervision.MonthReport, dict[str, str]]:
    """The month's report and the providers' names; figures only from recorded facts."""
    _require_manager(principal)
    session = uow.session
    start, end = month_bounds(month)
    alarms = list_alarms(
        uow=uow,
        principal=principal,
        owner_kind="household",
        raised_from=start,
        raised_before=end,
        limit=100_000,
    )
    alarm_facts = [f for f in (_alarm_fact(a, targets) for a in alarms) if f is not None]
    rows = session.execute(
        select(Booking, ServiceWorker.provider_id)
        .join(ServiceWorker, ServiceWorker.id == Booking.worker_id, isouter=True)
        .where(
            Booking.organisation_id == principal.organisation_id,
            Booking.start >= start,
            Booking.start < end,
            Booking.status.not_in((BookingStatus.DRAFT, BookingStatus.CANCELLED)),
        )
    ).all()
    visits = [
        supervision.VisitFact(
            id=b.id,
            provider_id=provider_id or "",  # nobody assigned: the butler's miss, not a provider's
            start=b.start,
            minutes=b.minutes,
            checked_in_at=b.checked_in_at,
            checked_out_at=b.checked_out_at,
            checklist_complete=checklist_complete(b),
            rating=b.rating,
        )
        for b, provider_id in rows
    ]
    complaints = [
        supervision.ComplaintFact(c.id, c.provider_id, c.opened_at, c.closed_at)
        for c in session.scalars(
            select(Complaint).where(
                Complaint.organisation_id == principal.organisation_id,
                Complaint.opened_at >= start,
                Complaint.opened_at < end,
            )
        )
    ]
    report = supervision.month_report(
        month=month.replace(day=1),
        targets=targets,
        alarms=alarm_facts,
        visits=visits,
        complaints=complaints,
        as_of=uow.now(),
    )
    providers = select(ServiceProvider.id, ServiceProvider.name).where(
        ServiceProvider.organisation_id == principal.organisation_id
    )
    names = {provider_id: name for provider_id, name in session.execute(providers)}
    names[""] = "(unassigned)"
    return report, names


# Reminders


def send_reminders(*, uow: UnitOfWork) -> int:
    """Queue the reminders due now in the alerts outbox, every organisation at once (the
    reminder worker's tick); each reminder is queued once. Returns how many were queued."""
    session, now = uow.session, uow.now()
    rows = list(
        session.scalars(
            select(Booking).where(
                Booking.status.in_(OPEN),
                Booking.start > now - reminders.MEDICINE_WINDOW,
                Booking.start <= now + reminders.AHEAD,
            )
        )
    )
    bookings = {b.id: b for b in rows}
    visits = [
        reminders.Visit(b.id, b.scenario, b.start, b.status == BookingStatus.ASSIGNED) for b in rows
    ]
    queued = 0
    for item in reminders.due(visits, now):
        booking = bookings[item.booking_id]
        worker = session.get(ServiceWorker, booking.worker_id) if booking.worker_id else None
        subject, body = reminders.texts(
            item.kind, booking.scenario, booking.start, worker.name if worker else None
        )
        for role, name, user_id, channel, address in _reminded(session, booking, worker, item):
            queued += queue_message(
                session=session,
                organisation_id=booking.organisation_id,
                key=reminders.key(booking.id, item.kind, f"{role}:{address}"),
                purpose="reminder",
                channel=channel,
                recipient_role=role,
                recipient_name=name,
                recipient_user_id=user_id,
                address=address,
                subject=subject,
                body=body,
                now=now,
            )
    return queued


def _reminded(
    session: Session, booking: Booking, worker: ServiceWorker | None, item: reminders.Due
) -> list[tuple[str, str, str | None, Channel, str]]:
    """(role, name, user id, channel, address) of each person to remind: the elder by SMS;
    for a visit also the worker, by SMS or, without a phone, by push to their login."""
    out: list[tuple[str, str, str | None, Channel, str]] = []
    elders = homecare.elders_of_household(session=session, household_id=booking.household_id)
    elder = next((e for e in elders if e.id == booking.elder_id), None)
    if elder is not None and elder.phone:
        out.append(("elder", elder.full_name, elder.user_id, Channel.SMS, elder.phone))
    if item.kind == reminders.Kind.VISIT and worker is not None and worker.user_id:
        user = people.user_by_id(session=session, user_id=worker.user_id)
        if user is not None and user.phone:
            out.append(("service_worker", worker.name, user.id, Channel.SMS, user.phone))
        elif user is not None:
            out.append(("service_worker", worker.name, user.id, Channel.PUSH, user.id))
    return out
