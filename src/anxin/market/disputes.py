"""Resolving a dispute: one side proposes an outcome, the other accepts or rejects it.

The outcomes: a **reduction** of the failed delivery's price (an amount, or a percentage of its
value), a **return** of some or all of it (the return is an EPCIS shipping event with
disposition ``returned`` in the lot's trace, the returned kilograms go back on the listing for
sale, and the delivery is owed for what is kept), or the buyer's claim **withdrawn** (the
delivery is owed in full). Either side may propose any outcome; a new proposal replaces the
one still waiting (a counter-offer). Every proposal is kept with its decision; the dispute's
evidence is never touched.

Accepting resolves the dispute: its outcome and adjustment are set, the seller's dispute alarm
is cleared, and what the order owes is recomputed (`service.charges_of` reads the outcome), so
a prepaid order may now owe the buyer a refund and the order settles when the two sides are
square to the fen.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anxin.alerts.service import clear_alarm
from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal
from anxin.core.unit import UnitOfWork
from anxin.market import service, terms
from anxin.market.models import (
    Dispute,
    DisputeProposal,
    DisputeStatus,
    Listing,
    Order,
    OrderStatus,
    Outcome,
    ProposalStatus,
    Shipment,
)
from anxin.market.schemas import ProposalCreate
from anxin.people import service as people
from anxin.trace import catalogue, vocab
from anxin.trace import service as trace

CLEAR_REASON = "market_dispute_resolved"  # the alarm history shows it as a label


def _dispute(
    session: Session, principal: Principal, order_id: str, dispute_id: str
) -> tuple[Order, Dispute, Shipment]:
    order = service.get_order(session=session, principal=principal, order_id=order_id)
    dispute = session.get(Dispute, dispute_id, with_for_update=True)
    if dispute is None or dispute.order_id != order.id:
        raise NotFound(f"no dispute {dispute_id} on order {order_id}")
    shipment = session.get(Shipment, dispute.shipment_id)
    assert shipment is not None
    return order, dispute, shipment


def _side(principal: Principal, order: Order) -> str:
    side = service.side_of(principal, order)
    assert side is not None  # get_order admitted only the two sides
    return side


def proposals_of(session: Session, dispute_id: str) -> list[DisputeProposal]:
    return list(
        session.scalars(
            select(DisputeProposal)
            .where(DisputeProposal.dispute_id == dispute_id)
            .order_by(DisputeProposal.number)
        )
    )


def pending_of(session: Session, dispute_id: str) -> DisputeProposal | None:
    return session.scalar(
        select(DisputeProposal).where(
            DisputeProposal.dispute_id == dispute_id,
            DisputeProposal.status == ProposalStatus.PENDING,
        )
    )


def adjustment_of(order: Order, shipment: Shipment, data: ProposalCreate) -> Decimal:
    """What the outcome takes off the delivery's value, checked against the delivery: a 422
    naming the field that does not fit the outcome."""
    value = terms.value_of(shipment.quantity_kg, order.price_per_kg)
    extra = {
        Outcome.REDUCTION: ("return_kg",),
        Outcome.RETURN: ("amount", "percent"),
        Outcome.WITHDRAWN: ("amount", "percent", "return_kg"),
    }[data.outcome]
    for name in extra:
        if getattr(data, name) is not None:
            raise InvalidInput.field(name, f"not part of a {data.outcome.value}")
    if data.outcome == Outcome.WITHDRAWN:
        return service.NO_MONEY
    if data.outcome == Outcome.RETURN:
        if data.return_kg is None:
            raise InvalidInput.field("return_kg", "a return names the kilograms going back")
        if data.return_kg > shipment.quantity_kg:
            raise InvalidInput.field("return_kg", f"more than the {shipment.quantity_kg} kg")
        return min(terms.value_of(data.return_kg, order.price_per_kg), value)
    if (data.amount is None) == (data.percent is None):
        raise InvalidInput.field("amount", "a reduction is an amount or a percent (one of them)")
    if data.percent is not None:
        return terms.reduction_of(value, data.percent)
    assert data.amount is not None
    if data.amount > value:
        raise InvalidInput.field("amount", f"more than the delivery's value of {value}")
    return data.amount


def propose(
    *,
    uow: UnitOfWork,
    principal: Principal,
    order_id: str,
    dispute_id: str,
    data: ProposalCreate,
) -> DisputeProposal:
    """One side's proposed outcome; any proposal still waiting is superseded by it."""
    session = uow.session
    order, dispute, shipment = _dispute(session, principal, order_id, dispute_id)
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict("the dispute is resolved")
    adjustment = adjustment_of(order, shipment, data)
    earlier = pending_of(session, dispute.id)
    if earlier is not None:
        earlier.status = ProposalStatus.SUPERSEDED
    made = session.scalar(
        select(func.count())
        .select_from(DisputeProposal)
        .where(DisputeProposal.dispute_id == dispute.id)
    )
    proposal = DisputeProposal(
        dispute_id=dispute.id,
        number=(made or 0) + 1,  # the dispute row is locked: no two proposals take one number
        proposed_by=_side(principal, order),
        proposed_by_user=principal.user_id,
        outcome=data.outcome,
        amount=data.amount,
        percent=data.percent,
        return_kg=data.return_kg,
        adjustment=adjustment,
        note=data.note,
        status=ProposalStatus.PENDING,
        proposed_at=uow.now(),
    )
    session.add(proposal)
    session.flush()
    return proposal


def decide(
    *,
    uow: UnitOfWork,
    principal: Principal,
    order_id: str,
    dispute_id: str,
    proposal_id: str,
    accept: bool,
) -> DisputeProposal:
    """The other side accepts (the dispute is resolved on its terms) or rejects a proposal."""
    session = uow.session
    order, dispute, shipment = _dispute(session, principal, order_id, dispute_id)
    proposal = session.get(DisputeProposal, proposal_id)
    if proposal is None or proposal.dispute_id != dispute.id:
        raise NotFound(f"no proposal {proposal_id} on dispute {dispute_id}")
    if proposal.status != ProposalStatus.PENDING:
        raise Conflict(f"the proposal is {proposal.status.value}, not pending")
    if _side(principal, order) == proposal.proposed_by:
        raise PermissionDenied("the other side accepts or rejects a proposal")
    proposal.decided_by = principal.user_id
    proposal.decided_at = uow.now()
    if not accept:
        proposal.status = ProposalStatus.REJECTED
        session.flush()
        return proposal
    if order.status != OrderStatus.CONTRACTED:
        raise Conflict(f"the order is {order.status.value}")
    proposal.status = ProposalStatus.ACCEPTED
    _resolve(uow, order, dispute, shipment, proposal)
    return proposal


def _resolve(
    uow: UnitOfWork,
    order: Order,
    dispute: Dispute,
    shipment: Shipment,
    proposal: DisputeProposal,
) -> None:
    now = uow.now()
    dispute.status = DisputeStatus.RESOLVED
    dispute.outcome = proposal.outcome
    dispute.adjustment = proposal.adjustment
    dispute.return_kg = proposal.return_kg
    dispute.resolved_at = now
    dispute.resolved_on = now.astimezone(service.CST).date()
    if proposal.outcome == Outcome.RETURN and proposal.return_kg is not None:
        dispute.return_event_id = _return_event(uow, order, shipment, proposal.return_kg)
        service.return_to_listing(uow=uow, order=order, kg=proposal.return_kg)
    uow.session.flush()
    clear_alarm(
        uow=uow,
        source_kind=service.SHIPMENT_SOURCE,
        source_id=shipment.id,
        alarm_type=service.DISPUTE_ALARM,
        now=now,
        reason=f"dispute resolved: {proposal.outcome.value}",
        reason_code=CLEAR_REASON,
        reason_params={"outcome": proposal.outcome.value},
    )
    service.maybe_settle(uow, order)


def _return_event(uow: UnitOfWork, order: Order, shipment: Shipment, kg: Decimal) -> str:
    """The goods going back: an EPCIS shipping event, disposition returned, from the buyer's
    location, captured in the seller's repository where the lot's trace lives (as receipt is)."""
    session = uow.session
    listing = session.get(Listing, order.listing_id)
    assert listing is not None
    facts = catalogue.lot_facts(session, listing.lot_id)
    assert facts is not None
    event = service.epcis_event(
        "shipping",
        "returned",
        uow.now(),
        f"{vocab.DL_HOST}/01/{facts.gtin}/10/{facts.code}",
        kg,
        f"urn:anxin:market:{order.contract_no}:{shipment.seq}:return",
    )
    if order.delivery_location:
        event["readPoint"] = {"id": order.delivery_location}
    seller = people.user_by_id(session=session, user_id=listing.created_by)
    assert seller is not None
    row, _ = trace.capture_event(uow=uow, principal=people.principal_of(seller), event=event)
    return row.id
