"""The market API: listings with their trace, requests for quotes, orders to settlement,
forecasts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlalchemy.orm import Session

from anxin.market import disputes, forecasting, service
from anxin.market.models import Dispute, ForecastRun, Listing, Order
from anxin.market.schemas import (
    AccountRead,
    ChargeRead,
    DisputeRead,
    ErrorsRead,
    ForecastRead,
    ListingCreate,
    ListingRead,
    OfferDecision,
    OrderCreate,
    OrderRead,
    PaymentCreate,
    PaymentRead,
    ProposalCreate,
    ProposalDecision,
    ProposalRead,
    RfqCreate,
    RfqRead,
    SampleResult,
    ShipmentCreate,
    ShipmentRead,
    TraceBadge,
)
from anxin.people.deps import CurrentPrincipal, UnitDep

Seq = Annotated[int, Path(ge=1, le=100_000)]  # a delivery's number in its order

router = APIRouter(prefix="/api/v1/market", tags=["market"])


def listing_read(session: Session, listing: Listing) -> ListingRead:
    out = ListingRead.model_validate(listing)
    trace = service.trace_of(session, listing)
    out.trace = TraceBadge(
        gtin=trace.gtin,
        lot=trace.lot,
        product_zh=trace.product_zh,
        product_en=trace.product_en,
        farm=trace.farm,
        url=trace.url,
        checks=trace.checks,
        verdict=trace.verdict,
        limits=trace.limits,
    )
    return out


def order_read(session: Session, order: Order) -> OrderRead:
    out = OrderRead.model_validate(order)
    out.shipments = [
        ShipmentRead.model_validate(s) for s in service.shipments_of(session, order.id)
    ]
    out.disputes = [dispute_read(session, d) for d in service.disputes_of(session, order.id)]
    account = service.account_of(session, order)
    out.account = AccountRead(
        charged=account.charged,
        paid=account.paid,
        outstanding=[
            ChargeRead(delivery=c.instalment, due=c.due, amount=c.amount)
            for c in account.outstanding
        ],
        credit=account.credit,
        refunded=account.refunded,
    )
    return out


def dispute_read(session: Session, dispute: Dispute) -> DisputeRead:
    out = DisputeRead.model_validate(dispute)
    out.proposals = [
        ProposalRead.model_validate(p) for p in disputes.proposals_of(session, dispute.id)
    ]
    return out


def forecast_read(row: ForecastRun) -> ForecastRead:
    r = row.result
    return ForecastRead(
        key=row.key,
        chosen=row.chosen,
        backtest={m: ErrorsRead(**e) for m, e in r["backtest"].items()},
        beats_baseline=bool(r["beats_baseline"]),
        history=r["history"],
        mean=r["mean"],
        intervals=r["intervals"],
        starts=r["starts"],
        created_at=row.created_at,
    )


@router.post("/listings", response_model=ListingRead, status_code=status.HTTP_201_CREATED)
def post_listing(body: ListingCreate, principal: CurrentPrincipal, uow: UnitDep) -> ListingRead:
    """List a graded lot of the cooperative's (its administrator)."""
    return listing_read(
        uow.session, service.create_listing(uow=uow, principal=principal, data=body)
    )


@router.get("/listings", response_model=list[ListingRead])
def get_listings(principal: CurrentPrincipal, uow: UnitDep) -> list[ListingRead]:
    """Open listings for a buyer; the cooperative's own for its administrator."""
    rows = service.list_listings(session=uow.session, principal=principal, now=uow.now())
    return [listing_read(uow.session, r) for r in rows]


@router.get("/listings/{listing_id}", response_model=ListingRead)
def get_listing(listing_id: str, principal: CurrentPrincipal, uow: UnitDep) -> ListingRead:
    row = service.get_listing(session=uow.session, principal=principal, listing_id=listing_id)
    return listing_read(uow.session, row)


@router.post("/rfqs", response_model=RfqRead, status_code=status.HTTP_201_CREATED)
def post_rfq(body: RfqCreate, principal: CurrentPrincipal, uow: UnitDep) -> RfqRead:
    return RfqRead.model_validate(service.create_rfq(uow=uow, principal=principal, data=body))


@router.get("/rfqs", response_model=list[RfqRead])
def get_rfqs(principal: CurrentPrincipal, uow: UnitDep) -> list[RfqRead]:
    """A buyer's own requests; every open one for a cooperative."""
    rows = service.list_rfqs(session=uow.session, principal=principal)
    return [RfqRead.model_validate(r) for r in rows]


@router.get("/rfqs/{rfq_id}", response_model=RfqRead)
def get_rfq(rfq_id: str, principal: CurrentPrincipal, uow: UnitDep) -> RfqRead:
    row = service.get_rfq(session=uow.session, principal=principal, rfq_id=rfq_id)
    return RfqRead.model_validate(row)


@router.post("/rfqs/{rfq_id}/withdrawal", response_model=RfqRead)
def post_rfq_withdrawal(rfq_id: str, principal: CurrentPrincipal, uow: UnitDep) -> RfqRead:
    """The buyer withdraws the request: it closes and the quotes still waiting are declined."""
    row = service.withdraw_rfq(uow=uow, principal=principal, rfq_id=rfq_id)
    return RfqRead.model_validate(row)


@router.post("/orders", response_model=OrderRead, status_code=status.HTTP_201_CREATED)
def post_order(body: OrderCreate, principal: CurrentPrincipal, uow: UnitDep) -> OrderRead:
    """An offer: a buyer's on a listing, or a cooperative's answering a request for quotes."""
    order = service.place_order(uow=uow, principal=principal, data=body)
    return order_read(uow.session, order)


@router.get("/orders", response_model=list[OrderRead])
def get_orders(principal: CurrentPrincipal, uow: UnitDep) -> list[OrderRead]:
    rows = service.list_orders(session=uow.session, principal=principal)
    return [order_read(uow.session, r) for r in rows]


@router.get("/orders/{order_id}", response_model=OrderRead)
def get_order(order_id: str, principal: CurrentPrincipal, uow: UnitDep) -> OrderRead:
    row = service.get_order(session=uow.session, principal=principal, order_id=order_id)
    return order_read(uow.session, row)


@router.post("/orders/{order_id}/decision", response_model=OrderRead)
def post_decision(
    order_id: str, body: OfferDecision, principal: CurrentPrincipal, uow: UnitDep
) -> OrderRead:
    """The other side accepts the offer (a contract) or rejects it."""
    order = service.decide_offer(
        uow=uow, principal=principal, order_id=order_id, accept=body.accept
    )
    return order_read(uow.session, order)


@router.post(
    "/orders/{order_id}/shipments", response_model=ShipmentRead, status_code=status.HTTP_201_CREATED
)
def post_shipment(
    order_id: str, body: ShipmentCreate, principal: CurrentPrincipal, uow: UnitDep
) -> ShipmentRead:
    """Ship a (partial) delivery: an EPCIS shipping event in the lot's trace."""
    row = service.ship(uow=uow, principal=principal, order_id=order_id, data=body)
    return ShipmentRead.model_validate(row)


@router.post("/orders/{order_id}/shipments/{seq}/receipt", response_model=ShipmentRead)
def post_receipt(
    order_id: str, seq: Seq, principal: CurrentPrincipal, uow: UnitDep
) -> ShipmentRead:
    """The buyer confirms receipt: an EPCIS receiving event."""
    row = service.receive(uow=uow, principal=principal, order_id=order_id, seq=seq)
    return ShipmentRead.model_validate(row)


@router.post("/orders/{order_id}/shipments/{seq}/acceptance", response_model=ShipmentRead)
def post_acceptance(
    order_id: str, seq: Seq, body: SampleResult, principal: CurrentPrincipal, uow: UnitDep
) -> ShipmentRead:
    """Quality acceptance against the grade and the contract's tolerances; a failure opens a
    dispute with the evidence."""
    row = service.accept_quality(
        uow=uow, principal=principal, order_id=order_id, seq=seq, data=body
    )
    return ShipmentRead.model_validate(row)


@router.post(
    "/orders/{order_id}/payments", response_model=PaymentRead, status_code=status.HTTP_201_CREATED
)
def post_payment(
    order_id: str, body: PaymentCreate, principal: CurrentPrincipal, uow: UnitDep
) -> PaymentRead:
    """The buyer pays; the same idempotency key again returns the same payment."""
    row = service.pay(uow=uow, principal=principal, order_id=order_id, data=body)
    return PaymentRead.model_validate(row)


@router.get("/orders/{order_id}/payments", response_model=list[PaymentRead])
def get_payments(order_id: str, principal: CurrentPrincipal, uow: UnitDep) -> list[PaymentRead]:
    """The buyer's payments and the seller's refunds, in the order they were made."""
    order = service.get_order(session=uow.session, principal=principal, order_id=order_id)
    return [PaymentRead.model_validate(p) for p in service.payments_of(uow.session, order.id)]


@router.post(
    "/orders/{order_id}/refunds", response_model=PaymentRead, status_code=status.HTTP_201_CREATED
)
def post_refund(
    order_id: str, body: PaymentCreate, principal: CurrentPrincipal, uow: UnitDep
) -> PaymentRead:
    """The seller pays back what the buyer paid beyond what is owed (at most that); the same
    idempotency key again returns the same refund."""
    row = service.refund(uow=uow, principal=principal, order_id=order_id, data=body)
    return PaymentRead.model_validate(row)


@router.post(
    "/orders/{order_id}/disputes/{dispute_id}/proposals",
    response_model=ProposalRead,
    status_code=status.HTTP_201_CREATED,
)
def post_proposal(
    order_id: str,
    dispute_id: str,
    body: ProposalCreate,
    principal: CurrentPrincipal,
    uow: UnitDep,
) -> ProposalRead:
    """Propose an outcome of the dispute (a reduction, a return, the claim withdrawn); the
    other side accepts or rejects it. It replaces a proposal still waiting."""
    row = disputes.propose(
        uow=uow, principal=principal, order_id=order_id, dispute_id=dispute_id, data=body
    )
    return ProposalRead.model_validate(row)


@router.post(
    "/orders/{order_id}/disputes/{dispute_id}/proposals/{proposal_id}/decision",
    response_model=OrderRead,
)
def post_proposal_decision(
    order_id: str,
    dispute_id: str,
    proposal_id: str,
    body: ProposalDecision,
    principal: CurrentPrincipal,
    uow: UnitDep,
) -> OrderRead:
    """The other side accepts (the dispute is resolved and what is owed recomputed) or
    rejects the proposal."""
    disputes.decide(
        uow=uow,
        principal=principal,
        order_id=order_id,
        dispute_id=dispute_id,
        proposal_id=proposal_id,
        accept=body.accept,
    )
    order = service.get_order(session=uow.session, principal=principal, order_id=order_id)
    return order_read(uow.session, order)


@router.post("/forecasts", response_model=list[ForecastRead], status_code=status.HTTP_201_CREATED)
def post_forecasts(principal: CurrentPrincipal, uow: UnitDep) -> list[ForecastRead]:
    """Forecast every series with enough history (seconds per series: fitting is real work)."""
    rows = forecasting.run(uow=uow, principal=principal)
    return [forecast_read(r) for r in rows]


@router.get("/forecasts", response_model=list[ForecastRead])
def get_forecasts(principal: CurrentPrincipal, uow: UnitDep) -> list[ForecastRead]:
    return [forecast_read(r) for r in forecasting.latest(session=uow.session, principal=principal)]
