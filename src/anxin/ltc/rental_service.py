"""Equipment depots and rentals: nursing beds and wheelchairs delivered to beneficiaries and
returned. The monthly charge is split between the fund and the beneficiary at settlement, by
the rule of the beneficiary's grade (`settlement._rental_line`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anxin.core.errors import Conflict, InvalidInput, NotFound
from anxin.core.security import Principal
from anxin.ltc.application_service import today
from anxin.ltc.entitlements import Month
from anxin.ltc.models import LtcBeneficiary, LtcDepot, LtcRental, LtcSettlement
from anxin.ltc.schemas import DepotCreate, DepotRead, Item, RentalCreate, RentalReturn
from anxin.ltc.service import ADMINS, READERS, require


def create_depot(
    *, session: Session, principal: Principal, data: DepotCreate, now: datetime
) -> LtcDepot:
    require(principal, ADMINS)
    taken = session.scalar(
        select(LtcDepot.id).where(
            LtcDepot.org_id == principal.organisation_id, LtcDepot.name == data.name
        )
    )
    if taken is not None:
        raise Conflict(f"depot {data.name!r} already exists")
    depot = LtcDepot(org_id=principal.organisation_id, created_at=now, **data.model_dump())
    session.add(depot)
    session.flush()
    return depot


def _out(session: Session, depot_ids: Sequence[int], on: date) -> dict[tuple[int, str], int]:
    """Pieces out of each depot on a day, by item."""
    rows = session.execute(
        select(LtcRental.depot_id, LtcRental.item, func.count())
        .where(
            LtcRental.depot_id.in_(depot_ids),
            LtcRental.start <= on,
            LtcRental.end.is_(None) | (LtcRental.end > on),
        )
        .group_by(LtcRental.depot_id, LtcRental.item)
    )
    return {(depot, item): int(n) for depot, item, n in rows}


def list_depots(*, session: Session, principal: Principal, now: datetime) -> list[DepotRead]:
    require(principal, READERS)
    depots = session.scalars(
        select(LtcDepot).where(LtcDepot.org_id == principal.organisation_id).order_by(LtcDepot.name)
    ).all()
    out = _out(session, [d.id for d in depots], today(now))
    return [
        DepotRead(
            id=d.id, name=d.name, nursing_beds=d.nursing_beds, wheelchairs=d.wheelchairs,
            beds_out=out.get((d.id, Item.NURSING_BED.value), 0),
            wheelchairs_out=out.get((d.id, Item.WHEELCHAIR.value), 0),
        )
        for d in depots
    ]  # fmt: skip


def _settled_through(session: Session, org_id: str) -> date | None:
    """The first day after the last settled month: nothing may change before it."""
    last = session.scalar(
        select(func.max(LtcSettlement.month)).where(LtcSettlement.org_id == org_id)
    )
    return Month.parse(last).end if last else None


def deliver(
    *, session: Session, principal: Principal, data: RentalCreate, now: datetime
) -> LtcRental:
    require(principal, ADMINS)
    org = principal.organisation_id
    depot = session.get(LtcDepot, data.depot_id)
    if depot is None or depot.org_id != org:
        raise InvalidInput.field("depot_id", "not a depot of this scheme")
    person = session.get(LtcBeneficiary, data.beneficiary_id)
    if person is None or person.org_id != org:
        raise InvalidInput.field("beneficiary_id", "not a beneficiary of this scheme")
    if person.entitled_from > data.start or (
        person.entitled_to is not None and person.entitled_to <= data.start
    ):
        raise InvalidInput.field("start", "the beneficiary is not entitled on that day")
    closed = _settled_through(session, org)
    if closed is not None and data.start < closed:
        raise InvalidInput.field("start", f"falls in a settled month (settled until {closed})")
    stock = depot.nursing_beds if data.item is Item.NURSING_BED else depot.wheelchairs
    # Stock is counted from today on: a rental starting later still holds its piece.
    out = _out(session, [depot.id], max(data.start, today(now))).get((depot.id, data.item.value), 0)
    if out >= stock:
        raise Conflict(f"no {data.item.value.replace('_', ' ')} left at {depot.name}")
    rental = LtcRental(
        org_id=org, beneficiary_id=person.id, depot_id=depot.id, item=data.item.value,
        monthly_rent=data.monthly_rent, start=data.start, end=None,
    )  # fmt: skip
    session.add(rental)
    session.flush()
    return rental


def give_back(
    *, session: Session, principal: Principal, rental_id: int, data: RentalReturn
) -> LtcRental:
    require(principal, ADMINS)
    rental = session.get(LtcRental, rental_id)
    if rental is None or rental.org_id != principal.organisation_id:
        raise NotFound(f"rental {rental_id} not found")
    if rental.end is not None:
        raise Conflict(f"rental {rental_id} was returned on {rental.end}")
    if data.end <= rental.start:
        raise InvalidInput.field("end", "must be after the start")
    closed = _settled_through(session, rental.org_id)
    if closed is not None and data.end < closed:
        raise InvalidInput.field("end", f"falls in a settled month (settled until {closed})")
    rental.end = data.end
    session.flush()
    return rental


def listing(
    *, session: Session, principal: Principal, beneficiary_id: int | None, limit: int
) -> Sequence[LtcRental]:
    require(principal, READERS)
    query = select(LtcRental).where(LtcRental.org_id == principal.organisation_id)
    if beneficiary_id is not None:
        query = query.where(LtcRental.beneficiary_id == beneficiary_id)
    return session.scalars(query.order_by(LtcRental.id.desc()).limit(limit)).all()
