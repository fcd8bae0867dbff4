"""The market end to end through the API: a traced listing, an order to a contract, two
partial deliveries captured as EPCIS events, one failing quality acceptance (a dispute with
evidence and the seller's alarm), payment through lending's allocation, and settlement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.security import Role
from anxin.demo.accounts import ensure_organisation, ensure_user
from anxin.demo.seed import DemoInfo
from anxin.market.service import CST
from anxin.people.models import OrganisationKind
from tests.conftest import login

Headers = Callable[[str], dict[str, str]]
PASS = {"moisture_pct": 14.2, "broken_pct": 7.5, "impurity_pct": 0.2}
FAIL = {"moisture_pct": 14.2, "broken_pct": 13.0, "impurity_pct": 0.2}  # first grade: ≤ 10


def _sample(values: dict[str, float], sample_id: str) -> dict[str, Any]:
    return {"values": values, "lab": "上海谷物质检站 Shanghai grain lab", "sample_id": sample_id}


def _contract(client: TestClient, buyer: dict[str, str], coop: dict[str, str], term: str) -> str:
    listing = client.get("/api/v1/market/listings", headers=buyer).json()[0]
    order = client.post(
        "/api/v1/market/orders",
        headers=buyer,
        json={
            "listing_id": listing["id"],
            "quantity_kg": "1000.0",
            "payment_term": term,
            "tolerances": {"moisture_pct": 0.5},
            "delivery_location": "urn:epc:id:sgln:6901234.00001.0",
        },
    )
    assert order.status_code == 201, order.text
    body = order.json()
    assert body["status"] == "offered" and body["price_per_kg"] == "7.60"
    # The buyer cannot accept their own offer: the other side does.
    mine = {"accept": True}
    assert (
        client.post(f"/api/v1/market/orders/{body['id']}/decision", headers=buyer, json=mine)
    ).status_code == 403
    signed = client.post(f"/api/v1/market/orders/{body['id']}/decision", headers=coop, json=mine)
    assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "contracted" and signed.json()["contract_no"]
    return str(body["id"])


def test_buyer_orders_a_traced_lot_and_the_rest_settles_after_a_dispute(
    client: TestClient, as_user: Headers, demo: DemoInfo, clock: FrozenClock
) -> None:
    today = clock.now().astimezone(CST).date().isoformat()
    buyer, coop = as_user("buyer"), as_user("coop")
    listings = client.get("/api/v1/market/listings", headers=buyer).json()
    assert len(listings) == 1
    badge = listings[0]["trace"]
    assert badge["lot"] == "JS2026" and badge["url"].startswith("/01/06970001000016/10/JS2026/21/")
    assert sum(badge["checks"].values()) > 0 and badge["verdict"] in ("pass", "warn", "fail")
    assert client.get(badge["url"]).status_code == 200  # the lot's public trace page

    order_id = _contract(client, buyer, coop, "on_delivery")
    assert (
        client.get("/api/v1/market/listings", headers=buyer).json()[0]["available_kg"] == "2000.0"
    )
    base = f"/api/v1/market/orders/{order_id}"
    first = client.post(f"{base}/shipments", headers=coop, json={"quantity_kg": "400.0"})
    assert first.status_code == 201, first.text
    too_much = client.post(f"{base}/shipments", headers=coop, json={"quantity_kg": "700.0"})
    assert too_much.status_code == 422
    assert too_much.json()["fields"][0]["field"] == "quantity_kg"
    assert client.post(f"{base}/shipments", headers=coop, json={"quantity_kg": "600.0"}).is_success

    # Acceptance before receipt is refused; receipt is the buyer's, captured in the trace.
    early = client.post(f"{base}/shipments/1/acceptance", headers=buyer, json=_sample(PASS, "S1"))
    assert early.status_code == 409
    for seq in (1, 2):
        got = client.post(f"{base}/shipments/{seq}/receipt", headers=buyer)
        assert got.status_code == 200 and got.json()["receiving_event_id"]
    ok = client.post(f"{base}/shipments/1/acceptance", headers=buyer, json=_sample(PASS, "S1"))
    assert ok.json()["status"] == "accepted" and ok.json()["deviations"] == []
    bad = client.post(f"{base}/shipments/2/acceptance", headers=buyer, json=_sample(FAIL, "S2"))
    assert bad.json()["status"] == "rejected"
    assert bad.json()["deviations"] == [
        {"parameter": "broken_pct", "measured": 13.0, "limit": 10.0, "tolerance": 0.0}
    ]

    order = client.get(base, headers=buyer).json()
    (dispute,) = order["disputes"]
    assert dispute["status"] == "open" and "broken_pct" in dispute["reason"]
    assert dispute["evidence"]["sample"]["sample_id"] == "S2"
    assert dispute["evidence"]["shipping_event_id"] == order["shipments"][1]["shipping_event_id"]
    # Only the accepted 400 kg is owed, on the day of acceptance (on delivery).
    (charge,) = order["account"]["outstanding"]
    assert charge == {"delivery": 1, "due": today, "amount": "3040.00"}

    over = {"amount": "3040.01", "paid_on": today, "idempotency_key": "pay-over-1"}
    over_paid = client.post(f"{base}/payments", headers=buyer, json=over)
    assert over_paid.status_code == 422 and over_paid.json()["fields"][0]["field"] == "amount"
    body = {"amount": "3040.00", "paid_on": today, "idempotency_key": "pay-first-1"}
    paid = client.post(f"{base}/payments", headers=buyer, json=body)
    assert paid.status_code == 201, paid.text
    # The open dispute may still change what is owed: the order waits for its outcome.
    waiting = client.get(base, headers=coop).json()
    assert waiting["status"] == "contracted" and waiting["disputes"][0]["status"] == "open"

    # The cooperative offers 10 % off the failed 600 kg; the buyer accepts: 4,104.00 is owed.
    disputes = f"{base}/disputes/{dispute['id']}/proposals"
    offer = client.post(disputes, headers=coop, json={"outcome": "reduction", "percent": "10"})
    assert offer.status_code == 201 and offer.json()["adjustment"] == "456.00", offer.text
    agreed = client.post(
        f"{disputes}/{offer.json()['id']}/decision", headers=buyer, json={"accept": True}
    )
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["account"]["outstanding"] == [
        {"delivery": 2, "due": today, "amount": "4104.00"}
    ]
    rest = {"amount": "4104.00", "paid_on": today, "idempotency_key": "pay-rest-1"}
    assert client.post(f"{base}/payments", headers=buyer, json=rest).status_code == 201
    settled = client.get(base, headers=coop).json()
    assert settled["status"] == "settled" and settled["disputes"][0]["status"] == "resolved"
    assert settled["disputes"][0]["evidence"]["sample"]["sample_id"] == "S2"  # kept

    # Both deliveries are shipping and receiving events in the cooperative's EPCIS repository.
    events = client.get("/epcis/events", headers=coop, params={"EQ_bizStep": "shipping"})
    assert events.status_code == 200
    assert len(events.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2
    alarms = client.get("/api/v1/alarms", headers=coop).json()
    (alarm,) = [a for a in alarms if a["alarm_type"] == "market_dispute"]
    assert alarm["cleared"] is True  # the resolution cleared the dispute's alarm


def _other_buyer(client: TestClient, context: AppContext) -> dict[str, str]:
    """A buyer of a second supermarket chain, logged in."""
    with context.unit(actor="test:seed") as uow:
        now, session = uow.now(), uow.session
        org = ensure_organisation(session, "Other Mart", OrganisationKind.BUSINESS, now)
        ensure_user(session, org.id, "other-buyer", "Other", Role.BUYER, "other-buyer-pass-1", now)
    return login(client, "other-buyer", "other-buyer-pass-1").headers


def test_orders_are_seen_by_their_buyer_and_seller_only(
    client: TestClient, as_user: Headers, demo: DemoInfo, context: AppContext
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id = _contract(client, buyer, coop, "net_30")
    other_buyer = _other_buyer(client, context)  # a buyer of another organisation
    assert client.get(f"/api/v1/market/orders/{order_id}", headers=other_buyer).status_code == 404
    assert client.get("/api/v1/market/orders", headers=other_buyer).json() == []
    assert len(client.get("/api/v1/market/listings", headers=other_buyer).json()) == 1
    # Not a trader: the farmer, a care butler.
    for who in ("farmer", "butler"):
        assert client.get("/api/v1/market/orders", headers=as_user(who)).status_code == 403
    # A buyer cannot ship; a cooperative cannot receive.
    ship = client.post(
        f"/api/v1/market/orders/{order_id}/shipments", headers=buyer, json={"quantity_kg": "1.0"}
    )
    assert ship.status_code == 403
    assert client.get(f"/api/v1/market/orders/{order_id}", headers=coop).json()["account"] == {
        "charged": "0.00",
        "paid": "0.00",
        "outstanding": [],
        "credit": "0.00",
        "refunded": "0.00",
    }


def test_rfq_answered_by_the_seller_is_accepted_by_the_buyer(
    client: TestClient, as_user: Headers, demo: DemoInfo, clock: FrozenClock
) -> None:
    today = clock.now().astimezone(CST).date().isoformat()
    buyer, coop = as_user("buyer"), as_user("coop")
    rfq = client.post(
        "/api/v1/market/rfqs",
        headers=buyer,
        json={
            "crop": "rice",
            "grade": "first",
            "quantity_kg": "500.0",
            "target_price_per_kg": "7.20",
            "region": "east",
            "delivery_by": "2026-12-31",
        },
    )
    assert rfq.status_code == 201, rfq.text
    assert [r["id"] for r in client.get("/api/v1/market/rfqs", headers=coop).json()] == [
        rfq.json()["id"]
    ]
    listing = client.get("/api/v1/market/listings", headers=coop).json()[0]
    offer = client.post(
        "/api/v1/market/orders",
        headers=coop,
        json={
            "listing_id": listing["id"],
            "rfq_id": rfq.json()["id"],
            "quantity_kg": "500.0",
            "price_per_kg": "7.30",
            "payment_term": "prepayment",
        },
    )
    assert offer.status_code == 201, offer.text
    decided = client.post(
        f"/api/v1/market/orders/{offer.json()['id']}/decision",
        headers=buyer,
        json={"accept": True},
    )
    account = decided.json()["account"]
    # Prepayment: the whole contract value is due on signing.
    assert account["outstanding"] == [{"delivery": 0, "due": today, "amount": "3650.00"}]


def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, as_user: Headers, demo: DemoInfo
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    listing = client.get("/api/v1/market/listings", headers=buyer).json()[0]
    cases: list[tuple[dict[str, Any], str | None]] = [
        ({"quantity_kg": "9999.0", "payment_term": "net_30"}, "quantity_kg"),
        ({"quantity_kg": "1.0", "payment_term": "net_60"}, "payment_term"),
        ({"quantity_kg": "-1", "payment_term": "net_30"}, "quantity_kg"),
        ({"quantity_kg": "1.0", "payment_term": "net_30", "tolerances": {"colour": 1}}, None),
    ]
    for extra, field in cases:
        got = client.post(
            "/api/v1/market/orders", headers=buyer, json={"listing_id": listing["id"], **extra}
        )
        assert got.status_code == 422, (extra, got.text)
        if field:
            assert got.json()["fields"][0]["field"] == field
    lot = demo.trace.lot_id
    listing_body = {
        "lot_id": lot,
        "grade": "gold",
        "quantity_kg": "10.0",
        "price_per_kg": "8.00",
        "region": "east",
        "delivery_from": "2026-12-01",
        "delivery_to": "2026-12-31",
    }
    got = client.post("/api/v1/market/listings", headers=coop, json=listing_body)
    assert got.status_code == 422 and got.json()["fields"][0]["field"] == "grade"
    assert (
        client.post("/api/v1/market/listings", headers=buyer, json=listing_body).status_code == 403
    )


def test_a_listing_takes_no_order_once_its_delivery_window_has_passed(
    client: TestClient, as_user: Headers, demo: DemoInfo, clock: FrozenClock
) -> None:
    buyer = as_user("buyer")
    listing = client.get("/api/v1/market/listings", headers=buyer).json()[0]
    last_day = listing["delivery_to"]
    order = {"listing_id": listing["id"], "quantity_kg": "100.0", "payment_term": "net_30"}

    def offer_on(day: str) -> Any:
        clock.set(datetime.fromisoformat(f"{day}T23:30:00+08:00"))  # late on that day, Beijing
        return client.post("/api/v1/market/orders", headers=as_user("buyer"), json=order)

    assert offer_on(last_day).status_code == 201  # the window's last day still counts
    after = (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()
    refused = offer_on(after)
    assert refused.status_code == 409, refused.text
    assert f"ended on {last_day}" in refused.json()["message"]
    buyer = as_user("buyer")
    assert len(client.get("/api/v1/market/orders", headers=buyer).json()) == 1  # nothing left
    shown = [row["id"] for row in client.get("/api/v1/market/listings", headers=buyer).json()]
    assert listing["id"] not in shown  # no longer offered to buyers
