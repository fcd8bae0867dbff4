"""Online purchase of prescribed medicines: the elder's side orders a prescription's medicines
for delivery, which is a home-services booking (scenario medicine_delivery) made through the
services domain's functions — its tables stay its own. The order's status is the booking's:
requested, assigned to a worker who delivers, on the way (in progress), delivered (done) or
cancelled. The price is the delivery's list price; the medicines are paid to the pharmacy on
delivery (anxin keeps no drug prices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from anxin.consult import service
from anxin.consult.models import (
    ConsultationStatus,
    MedicineOrder,
    Prescription,
    PrescriptionStatus,
)
from anxin.core.clock import to_local
from anxin.core.errors import NotFound, PermissionDenied, RuleViolation
from anxin.core.security import Principal
from anxin.core.unit import UnitOfWork
from anxin.services import service as services


@dataclass(frozen=True)
class OrderLine:
    order: MedicineOrder
    booking: services.BookingSummary | None  # None: the booking is gone (never expected)


def order_medicines(
    *,
    uow: UnitOfWork,
    principal: Principal,
    consultation_id: str,
    prescription_id: str,
    start: datetime,
) -> OrderLine:
    consultation = service.get_consultation(
        uow=uow, principal=principal, consultation_id=consultation_id
    )
    if principal.role not in service.REQUESTERS:
        raise PermissionDenied("the elder, the family or the butler orders the medicines")
    prescription = uow.session.get(Prescription, prescription_id)
    if prescription is None or prescription.consultation_id != consultation.id:
        raise NotFound(f"no prescription {prescription_id}")
    if prescription.status != PrescriptionStatus.ACTIVE:
        raise RuleViolation("the prescription was stopped: nothing to order")
    if consultation.status == ConsultationStatus.WAITING:  # never: prescribing takes it
        raise RuleViolation("the consultation has no doctor yet")
    for line in _lines(uow, [prescription.id]):
        # One still on its way blocks a second order (a double delivery); after a
        # cancellation, or once delivered, the family may order again.
        if _open(line):
            raise RuleViolation(f"already ordered (booking {line.order.booking_id}), not delivered")
    notes = (
        f"处方药 Prescribed medicines: {prescription.drug} {prescription.strength} × "
        f"{prescription.quantity} (Rx {prescription.id[:8]}, "
        f"{to_local(prescription.created_at):%Y-%m-%d})"
    )
    booking = services.book_medicine_delivery(
        uow=uow, principal=principal, elder_id=consultation.elder_id, start=start, notes=notes
    )
    order = MedicineOrder(prescription_id=prescription.id, consultation_id=consultation.id,
                          booking_id=booking.id, ordered_by_user_id=principal.user_id,
                          created_at=uow.now())  # fmt: skip
    uow.session.add(order)
    uow.session.flush()
    service.publish(uow, consultation, "ordered")
    [line] = [x for x in _lines(uow, [prescription.id]) if x.order.id == order.id]
    return line


def _lines(uow: UnitOfWork, prescription_ids: Sequence[str]) -> list[OrderLine]:
    stmt = (
        select(MedicineOrder)
        .where(MedicineOrder.prescription_id.in_(prescription_ids))
        .order_by(MedicineOrder.created_at, MedicineOrder.id)
    )
    found = list(uow.session.scalars(stmt))
    bookings = services.booking_summaries(
        session=uow.session, booking_ids=[o.booking_id for o in found]
    )
    return [OrderLine(o, bookings.get(o.booking_id)) for o in found]


def orders_of(*, uow: UnitOfWork, principal: Principal, consultation_id: str) -> list[OrderLine]:
    """The consultation's medicine orders with their delivery status, for whoever sees it."""
    consultation = service.get_consultation(
        uow=uow, principal=principal, consultation_id=consultation_id
    )
    ids = select(Prescription.id).where(Prescription.consultation_id == consultation.id)
    return _lines(uow, list(uow.session.scalars(ids)))


def current(lines: Sequence[OrderLine]) -> dict[str, OrderLine]:
    """Prescription id -> the order to show beside it: the one on its way if any (there is at
    most one), else the latest. Not by time alone: two orders can share a timestamp."""
    out: dict[str, OrderLine] = {}
    for line in lines:
        shown = out.get(line.order.prescription_id)
        if shown is None or not _open(shown) or _open(line):
            out[line.order.prescription_id] = line
    return out


def _open(line: OrderLine) -> bool:
    return line.booking is not None and line.booking.status in services.OPEN
