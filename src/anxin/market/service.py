"""The market's service: listings, requests for quotes, orders from offer to settlement.

Keyword-only functions that flush and never commit. Who sees what:

* a **buyer** (role ``buyer``, any organisation) sees every open listing, their own requests
  for quotes and their own orders;
* a **seller** is the administrator of a cooperative that has farms (the trace brand): they
  see their own organisation's listings and orders and every open request for quotes;
* anyone else is refused (403); a thing the caller may not see is a 404.

A shipment is two EPCIS events in the lot's trace, captured through trace's capture service
(so they are hashed, indexed and anchored in the ledger like the farm's own): shipping by the
seller, receiving when the buyer confirms. Both go into the seller's repository, where the
lot's trace lives; the receiving event is captured on the seller's behalf with the buyer as
the unit's actor (the contract gives the buyer that right; trace's capture admits only the
brand and its farmers).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts.service import Recipient, Severity, raise_alarm
from anxin.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork
from anxin.lending.allocation import Charge
from anxin.market import grades, terms
from anxin.market.models import (
    Dispute,
    DisputeStatus,
    Listing,
    ListingStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentKind,
    Rfq,
    Shipment,
    ShipmentStatus,
)
from anxin.market.schemas import (
    ListingCreate,
    OrderCreate,
    PaymentCreate,
    RfqCreate,
    SampleResult,
    ShipmentCreate,
)
from anxin.people import service as people
from anxin.trace import catalogue, crosscheck, vocab
from anxin.trace import service as trace

ORDER_KIND = "market_order"
DISPUTE_ALARM = "market_dispute"
SHIPMENT_SOURCE = "market_shipment"  # the dispute alarm's source: the failed delivery
CST = timezone(timedelta(hours=8))
EPCIS_CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
ZERO = Decimal("0.0")
NO_MONEY = Decimal("0.00")
# Why a request for quotes closed.
RFQ_ACCEPTED, RFQ_WITHDRAWN, RFQ_EXPIRED = "accepted", "withdrawn", "expired"


# --- who is who -------------------------------------------------------------------------


def is_seller(session: Session, principal: Principal) -> bool:
    return principal.role == Role.ADMIN and bool(
        trace.list_farms(session=session, principal=principal)
    )


def _buyer(principal: Principal) -> None:
    if principal.role != Role.BUYER:
        raise PermissionDenied("only a buyer may do this")


def _seller(session: Session, principal: Principal) -> None:
    if not is_seller(session, principal):
        raise PermissionDenied("only a cooperative's administrator sells")


def _trader(session: Session, principal: Principal) -> None:
    if principal.role != Role.BUYER and not is_seller(session, principal):
        raise PermissionDenied("the market is for buyers and cooperatives")


def visible_order_ids(session: Session, principal: Principal) -> Collection[str] | None:
    """The ``market_order`` owner scope: the buyer's own orders, the seller's organisation's."""
    if principal.role == Role.BUYER:
        return set(
            session.scalars(select(Order.id).where(Order.buyer_user_id == principal.user_id))
        )
    if principal.role == Role.ADMIN:
        return set(
            session.scalars(
                select(Order.id).where(Order.seller_organisation_id == principal.organisation_id)
            )
        )
    return ()


def order_belongs(session: Session, organisation_id: str, order_id: str) -> bool:
    return (
        session.scalar(
            select(Order.id).where(
                Order.id == order_id, Order.seller_organisation_id == organisation_id
            )
        )
        is not None
    )


# --- listings ---------------------------------------------------------------------------


def create_listing(*, uow: UnitOfWork, principal: Principal, data: ListingCreate) -> Listing:
    session = uow.session
    _seller(session, principal)
    lot = catalogue.get_lot(session=session, principal=principal, lot_id=data.lot_id)
    facts = catalogue.lot_facts(session, lot.id)
    assert facts is not None
    crop = facts.crop or ""
    if grades.limits(crop, data.grade) is None:
        raise InvalidInput.field(
            "grade", f"not a grade of {crop or 'this lot'}", code="market_not_a_grade"
        )
    if data.delivery_to < data.delivery_from:
        raise InvalidInput.field(
            "delivery_to", "before delivery_from", code="market_window_reversed"
        )
    listing = Listing(
        seller_organisation_id=principal.organisation_id,
        created_by=principal.user_id,
        lot_id=lot.id,
        crop=crop,
        grade=data.grade,
        quantity_kg=data.quantity_kg,
        available_kg=data.quantity_kg,
        price_per_kg=data.price_per_kg,
        region=data.region,
        delivery_from=data.delivery_from,
        delivery_to=data.delivery_to,
        status=ListingStatus.OPEN,
        created_at=uow.now(),
    )
    session.add(listing)
    session.flush()
    return listing


def lots_for_sale(*, session: Session, principal: Principal) -> list[catalogue.LotFacts]:
    """The seller's traced lots, newest first: what the listing form offers."""
    _seller(session, principal)
    facts = (
        catalogue.lot_facts(session, i)
        for i in catalogue.lot_ids_of(session, principal.organisation_id)
    )
    return [f for f in facts if f is not None]


def _deliverable(listing: Listing, now: datetime) -> bool:
    """Whether goods can still be delivered inside the listing's window: nobody can once it
    has passed (its last day, Beijing time, still counts)."""
    return listing.delivery_to >= now.astimezone(CST).date()


def list_listings(*, session: Session, principal: Principal, now: datetime) -> list[Listing]:
    """A buyer's: the open listings one could still deliver in (`_deliverable`, as SQL;
    `place_order` refuses the rest); a cooperative's: all of its own."""
    _trader(session, principal)
    query = select(Listing).order_by(Listing.created_at.desc(), Listing.id)
    if principal.role == Role.BUYER:
        today = now.astimezone(CST).date()
        query = query.where(Listing.status == ListingStatus.OPEN, Listing.delivery_to >= today)
    else:
        query = query.where(Listing.seller_organisation_id == principal.organisation_id)
    return list(session.scalars(query.limit(500)))


def get_listing(*, session: Session, principal: Principal, listing_id: str) -> Listing:
    _trader(session, principal)
    listing = session.get(Listing, listing_id)
    if listing is None or not (
        listing.seller_organisation_id == principal.organisation_id
        or (principal.role == Role.BUYER and listing.status == ListingStatus.OPEN)
    ):
        raise NotFound(f"no listing {listing_id}")
    return listing


def _locked_listing(session: Session, listing_id: str) -> Listing:
    """The listing with its row locked: what is available changes only under the lock, so
    two contracts (or a contract and a return) at once never both start from the old figure."""
    listing = session.get(Listing, listing_id, with_for_update=True)
    assert listing is not None
    return listing


def return_to_listing(*, uow: UnitOfWork, order: Order, kg: Decimal) -> Decimal:
    """Kilograms the buyer sent back are the cooperative's to sell again: they go back on the
    order's listing, never past the quantity listed, and a listing that closed because it sold
    out opens again while its delivery window lasts (past it, nobody could deliver in it, so
    it stays closed with the kilograms counted). Returns the kilograms put back."""
    listing = _locked_listing(uow.session, order.listing_id)
    sold_out = listing.status == ListingStatus.CLOSED and listing.available_kg == 0
    back = max(min(kg, listing.quantity_kg - listing.available_kg), ZERO)
    listing.available_kg += back
    if sold_out and back > 0 and _deliverable(listing, uow.now()):
        listing.status = ListingStatus.OPEN
    uow.session.flush()
    return back


@dataclass(frozen=True)
class Trace:
    """A listing's trace badge: where the lot's timeline is and how its claims checked out."""

    gtin: str
    lot: str
    product_zh: str
    product_en: str
    farm: str
    url: str | None  # the lot's public trace page (a unit of it)
    checks: dict[str, int]  # pass / warn / fail
    limits: dict[str, float]

    @property
    def verdict(self) -> str:
        if not any(self.checks.values()):
            return "unchecked"
        return "fail" if self.checks["fail"] else "warn" if self.checks["warn"] else "pass"


def get_listing_of(*, session: Session, order: Order) -> Listing:
    """The listing behind an order the caller may see (it may be closed by now)."""
    listing = session.get(Listing, order.listing_id)
    assert listing is not None
    return listing


def planted_m2(*, session: Session, principal: Principal) -> dict[str, float]:
    """The area the seller's farms plant per crop, from trace's plots."""
    out: dict[str, float] = {}
    for farm in trace.list_farms(session=session, principal=principal):
        for plot in trace.list_plots(session=session, principal=principal, farm_id=farm.id):
            out[plot.crop] = out.get(plot.crop, 0.0) + float(plot.area_m2)
    return out


def reference_prices(*, session: Session, principal: Principal) -> dict[str, Decimal]:
    """The seller's latest listed price per crop: where a price band is centred."""
    out: dict[str, Decimal] = {}
    rows = session.execute(
        select(Listing.crop, Listing.price_per_kg)
        .where(Listing.seller_organisation_id == principal.organisation_id)
        .order_by(Listing.created_at)
    )
    for crop, price in rows:
        out[crop] = price
    return out


def trace_of(session: Session, listing: Listing) -> Trace:
    facts = catalogue.lot_facts(session, listing.lot_id)
    assert facts is not None
    counts = {"pass": 0, "warn": 0, "fail": 0}
    for check in crosscheck.checks_of(session, listing.lot_id):
        counts[check.outcome] = counts.get(check.outcome, 0) + 1
    url = (
        f"/01/{facts.gtin}/10/{facts.code}/21/{facts.first_serial}" if facts.first_serial else None
    )
    return Trace(
        gtin=facts.gtin,
        lot=facts.code,
        product_zh=facts.product_zh,
        product_en=facts.product_en,
        farm=facts.farm_name,
        url=url,
        checks=counts,
        limits=grades.limits(listing.crop, listing.grade) or {},
    )


# --- requests for quotes ----------------------------------------------------------------


def create_rfq(*, uow: UnitOfWork, principal: Principal, data: RfqCreate) -> Rfq:
    _buyer(principal)
    if data.grade not in grades.NAMES:
        raise InvalidInput.field("grade", "unknown grade")
    quotes_by = data.quotes_by or data.delivery_by
    if quotes_by > data.delivery_by:
        raise InvalidInput.field("quotes_by", "after delivery_by")
    if quotes_by < uow.now().astimezone(CST).date():
        raise InvalidInput.field("quotes_by", "in the past")
    rfq = Rfq(
        buyer_organisation_id=principal.organisation_id,
        buyer_user_id=principal.user_id,
        crop=data.crop,
        grade=data.grade,
        quantity_kg=data.quantity_kg,
        target_price_per_kg=data.target_price_per_kg,
        region=data.region,
        delivery_by=data.delivery_by,
        quotes_by=quotes_by,
        status=ListingStatus.OPEN,
        created_at=uow.now(),
    )
    uow.session.add(rfq)
    uow.session.flush()
    return rfq


def list_rfqs(*, session: Session, principal: Principal) -> list[Rfq]:
    _trader(session, principal)
    query = select(Rfq).order_by(Rfq.created_at.desc(), Rfq.id).limit(500)
    if principal.role == Role.BUYER:
        return list(session.scalars(query.where(Rfq.buyer_user_id == principal.user_id)))
    return list(session.scalars(query.where(Rfq.status == ListingStatus.OPEN)))


def _rfq(session: Session, principal: Principal, rfq_id: str) -> Rfq:
    rfq = session.get(Rfq, rfq_id)
    visible = rfq is not None and (
        rfq.buyer_user_id == principal.user_id
        or (rfq.status == ListingStatus.OPEN and is_seller(session, principal))
    )
    if rfq is None or not visible:
        raise NotFound(f"no request for quotes {rfq_id}")
    return rfq


def get_rfq(*, session: Session, principal: Principal, rfq_id: str) -> Rfq:
    _trader(session, principal)
    return _rfq(session, principal, rfq_id)


def _close_rfq(uow: UnitOfWork, rfq: Rfq, reason: str, keep: str | None = None) -> None:
    """Close the request and decline every quote still waiting on it (but `keep`, the one the
    buyer accepted)."""
    rfq.status = ListingStatus.CLOSED
    rfq.closed_reason = reason
    rfq.closed_at = uow.now()
    waiting = uow.session.scalars(
        select(Order).where(Order.rfq_id == rfq.id, Order.status == OrderStatus.OFFERED)
    )
    for quote in waiting:
        if quote.id != keep:
            quote.status = OrderStatus.REJECTED
    uow.session.flush()


def withdraw_rfq(*, uow: UnitOfWork, principal: Principal, rfq_id: str) -> Rfq:
    """The buyer takes the request back: it closes and its waiting quotes are declined."""
    _buyer(principal)
    rfq = _rfq(uow.session, principal, rfq_id)
    if rfq.status != ListingStatus.OPEN:
        raise Conflict(f"the request is closed ({rfq.closed_reason})")
    _close_rfq(uow, rfq, RFQ_WITHDRAWN)
    return rfq


def sweep_expired_rfqs(*, uow: UnitOfWork, now: datetime) -> int:
    """Close the requests whose quote deadline has passed (the worker's tick); rows another
    sweeper holds are skipped, so two processes never close one twice."""
    today = now.astimezone(CST).date()
    due = list(
        uow.session.scalars(
            select(Rfq)
            .where(Rfq.status == ListingStatus.OPEN, Rfq.quotes_by < today)
            .order_by(Rfq.quotes_by, Rfq.id)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    )
    for rfq in due:
        _close_rfq(uow, rfq, RFQ_EXPIRED)
    return len(due)


# --- orders: offer, acceptance, contract ------------------------------------------------


def place_order(*, uow: UnitOfWork, principal: Principal, data: OrderCreate) -> Order:
    """An offer: the buyer's on a listing, or the seller's in answer to a request for quotes.
    The other side accepts it into a contract."""
    session = uow.session
    listing = get_listing(session=session, principal=principal, listing_id=data.listing_id)
    if listing.status != ListingStatus.OPEN:
        raise Conflict("the listing is closed")
    if not _deliverable(listing, uow.now()):
        raise Conflict(f"the listing's delivery window ended on {listing.delivery_to}")
    for parameter in data.tolerances:
        if parameter not in (grades.limits(listing.crop, listing.grade) or {}):
            raise InvalidInput.field(f"tolerances.{parameter}", "not a parameter of the grade")
    if data.quantity_kg > listing.available_kg:
        raise InvalidInput.field(
            "quantity_kg", f"more than the {listing.available_kg} kg available"
        )
    if principal.role == Role.BUYER:
        if data.rfq_id is not None:
            raise InvalidInput.field("rfq_id", "a buyer's order answers no request")
        buyer_user_id, buyer_org, side = principal.user_id, principal.organisation_id, "buyer"
    else:
        if data.rfq_id is None:
            raise InvalidInput.field("rfq_id", "a seller offers in answer to a request for quotes")
        rfq = _rfq(session, principal, data.rfq_id)
        buyer_user_id, buyer_org, side = rfq.buyer_user_id, rfq.buyer_organisation_id, "seller"
    order = Order(
        listing_id=listing.id,
        rfq_id=data.rfq_id,
        seller_organisation_id=listing.seller_organisation_id,
        buyer_organisation_id=buyer_org,
        buyer_user_id=buyer_user_id,
        offered_by=side,
        quantity_kg=data.quantity_kg,
        price_per_kg=data.price_per_kg if data.price_per_kg is not None else listing.price_per_kg,
        payment_term=data.payment_term,
        tolerances={k: float(v) for k, v in data.tolerances.items()},
        delivery_location=data.delivery_location,
        status=OrderStatus.OFFERED,
        created_at=uow.now(),
    )
    session.add(order)
    session.flush()
    return order


def side_of(principal: Principal, order: Order) -> str | None:
    if principal.role == Role.BUYER and order.buyer_user_id == principal.user_id:
        return "buyer"
    if principal.role == Role.ADMIN and order.seller_organisation_id == principal.organisation_id:
        return "seller"
    return None


def get_order(*, session: Session, principal: Principal, order_id: str) -> Order:
    _trader(session, principal)
    order = session.get(Order, order_id)
    if order is None or side_of(principal, order) is None:
        raise NotFound(f"no order {order_id}")
    return order


def list_orders(*, session: Session, principal: Principal) -> list[Order]:
    _trader(session, principal)
    query = select(Order).order_by(Order.created_at.desc(), Order.id).limit(500)
    if principal.role == Role.BUYER:
        return list(session.scalars(query.where(Order.buyer_user_id == principal.user_id)))
    return list(
        session.scalars(query.where(Order.seller_organisation_id == principal.organisation_id))
    )


def decide_offer(*, uow: UnitOfWork, principal: Principal, order_id: str, accept: bool) -> Order:
    """The other side accepts (a contract: its number, its date, the quantity taken off the
    listing) or rejects the offer."""
    session = uow.session
    order = get_order(session=session, principal=principal, order_id=order_id)
    side = side_of(principal, order)
    if order.status != OrderStatus.OFFERED:
        raise Conflict(f"the order is {order.status.value}, not offered")
    if side == order.offered_by:
        raise PermissionDenied("the other side accepts an offer")
    if not accept:
        order.status = OrderStatus.REJECTED
        session.flush()
        return order
    # A quote is accepted while its request is open; accepting it closes the request.
    rfq = session.get(Rfq, order.rfq_id, with_for_update=True) if order.rfq_id else None
    if rfq is not None and rfq.status != ListingStatus.OPEN:
        raise Conflict(f"the request for quotes is closed ({rfq.closed_reason})")
    listing = _locked_listing(session, order.listing_id)
    if order.quantity_kg > listing.available_kg:
        raise Conflict(f"only {listing.available_kg} kg are left on the listing")
    listing.available_kg -= order.quantity_kg
    if listing.available_kg == 0:
        listing.status = ListingStatus.CLOSED  # sold out
    today = uow.now().astimezone(CST).date()
    order.status = OrderStatus.CONTRACTED
    order.contracted_on = today
    # From the order's own id: no counter to race on between two acceptances at once.
    order.contract_no = f"MC{today:%Y%m%d}-{order.id[:8].upper()}"
    session.flush()
    if rfq is not None:
        _close_rfq(uow, rfq, RFQ_ACCEPTED, keep=order.id)
    return order


# --- shipments and quality acceptance ---------------------------------------------------


def shipments_of(session: Session, order_id: str) -> list[Shipment]:
    return list(
        session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.seq)
        )
    )


def epcis_event(
    step: str, disposition: str, at: datetime, epc_class: str, kg: Decimal, ref: str
) -> dict[str, Any]:
    return {
        "@context": EPCIS_CONTEXT,
        "type": "ObjectEvent",
        "eventTime": at.astimezone(CST).isoformat(timespec="seconds"),
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": step,
        "disposition": disposition,
        "quantityList": [{"epcClass": epc_class, "quantity": float(kg), "uom": "KGM"}],
        "bizTransactionList": [{"type": "desadv", "bizTransaction": ref}],
    }


def ship(*, uow: UnitOfWork, principal: Principal, order_id: str, data: ShipmentCreate) -> Shipment:
    """A (partial) delivery: the shipping event captured in the lot's trace."""
    session = uow.session
    _seller(session, principal)
    order = get_order(session=session, principal=principal, order_id=order_id)
    if order.status != OrderStatus.CONTRACTED:
        raise Conflict(f"the order is {order.status.value}: nothing to ship")
    existing = shipments_of(session, order.id)
    shipped = sum((s.quantity_kg for s in existing), ZERO)
    if data.quantity_kg > order.quantity_kg - shipped:
        left = order.quantity_kg - shipped
        raise InvalidInput.field("quantity_kg", f"more than the {left} kg left to ship")
    listing = session.get(Listing, order.listing_id)
    assert listing is not None
    facts = catalogue.lot_facts(session, listing.lot_id)
    assert facts is not None
    seq = len(existing) + 1
    now = uow.now()
    event = epcis_event(
        "shipping",
        "in_transit",
        now,
        f"{vocab.DL_HOST}/01/{facts.gtin}/10/{facts.code}",
        data.quantity_kg,
        f"urn:anxin:market:{order.contract_no}:{seq}",
    )
    event["readPoint"] = {"id": facts.farm_location}
    row, _ = trace.capture_event(uow=uow, principal=principal, event=event)
    shipment = Shipment(
        order_id=order.id,
        seq=seq,
        quantity_kg=data.quantity_kg,
        status=ShipmentStatus.SHIPPED,
        shipping_event_id=row.id,
        shipped_at=now,
    )
    session.add(shipment)
    session.flush()
    return shipment


def _shipment(
    session: Session, principal: Principal, order_id: str, seq: int
) -> tuple[Order, Shipment]:
    order = get_order(session=session, principal=principal, order_id=order_id)
    shipment = session.scalar(
        select(Shipment).where(Shipment.order_id == order.id, Shipment.seq == seq)
    )
    if shipment is None:
        raise NotFound(f"no shipment {seq} of order {order_id}")
    return order, shipment


def receive(*, uow: UnitOfWork, principal: Principal, order_id: str, seq: int) -> Shipment:
    """The buyer confirms receipt: the receiving event goes into the lot's trace."""
    session = uow.session
    _buyer(principal)
    order, shipment = _shipment(session, principal, order_id, seq)
    if shipment.status != ShipmentStatus.SHIPPED:
        raise Conflict(f"shipment {seq} is {shipment.status.value}, not shipped")
    listing = session.get(Listing, order.listing_id)
    assert listing is not None
    facts = catalogue.lot_facts(session, listing.lot_id)
    assert facts is not None
    now = uow.now()
    event = epcis_event(
        "receiving",
        "in_progress",
        now,
        f"{vocab.DL_HOST}/01/{facts.gtin}/10/{facts.code}",
        shipment.quantity_kg,
        f"urn:anxin:market:{order.contract_no}:{seq}",
    )
    if order.delivery_location:
        event["bizLocation"] = {"id": order.delivery_location}
    seller = people.user_by_id(session=session, user_id=listing.created_by)
    assert seller is not None
    # The seller's repository holds the lot's trace: captured there on the seller's behalf.
    on_behalf = people.principal_of(seller)
    row, _ = trace.capture_event(uow=uow, principal=on_behalf, event=event)
    shipment.receiving_event_id = row.id
    shipment.status = ShipmentStatus.RECEIVED
    shipment.received_at = now
    session.flush()
    return shipment


def accept_quality(
    *, uow: UnitOfWork, principal: Principal, order_id: str, seq: int, data: SampleResult
) -> Shipment:
    """Hold the delivery's sample test against the grade and the contract's tolerances: it
    passes (its value falls due by the payment term) or it fails and a dispute opens with the
    evidence (the sample, what deviated, the limits, the delivery's trace events)."""
    session = uow.session
    _buyer(principal)
    order, shipment = _shipment(session, principal, order_id, seq)
    if shipment.status != ShipmentStatus.RECEIVED:
        raise Conflict(f"shipment {seq} is {shipment.status.value}, not received")
    listing = session.get(Listing, order.listing_id)
    assert listing is not None
    limits = grades.limits(listing.crop, listing.grade) or {}
    unknown = sorted(set(data.values) - set(limits))
    if unknown:
        raise InvalidInput.field(f"values.{unknown[0]}", "not a parameter of the grade")
    sample = {k: float(v) for k, v in data.values.items()}
    deviations = terms.inspect(limits, order.tolerances, sample)
    now = uow.now()
    shipment.sample = {"values": sample, "lab": data.lab, "sample_id": data.sample_id}
    shipment.deviations = [
        {
            "parameter": d.parameter,
            "measured": None if d.measured != d.measured else d.measured,
            "limit": d.limit,
            "tolerance": d.tolerance,
        }
        for d in deviations
    ]
    shipment.decided_on = now.astimezone(CST).date()
    if not deviations:
        shipment.status = ShipmentStatus.ACCEPTED
        session.flush()
        maybe_settle(uow, order)
        return shipment
    shipment.status = ShipmentStatus.REJECTED
    dispute = Dispute(
        order_id=order.id,
        shipment_id=shipment.id,
        reason="; ".join(
            f"{d['parameter']} {d['measured']} > {d['limit']} + {d['tolerance']}"
            for d in shipment.deviations
        )[:400],
        evidence={
            "sample": shipment.sample,
            "deviations": shipment.deviations,
            "grade": listing.grade,
            "limits": limits,
            "tolerances": order.tolerances,
            "shipping_event_id": shipment.shipping_event_id,
            "receiving_event_id": shipment.receiving_event_id,
        },
        status=DisputeStatus.OPEN,
        opened_at=now,
    )
    session.add(dispute)
    session.flush()
    _alarm(uow, order, shipment, dispute)
    return shipment


def _alarm(uow: UnitOfWork, order: Order, shipment: Shipment, dispute: Dispute) -> None:
    """The seller's administrators hear of the dispute through the alarm path."""
    users = people.active_users_with_roles(
        session=uow.session, organisation_id=order.seller_organisation_id, roles=(Role.ADMIN,)
    )
    raise_alarm(
        uow=uow,
        organisation_id=order.seller_organisation_id,
        owner_kind=ORDER_KIND,
        owner_id=order.id,
        source_kind=SHIPMENT_SOURCE,
        source_id=shipment.id,
        alarm_type=DISPUTE_ALARM,
        severity=Severity.WARNING,
        title="质量验收不合格，已开争议 Quality acceptance failed: dispute opened",
        details={"contract": order.contract_no, "shipment": shipment.seq, "reason": dispute.reason},
        policy="default",
        recipients=[Recipient("admin", u.display_name, u.id, u.phone) for u in users],
        now=uow.now(),
    )


def disputes_of(session: Session, order_id: str) -> list[Dispute]:
    return list(
        session.scalars(
            select(Dispute).where(Dispute.order_id == order_id).order_by(Dispute.opened_at)
        )
    )


# --- payment and settlement -------------------------------------------------------------


def _owed_deliveries(session: Session, order: Order) -> list[terms.Delivery]:
    """The deliveries that are owed for: accepted ones, and rejected ones whose dispute is
    resolved (from the resolution's day, less its adjustment)."""
    resolved = {
        d.shipment_id: d
        for d in disputes_of(session, order.id)
        if d.status == DisputeStatus.RESOLVED and d.resolved_on is not None
    }
    out = []
    for s in shipments_of(session, order.id):
        if s.status == ShipmentStatus.ACCEPTED and s.decided_on is not None:
            out.append(terms.Delivery(s.seq, s.decided_on, s.quantity_kg))
        elif (d := resolved.get(s.id)) is not None and d.resolved_on is not None:
            adjustment = d.adjustment or NO_MONEY
            out.append(terms.Delivery(s.seq, d.resolved_on, s.quantity_kg, adjustment))
    return out


def charges_of(session: Session, order: Order) -> list[Charge]:
    if order.contracted_on is None:
        return []
    return terms.charges(
        term=order.payment_term.value,
        contracted_on=order.contracted_on,
        quantity_kg=order.quantity_kg,
        price_per_kg=order.price_per_kg,
        accepted=_owed_deliveries(session, order),
    )


def payments_of(session: Session, order_id: str) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment)
            .where(Payment.order_id == order_id)
            .order_by(Payment.paid_on, Payment.recorded_at, Payment.id)
        )
    )


def account_of(session: Session, order: Order) -> terms.Account:
    payments = payments_of(session, order.id)
    return terms.account(
        charges_of(session, order),
        [(p.paid_on, p.amount) for p in payments if p.kind == PaymentKind.PAYMENT],
        [p.amount for p in payments if p.kind == PaymentKind.REFUND],
    )


def _replayed(
    session: Session, order: Order, kind: PaymentKind, data: PaymentCreate
) -> Payment | None:
    """The payment an earlier request with this key recorded, if any; the key names one
    payment, so the same key with another amount or day is refused."""
    earlier = session.scalar(
        select(Payment).where(
            Payment.order_id == order.id, Payment.idempotency_key == data.idempotency_key
        )
    )
    if earlier is None:
        return None
    if (earlier.kind, earlier.amount, earlier.paid_on) != (kind, data.amount, data.paid_on):
        raise Conflict("this idempotency key was used for another payment")
    return earlier


def _record(
    uow: UnitOfWork, principal: Principal, order: Order, kind: PaymentKind, data: PaymentCreate
) -> Payment:
    payment = Payment(
        order_id=order.id,
        kind=kind,
        idempotency_key=data.idempotency_key,
        amount=data.amount,
        paid_on=data.paid_on,
        recorded_by=principal.user_id,
        recorded_at=uow.now(),
    )
    uow.session.add(payment)
    uow.session.flush()
    maybe_settle(uow, order)
    return payment


def _contracted_for_money(session: Session, principal: Principal, order_id: str) -> Order:
    # The order row is locked: two payments at once must not both pass the amount check.
    order = get_order(session=session, principal=principal, order_id=order_id)
    session.refresh(order, with_for_update=True)
    return order


def _move_money(
    uow: UnitOfWork, principal: Principal, order_id: str, kind: PaymentKind, data: PaymentCreate
) -> Payment:
    """Record a payment or a refund of at most what is owed that way; the same key again is
    the same one."""
    session = uow.session
    order = _contracted_for_money(session, principal, order_id)
    earlier = _replayed(session, order, kind, data)
    if earlier is not None:
        return earlier
    if order.status != OrderStatus.CONTRACTED:
        raise Conflict(f"the order is {order.status.value}: no money moves on it")
    account = account_of(session, order)
    limit = account.owed if kind == PaymentKind.PAYMENT else account.credit
    if data.amount > limit:
        owed_to = "owed" if kind == PaymentKind.PAYMENT else "owed back to the buyer"
        raise InvalidInput.field("amount", f"more than the {limit} {owed_to}")
    return _record(uow, principal, order, kind, data)


def pay(*, uow: UnitOfWork, principal: Principal, order_id: str, data: PaymentCreate) -> Payment:
    """The buyer pays at most what is owed, due or not yet due."""
    _buyer(principal)
    return _move_money(uow, principal, order_id, PaymentKind.PAYMENT, data)


def refund(*, uow: UnitOfWork, principal: Principal, order_id: str, data: PaymentCreate) -> Payment:
    """The seller pays back what the buyer paid beyond what is owed (a prepayment for goods
    reduced or returned)."""
    _seller(uow.session, principal)
    return _move_money(uow, principal, order_id, PaymentKind.REFUND, data)


def maybe_settle(uow: UnitOfWork, order: Order) -> None:
    """Settled when everything is shipped, every delivery is decided (accepted, or rejected
    and its dispute resolved), and nothing is owed either way: what the buyer paid, less the
    refunds, is what the deliveries are owed to the fen."""
    session = uow.session
    shipments = shipments_of(session, order.id)
    shipped = sum((s.quantity_kg for s in shipments), ZERO)
    pending = any(s.status in (ShipmentStatus.SHIPPED, ShipmentStatus.RECEIVED) for s in shipments)
    if shipped < order.quantity_kg or pending:
        return
    if any(d.status == DisputeStatus.OPEN for d in disputes_of(session, order.id)):
        return
    if not account_of(session, order).square:
        return
    order.status = OrderStatus.SETTLED
    order.settled_at = uow.now()
    session.flush()
