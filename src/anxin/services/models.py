"""Providers, their workers and the bookings of home visits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id


def _enum(kind: type[StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class ServiceProvider(Audited, Base):
    """A service organisation under contract with the care organisation (the tenant)."""

    __tablename__ = "service_providers"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ServiceWorker(Audited, Base):
    __tablename__ = "service_workers"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    provider_id: Mapped[str] = mapped_column(ForeignKey("service_providers.id"), index=True)
    # The worker's own login (role provider), for the phone page; optional.
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    skills: Mapped[list[str]] = mapped_column(default=list)
    areas: Mapped[list[str]] = mapped_column(default=list)  # districts, e.g. "崇川区"
    # Weekly shifts in Shanghai time: [{"weekday": 0, "start": "08:00", "end": "18:00"}, ...]
    week: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]


class BookingStatus(StrEnum):
    DRAFT = "draft"  # proposed (by the speaker), waiting for the elder's confirmation
    REQUESTED = "requested"  # confirmed, no worker fits yet: the butler assigns
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"  # checked in
    DONE = "done"  # checked out
    CANCELLED = "cancelled"


class BookingSource(StrEnum):
    ELDER = "elder"
    FAMILY = "family"
    BUTLER = "butler"
    SPEAKER = "speaker"


class Booking(Audited, Base):
    __tablename__ = "service_bookings"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    elder_id: Mapped[str] = mapped_column(ForeignKey("elders.id"), index=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("households.id"), index=True)
    scenario: Mapped[str] = mapped_column(String(40))
    area: Mapped[str] = mapped_column(String(60))
    start: Mapped[datetime] = mapped_column(index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    # The price at booking time: a later change of the list does not rewrite history.
    price: Mapped[Decimal]
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus), index=True)
    source: Mapped[BookingSource] = mapped_column(_enum(BookingSource))
    booked_by: Mapped[str] = mapped_column(String(120))  # user id or "device:<id>"
    notes: Mapped[str] = mapped_column(String(1000), default="")
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("service_workers.id"), index=True)
    assigned_by: Mapped[str | None] = mapped_column(String(120))  # "auto" or the butler's id
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    checklist_done: Mapped[list[str]] = mapped_column(default=list)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]


class Complaint(Audited, Base):
    """A complaint about a visit, against its provider; closed by the butler with a resolution."""

    __tablename__ = "service_complaints"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("service_bookings.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("service_providers.id"), index=True)
    opened_by: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(2000))
    opened_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[str | None] = mapped_column(String(2000))
