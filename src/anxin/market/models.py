"""Listings of traced lots, buyers' requests for quotes, orders (offer → contract), shipments,
quality acceptance, disputes, payments, and the stored forecast runs.

Trade crosses organisations: a listing belongs to the selling cooperative, an order to both
the seller's organisation and the buyer's (their user and organisation are on the row), so
each side's queries name their own column rather than a single ``organisation_id``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anxin.core.audit import Audited
from anxin.core.db import ID, Base, new_id

KG = Numeric(14, 1)
PRICE = Numeric(12, 2)
MONEY = Numeric(16, 2)


def _enum(kind: type[StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class ListingStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class PaymentTerm(StrEnum):
    PREPAYMENT = "prepayment"  # the contract value before the first shipment
    ON_DELIVERY = "on_delivery"  # each accepted delivery on the day it is accepted
    NET_30 = "net_30"  # each accepted delivery 30 days after acceptance


class OrderStatus(StrEnum):
    OFFERED = "offered"  # waiting for the other side
    REJECTED = "rejected"
    CONTRACTED = "contracted"  # accepted: a contract with terms; deliveries under way
    SETTLED = "settled"  # every delivery closed and every charge paid


class ShipmentStatus(StrEnum):
    SHIPPED = "shipped"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # failed quality acceptance: a dispute is open on it


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Outcome(StrEnum):
    """How the two sides settle a failed delivery."""

    REDUCTION = "reduction"  # the delivery kept at a lower price (an amount or a percentage)
    RETURN = "return"  # some or all of the delivery goes back; it is owed for what is kept
    WITHDRAWN = "withdrawn"  # the buyer drops the claim: the delivery is owed in full


class ProposalStatus(StrEnum):
    PENDING = "pending"  # waiting for the other side
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a newer proposal (a counter-offer) replaced it


class PaymentKind(StrEnum):
    PAYMENT = "payment"  # buyer to seller
    REFUND = "refund"  # seller back to buyer: what was paid beyond what is owed


class Listing(Audited, Base):
    __tablename__ = "market_listings"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    seller_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    lot_id: Mapped[str] = mapped_column(ForeignKey("trace_lots.id"), index=True)
    crop: Mapped[str] = mapped_column(String(80), index=True)  # the plot's, for the forecasts
    grade: Mapped[str] = mapped_column(String(16))
    quantity_kg: Mapped[Decimal] = mapped_column(KG)
    # less what signed orders hold, plus what buyers returned (disputes.py): never past quantity
    available_kg: Mapped[Decimal] = mapped_column(KG)
    price_per_kg: Mapped[Decimal] = mapped_column(PRICE)
    region: Mapped[str] = mapped_column(String(40))
    delivery_from: Mapped[date]
    delivery_to: Mapped[date]
    status: Mapped[ListingStatus] = mapped_column(_enum(ListingStatus), index=True)
    created_at: Mapped[datetime]


class Rfq(Audited, Base):
    """A buyer's request for quotes: what, how much, which grade, when, at what target price."""

    __tablename__ = "market_rfqs"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    buyer_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    buyer_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    crop: Mapped[str] = mapped_column(String(80))
    grade: Mapped[str] = mapped_column(String(16))
    quantity_kg: Mapped[Decimal] = mapped_column(KG)
    target_price_per_kg: Mapped[Decimal | None] = mapped_column(PRICE)
    region: Mapped[str] = mapped_column(String(40))
    delivery_by: Mapped[date]
    status: Mapped[ListingStatus] = mapped_column(_enum(ListingStatus), index=True)
    created_at: Mapped[datetime]
    quotes_by: Mapped[date] = mapped_column(index=True)  # the sweep closes it after this day
    closed_reason: Mapped[str | None] = mapped_column(String(16))  # RFQ_CLOSED_* in the service
    closed_at: Mapped[datetime | None]


class Order(Audited, Base):
    """An offer and, once accepted, the contract: price, quantity, payment term, tolerances."""

    __tablename__ = "market_orders"
    __table_args__ = (Index("ix_market_orders_buyer", "buyer_user_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    listing_id: Mapped[str] = mapped_column(ForeignKey("market_listings.id"), index=True)
    rfq_id: Mapped[str | None] = mapped_column(ForeignKey("market_rfqs.id"), index=True)
    seller_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    buyer_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    buyer_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    offered_by: Mapped[str] = mapped_column(String(8))  # buyer | seller: the other side accepts
    quantity_kg: Mapped[Decimal] = mapped_column(KG)
    price_per_kg: Mapped[Decimal] = mapped_column(PRICE)
    payment_term: Mapped[PaymentTerm] = mapped_column(_enum(PaymentTerm))
    # The contract's tolerances over the grade's limits, per parameter (percentage points).
    tolerances: Mapped[dict[str, Any]] = mapped_column()
    delivery_location: Mapped[str | None] = mapped_column(String(400))  # the buyer's GLN
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), index=True)
    contract_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime]
    contracted_on: Mapped[date | None]
    settled_at: Mapped[datetime | None]


class Shipment(Audited, Base):
    """One (partial) delivery, shipped and received as EPCIS events in the lot's trace."""

    __tablename__ = "market_shipments"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("market_orders.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    quantity_kg: Mapped[Decimal] = mapped_column(KG)
    status: Mapped[ShipmentStatus] = mapped_column(_enum(ShipmentStatus))
    shipping_event_id: Mapped[str] = mapped_column(ForeignKey("trace_events.id"))
    receiving_event_id: Mapped[str | None] = mapped_column(ForeignKey("trace_events.id"))
    sample: Mapped[dict[str, Any] | None] = mapped_column()  # the sample test result
    deviations: Mapped[list[Any] | None] = mapped_column()  # what failed, if anything
    shipped_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    decided_on: Mapped[date | None]  # quality acceptance: the day a charge falls due from


class Dispute(Audited, Base):
    __tablename__ = "market_disputes"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("market_orders.id"), index=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("market_shipments.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(400))
    evidence: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[DisputeStatus] = mapped_column(_enum(DisputeStatus))
    opened_at: Mapped[datetime]
    # The agreed outcome (the accepted proposal's), once resolved.
    outcome: Mapped[Outcome | None] = mapped_column(_enum(Outcome))
    adjustment: Mapped[Decimal | None] = mapped_column(MONEY)  # off the delivery's value
    return_kg: Mapped[Decimal | None] = mapped_column(KG)
    return_event_id: Mapped[str | None] = mapped_column(ForeignKey("trace_events.id"))
    resolved_at: Mapped[datetime | None]
    resolved_on: Mapped[date | None]  # the day the delivery's (new) value falls due from


class DisputeProposal(Audited, Base):
    """One side's proposed outcome of a dispute; the other accepts or rejects it. Every
    proposal stays, so the negotiation is on record."""

    __tablename__ = "market_dispute_proposals"
    __table_args__ = (UniqueConstraint("dispute_id", "number"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    dispute_id: Mapped[str] = mapped_column(ForeignKey("market_disputes.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … in the order they were made
    proposed_by: Mapped[str] = mapped_column(String(8))  # buyer | seller
    proposed_by_user: Mapped[str] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    amount: Mapped[Decimal | None] = mapped_column(MONEY)  # a reduction given as an amount
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # … or as a percentage
    return_kg: Mapped[Decimal | None] = mapped_column(KG)
    adjustment: Mapped[Decimal] = mapped_column(MONEY)  # what it takes off the delivery's value
    note: Mapped[str | None] = mapped_column(String(400))
    status: Mapped[ProposalStatus] = mapped_column(_enum(ProposalStatus))
    proposed_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]


class Payment(Audited, Base):
    """Money between the two sides of an order: the buyer's payments and the seller's refunds
    (both positive amounts; the kind says which way). The same idempotency key on the same
    order is the same payment, so a retried request moves no money twice."""

    __tablename__ = "market_payments"
    __table_args__ = (UniqueConstraint("order_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("market_orders.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(_enum(PaymentKind))
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[date]
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


class ForecastRun(Base):
    """One forecast of one series: the chosen model, its back-test and its forecast, so the
    page shows what was computed (fitting takes seconds) and the choice is on record."""

    __tablename__ = "market_forecasts"
    __table_args__ = (Index("ix_market_forecasts_org_key", "organisation_id", "key", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    key: Mapped[str] = mapped_column(String(80))  # demand:<product>:<region> | supply:<crop>
    chosen: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column()  # history, forecast, intervals, errors
    created_at: Mapped[datetime]
