"""The home-services demo (issue 18): a provider with two workers, and bookings in every state so
each services page has rows — a cook visit today on the worker's phone, a repair nobody fits
waiting on the butler's board, finished visits (one rated, one not) and an open complaint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from anxin.core.clock import SHANGHAI, to_local
from anxin.core.security import Role
from anxin.core.unit import UnitOfWork
from anxin.demo.accounts import ensure_user
from anxin.homecare.models import Elder, Household
from anxin.people import service as people
from anxin.people.models import Organisation, User
from anxin.services import service
from anxin.services.catalogue import ScenarioCode, scenario
from anxin.services.models import (
    Booking,
    BookingSource,
    BookingStatus,
    Complaint,
    ServiceProvider,
)
from anxin.services.schemas import ProviderCreate, ShiftIn, WorkerCreate

PROVIDER = "安心家政 Anxin Home Services"
# Shifts: every day, 08:00-18:00 Shanghai time. An evening visit needs the butler.
WEEK = [ShiftIn(weekday=d, start=time(8), end=time(18)) for d in range(7)]


@dataclass(frozen=True)
class ServicesDemo:
    provider_id: str
    booking_id: str  # the Zhang household's cook visit today


def seed_services(*, uow: UnitOfWork, organisation: Organisation) -> ServicesDemo:
    """Create the provider, its workers and the bookings once; find them on a second call."""
    session = uow.session
    existing = session.scalar(
        select(ServiceProvider).where(
            ServiceProvider.organisation_id == organisation.id, ServiceProvider.name == PROVIDER
        )
    )
    if existing is not None:
        booking = session.scalar(
            select(Booking.id)
            .where(Booking.organisation_id == organisation.id)
            .where(Booking.scenario == ScenarioCode.COOK_VISIT.value)
            .order_by(Booking.created_at, Booking.id)
        )
        return ServicesDemo(existing.id, booking or "")
    users = {
        u.username: u
        for u in session.scalars(select(User).where(User.organisation_id == organisation.id))
    }
    admin = people.principal_of(users["admin"])
    now = uow.now()
    if "worker" not in users:  # a demo database seeded before the services demo existed
        users["worker"] = ensure_user(
            session, organisation.id, "worker", "护理员 王秀英 Wang Xiuying", Role.PROVIDER,
            "demo-worker-pass", now,
        )  # fmt: skip
    provider = service.create_provider(
        session=session, principal=admin, data=ProviderCreate(name=PROVIDER), now=now
    )
    wang = service.add_worker(
        session=session,
        principal=admin,
        provider_id=provider.id,
        data=WorkerCreate(
            name="王秀英 Wang Xiuying",
            user_id=users["worker"].id,
            skills=["cooking", "cleaning", "companionship", "medication", "delivery"],
            areas=["崇川区", "港闸区"],
            week=WEEK,
        ),
        now=now,
    )
    service.add_worker(
        session=session,
        principal=admin,
        provider_id=provider.id,
        data=WorkerCreate(
            name="李建华 Li Jianhua",
            skills=["repair", "escort", "first_aid"],
            areas=["港闸区"],  # the Zhang home (崇川区) is outside his area: the butler decides
            week=WEEK,
        ),
        now=now,
    )
    elders = {
        e.full_name.split(" ")[0]: e
        for e in session.scalars(
            select(Elder)
            .join(Household, Household.id == Elder.household_id)
            .where(Household.organisation_id == organisation.id)
        )
    }
    zhang, zhao = elders["张桂芳"], elders["赵建国"]
    today = to_local(now).date()

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        local = datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=SHANGHAI)
        return local.astimezone(UTC)

    def visit(elder: Elder, code: ScenarioCode, start: datetime, area: str) -> Booking:
        booking = service.new_booking(
            organisation_id=organisation.id,
            elder_id=elder.id,
            household_id=elder.household_id,
            area=area,
            code=code,
            start=start,
            source=BookingSource.BUTLER,
            booked_by=users["butler"].id,
            notes="",
            now=start - timedelta(days=2),
        )
        # Booked two days ahead and assigned then (the service stamps its own "now").
        booking.status, booking.confirmed_at = BookingStatus.ASSIGNED, booking.created_at
        booking.worker_id, booking.assigned_by = wang.id, "auto"
        session.add(booking)
        return booking

    def finished(booking: Booking, rating: int | None) -> None:
        booking.status = BookingStatus.DONE
        booking.checked_in_at = booking.start + timedelta(minutes=5)
        booking.checked_out_at = booking.start + timedelta(minutes=booking.minutes)
        booking.checklist_done = [c.code for c in scenario(booking.scenario).checklist]
        booking.rating = rating
        booking.comment = "很干净，谢谢王阿姨 Very clean, thank you" if rating else None

    # Finished visits, dated as they happened (the service stamps check-ins with "now").
    finished(visit(zhang, ScenarioCode.CLEANING, at(-1, 9), "崇川区"), rating=5)
    finished(visit(zhang, ScenarioCode.MEAL_DELIVERY, at(-3, 11, 30), "崇川区"), rating=None)
    missed = visit(zhao, ScenarioCode.COMPANIONSHIP, at(-2, 14), "港闸区")
    finished(missed, rating=None)
    missed.checked_in_at = missed.start + timedelta(minutes=40)  # late: the complaint's cause
    # Today and tomorrow.
    cook = visit(zhang, ScenarioCode.COOK_VISIT, at(0, 11, 0), "崇川区")
    cook.notes = "低盐，老人爱吃鱼 Low salt; she likes fish"
    visit(zhao, ScenarioCode.MEDICATION_REMINDER, at(1, 8, 30), "港闸区")
    repair = visit(zhang, ScenarioCode.HOME_REPAIR, at(1, 15), "崇川区")
    repair.status, repair.worker_id, repair.assigned_by = BookingStatus.REQUESTED, None, None
    repair.notes = "厨房水龙头漏水 Kitchen tap leaking"
    session.flush()
    session.add(
        Complaint(
            organisation_id=organisation.id,
            booking_id=missed.id,
            provider_id=provider.id,
            opened_by=users["neighbour-family"].id,
            text="阿姨迟到了四十分钟 The carer came forty minutes late",
            opened_at=missed.start + timedelta(hours=3),
        )
    )
    session.flush()
    return ServicesDemo(provider.id, cook.id)
