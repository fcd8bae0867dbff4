"""Returned kilograms go back on the listing: a return puts its kilograms back for sale (a
sold-out listing opens again while its delivery window lasts), a reduction or a withdrawn claim
puts nothing back, and what is available never passes what was listed nor drops below zero
(a property over any sequence of contracts and returns)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from anxin.core.audit import AuditLog
from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.errors import InvalidInput, NotFound
from anxin.core.security import Principal
from anxin.core.unit import UnitOfWork
from anxin.demo.seed import DemoInfo
from anxin.market import disputes, service
from anxin.market.models import Listing, ListingStatus, Outcome, PaymentTerm
from anxin.market.schemas import (
    ListingCreate,
    OrderCreate,
    ProposalCreate,
    SampleResult,
    ShipmentCreate,
)
from anxin.people import service as people
from tests.market.test_market_api import FAIL, _sample
from tests.property_budget import examples

Headers = Callable[[str], dict[str, str]]
API = "/api/v1/market"


def _signed(client: TestClient, buyer: dict[str, str], coop: dict[str, str], kg: str) -> str:
    """A contract for `kg` of the demo listing (3,000 kg at ¥7.60): the order's id."""
    listing = client.get(f"{API}/listings", headers=buyer).json()[0]
    body = {"listing_id": listing["id"], "quantity_kg": kg, "payment_term": "on_delivery"}
    order = client.post(f"{API}/orders", headers=buyer, json=body)
    assert order.status_code == 201, order.text
    signed = client.post(
        f"{API}/orders/{order.json()['id']}/decision", headers=coop, json={"accept": True}
    )
    assert signed.status_code == 200, signed.text
    return str(order.json()["id"])


def _failed(client: TestClient, buyer: dict[str, str], coop: dict[str, str], order_id: str) -> str:
    """The order shipped whole in one delivery that fails acceptance: the dispute's proposals."""
    base = f"{API}/orders/{order_id}"
    kg = client.get(base, headers=buyer).json()["quantity_kg"]
    assert client.post(f"{base}/shipments", headers=coop, json={"quantity_kg": kg}).is_success
    assert client.post(f"{base}/shipments/1/receipt", headers=buyer).is_success
    failed = client.post(f"{base}/shipments/1/acceptance", headers=buyer, json=_sample(FAIL, "R1"))
    assert failed.json()["status"] == "rejected", failed.text
    (dispute,) = client.get(base, headers=buyer).json()["disputes"]
    return f"{base}/disputes/{dispute['id']}/proposals"


def _agree(
    client: TestClient, proposals: str, by: dict[str, str], to: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    made = client.post(proposals, headers=by, json=body)
    assert made.status_code == 201, made.text
    agreed = client.post(
        f"{proposals}/{made.json()['id']}/decision", headers=to, json={"accept": True}
    )
    assert agreed.status_code == 200, agreed.text
    resolved: dict[str, Any] = agreed.json()
    return resolved


def _listing(client: TestClient, coop: dict[str, str], listing_id: str) -> dict[str, Any]:
    got: dict[str, Any] = client.get(f"{API}/listings/{listing_id}", headers=coop).json()
    return got


def test_a_return_puts_its_kilograms_back_and_reopens_the_sold_out_listing(
    client: TestClient, as_user: Headers, demo: DemoInfo, context: AppContext
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    listing_id = demo.market.listing_id
    _signed(client, buyer, coop, "2500.0")
    last = _signed(client, buyer, coop, "500.0")
    sold_out = _listing(client, coop, listing_id)
    assert (sold_out["available_kg"], sold_out["status"]) == ("0.0", "closed")
    assert client.get(f"{API}/listings", headers=buyer).json() == []  # off the market

    proposals = _failed(client, buyer, coop, last)
    resolved = _agree(client, proposals, buyer, coop, {"outcome": "return", "return_kg": "120.0"})
    assert resolved["disputes"][0]["return_kg"] == "120.0"
    back = _listing(client, coop, listing_id)
    assert (back["available_kg"], back["status"]) == ("120.0", "open")
    (shown,) = client.get(f"{API}/listings", headers=buyer).json()
    assert shown["id"] == listing_id and shown["available_kg"] == "120.0"

    # The change is audited like a contract's: the listing's row before and after.
    with context.db.session_scope() as session:
        change = session.scalars(
            select(AuditLog)
            .where(AuditLog.entity_type == "market_listings", AuditLog.entity_id == listing_id)
            .order_by(AuditLog.id.desc())
        ).first()
    assert change is not None and change.before is not None and change.after is not None
    assert (change.before["available_kg"], change.before["status"]) == ("0.0", "closed")
    assert (change.after["available_kg"], change.after["status"]) == ("120.0", "open")

    # The 120 kg sell again, and no more than them.
    order = {"listing_id": listing_id, "payment_term": "net_30"}
    over = client.post(f"{API}/orders", headers=buyer, json={**order, "quantity_kg": "120.1"})
    assert over.status_code == 422 and over.json()["fields"][0]["field"] == "quantity_kg"
    again = client.post(f"{API}/orders", headers=buyer, json={**order, "quantity_kg": "120.0"})
    assert again.status_code == 201, again.text


def test_a_return_after_the_delivery_window_counts_the_kilograms_but_keeps_it_closed(
    client: TestClient, as_user: Headers, demo: DemoInfo, clock: FrozenClock
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    last = _signed(client, buyer, coop, "3000.0")
    proposals = _failed(client, buyer, coop, last)
    clock.advance(timedelta(days=61))  # the demo listing delivers for 60 days
    buyer, coop = as_user("buyer"), as_user("coop")  # two months on: fresh logins
    _agree(client, proposals, coop, buyer, {"outcome": "return", "return_kg": "120.0"})
    listing = _listing(client, coop, demo.market.listing_id)
    assert (listing["available_kg"], listing["status"]) == ("120.0", "closed")
    assert client.get(f"{API}/listings", headers=buyer).json() == []


@pytest.mark.parametrize(
    "outcome",
    [{"outcome": "reduction", "percent": "10"}, {"outcome": "withdrawn"}],
    ids=["reduction", "withdrawn"],
)
def test_a_reduction_or_a_withdrawn_claim_puts_nothing_back(
    client: TestClient, as_user: Headers, demo: DemoInfo, outcome: dict[str, Any]
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id = _signed(client, buyer, coop, "500.0")
    proposals = _failed(client, buyer, coop, order_id)
    # A return proposed and rejected moves nothing either.
    asked = client.post(proposals, headers=buyer, json={"outcome": "return", "return_kg": "500.0"})
    no = client.post(
        f"{proposals}/{asked.json()['id']}/decision", headers=coop, json={"accept": False}
    )
    assert no.status_code == 200, no.text
    _agree(client, proposals, coop, buyer, outcome)
    assert _listing(client, coop, demo.market.listing_id)["available_kg"] == "2500.0"


def test_a_return_never_lifts_the_listing_past_its_quantity(
    client: TestClient, as_user: Headers, demo: DemoInfo, context: AppContext
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id = _signed(client, buyer, coop, "500.0")
    proposals = _failed(client, buyer, coop, order_id)
    # Only 50 kg short of the quantity listed when the 120 kg come back (the row corrected by
    # hand, say): the listing fills up to its quantity and no further.
    with context.unit(actor="test:restock") as uow:
        listing = uow.session.get(Listing, demo.market.listing_id)
        assert listing is not None
        listing.available_kg = Decimal("2950.0")
    _agree(client, proposals, buyer, coop, {"outcome": "return", "return_kg": "120.0"})
    listing_now = _listing(client, coop, demo.market.listing_id)
    assert (listing_now["available_kg"], listing_now["quantity_kg"]) == ("3000.0", "3000.0")


# --- the property -----------------------------------------------------------------------

# One contract on the listing: its kilograms (tenths, may be more than is available: refused),
# and if its one delivery fails, the share of it returned (0: a reduction instead).
contracts = st.lists(
    st.tuples(st.integers(1, 12_000), st.booleans(), st.integers(0, 100)), min_size=1, max_size=4
)


def _principal(uow: UnitOfWork, username: str) -> Principal:
    return people.principal_of(people.get_user_by_username(session=uow.session, username=username))


def _contract(uow: UnitOfWork, listing: Listing, kg: Decimal) -> str | None:
    """A contract for `kg`, or None when the listing refuses it: more than is available (a
    422), or nothing is (a sold-out listing is closed, and buyers do not see closed ones)."""
    offer = OrderCreate(listing_id=listing.id, quantity_kg=kg, payment_term=PaymentTerm.NET_30)
    try:
        order = service.place_order(uow=uow, principal=_principal(uow, "buyer"), data=offer)
    except (InvalidInput, NotFound):
        return None
    service.decide_offer(uow=uow, principal=_principal(uow, "coop"), order_id=order.id, accept=True)
    return order.id


def _fail_and_settle(uow: UnitOfWork, order_id: str, kg: Decimal, back: Decimal) -> None:
    """Ship the contract whole, fail it at acceptance, and agree on returning `back` kg (on a
    10 % reduction when nothing goes back)."""
    buyer, coop = _principal(uow, "buyer"), _principal(uow, "coop")
    service.ship(uow=uow, principal=coop, order_id=order_id, data=ShipmentCreate(quantity_kg=kg))
    service.receive(uow=uow, principal=buyer, order_id=order_id, seq=1)
    sample = SampleResult.model_validate(_sample(FAIL, "P1"))
    service.accept_quality(uow=uow, principal=buyer, order_id=order_id, seq=1, data=sample)
    (dispute,) = service.disputes_of(uow.session, order_id)
    outcome = (
        ProposalCreate(outcome=Outcome.RETURN, return_kg=back)
        if back > 0
        else ProposalCreate(outcome=Outcome.REDUCTION, percent=Decimal("10"))
    )
    proposal = disputes.propose(
        uow=uow, principal=buyer, order_id=order_id, dispute_id=dispute.id, data=outcome
    )
    disputes.decide(
        uow=uow,
        principal=coop,
        order_id=order_id,
        dispute_id=dispute.id,
        proposal_id=proposal.id,
        accept=True,
    )


@settings(examples(12), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantity_tenths=st.integers(10, 10_000), steps=contracts)
def test_available_stays_between_zero_and_the_quantity_across_contracts_and_returns(
    context: AppContext, demo: DemoInfo, quantity_tenths: int, steps: list[tuple[int, bool, int]]
) -> None:
    quantity = Decimal(quantity_tenths) / 10
    with context.unit(actor="test:property") as uow:
        today = uow.now().astimezone(service.CST).date()
        listing = service.create_listing(
            uow=uow,
            principal=_principal(uow, "coop"),
            data=ListingCreate(
                lot_id=demo.trace.lot_id,
                grade="first",
                quantity_kg=quantity,
                price_per_kg=Decimal("7.60"),
                region="east",
                delivery_from=today,
                delivery_to=today + timedelta(days=30),
            ),
        )
        expected = quantity  # worked out here: listed − contracted + returned
        for kg_tenths, fails, share in steps:
            kg = Decimal(kg_tenths) / 10
            order_id = _contract(uow, listing, kg)
            assert (order_id is None) == (kg > expected)  # refused exactly past what is left
            if order_id is None:
                continue
            expected -= kg
            if fails:
                back = (kg * share / 100).quantize(Decimal("0.1"))
                _fail_and_settle(uow, order_id, kg, back)
                expected += back
            uow.session.refresh(listing)
            assert Decimal(0) <= listing.available_kg <= listing.quantity_kg
            assert listing.available_kg == expected
            # Closed exactly when nothing is left (the window lasts throughout).
            assert (listing.status == ListingStatus.OPEN) == (expected > 0)
