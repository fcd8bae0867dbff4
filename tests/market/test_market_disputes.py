"""Resolving disputes, refunds, idempotent payments and the closing of requests for quotes,
through the API as the buyer and the cooperative."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.workers import UnitSweeper
from anxin.demo.seed import DemoInfo
from anxin.market import service
from anxin.market.service import CST
from anxin.market.setup import setup
from tests.market.test_market_api import FAIL, PASS, _contract, _other_buyer, _sample

Headers = Callable[[str], dict[str, str]]
API = "/api/v1/market"


def _failed_delivery(
    client: TestClient, buyer: dict[str, str], coop: dict[str, str], term: str
) -> tuple[str, str]:
    """A 1,000 kg contract at ¥7.60 shipped as 400 kg (accepted) and 600 kg (failed): the
    order's id and the open dispute's."""
    order_id = _contract(client, buyer, coop, term)
    base = f"{API}/orders/{order_id}"
    for kg in ("400.0", "600.0"):
        assert client.post(f"{base}/shipments", headers=coop, json={"quantity_kg": kg}).is_success
    for seq, values in ((1, PASS), (2, FAIL)):
        assert client.post(f"{base}/shipments/{seq}/receipt", headers=buyer).is_success
        got = client.post(
            f"{base}/shipments/{seq}/acceptance", headers=buyer, json=_sample(values, f"S{seq}")
        )
        assert got.is_success, got.text
    (dispute,) = client.get(base, headers=buyer).json()["disputes"]
    return order_id, str(dispute["id"])


def _money(amount: str, today: str, key: str) -> dict[str, Any]:
    return {"amount": amount, "paid_on": today, "idempotency_key": key}


def test_a_prepaid_order_reduced_by_a_dispute_is_refunded_and_settles(
    client: TestClient, as_user: Headers, demo: DemoInfo, clock: FrozenClock
) -> None:
    today = clock.now().astimezone(CST).date().isoformat()
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id = _contract(client, buyer, coop, "prepayment")
    base = f"{API}/orders/{order_id}"
    prepaid = _money("7600.00", today, "prepay-0001")
    first = client.post(f"{base}/payments", headers=buyer, json=prepaid)
    assert first.status_code == 201, first.text
    # The same key again is the same payment; the same key for another amount is refused.
    again = client.post(f"{base}/payments", headers=buyer, json=prepaid)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    other = _money("1.00", today, "prepay-0001")
    assert client.post(f"{base}/payments", headers=buyer, json=other).status_code == 409
    assert len(client.get(f"{base}/payments", headers=buyer).json()) == 1

    for kg in ("400.0", "600.0"):
        client.post(f"{base}/shipments", headers=coop, json={"quantity_kg": kg})
    for seq, values in ((1, PASS), (2, FAIL)):
        client.post(f"{base}/shipments/{seq}/receipt", headers=buyer)
        client.post(
            f"{base}/shipments/{seq}/acceptance", headers=buyer, json=_sample(values, f"P{seq}")
        )
    order = client.get(base, headers=buyer).json()
    assert order["status"] == "contracted"  # paid in full, but the dispute is open
    dispute_id = order["disputes"][0]["id"]
    proposals = f"{base}/disputes/{dispute_id}/proposals"

    # The buyer asks ¥600 off; the cooperative rejects and counters with ¥456 (10 %).
    ask = client.post(proposals, headers=buyer, json={"outcome": "reduction", "amount": "600"})
    assert ask.status_code == 201, ask.text
    own = client.post(
        f"{proposals}/{ask.json()['id']}/decision", headers=buyer, json={"accept": True}
    )
    assert own.status_code == 403  # the other side decides
    no = client.post(
        f"{proposals}/{ask.json()['id']}/decision", headers=coop, json={"accept": False}
    )
    assert no.status_code == 200 and no.json()["disputes"][0]["status"] == "open"
    counter = client.post(
        proposals, headers=coop, json={"outcome": "reduction", "amount": "456.00", "note": "10 %"}
    )
    agreed = client.post(
        f"{proposals}/{counter.json()['id']}/decision", headers=buyer, json={"accept": True}
    )
    assert agreed.status_code == 200, agreed.text
    body = agreed.json()
    (dispute,) = body["disputes"]
    assert dispute["status"] == "resolved" and dispute["outcome"] == "reduction"
    assert dispute["adjustment"] == "456.00" and dispute["evidence"]["sample"]["sample_id"] == "P2"
    assert [p["status"] for p in dispute["proposals"]] == ["rejected", "accepted"]
    # ¥7,144.00 is owed now; the buyer paid ¥7,600.00: the cooperative owes back ¥456.00.
    assert body["account"]["charged"] == "7144.00" and body["account"]["credit"] == "456.00"
    assert body["status"] == "contracted"

    # Only the seller refunds, at most what is owed back, once per key.
    assert (
        client.post(
            f"{base}/refunds", headers=buyer, json=_money("456.00", today, "refund-01")
        ).status_code
        == 403
    )
    over = client.post(f"{base}/refunds", headers=coop, json=_money("456.01", today, "refund-01"))
    assert over.status_code == 422 and over.json()["fields"][0]["field"] == "amount"
    refund = _money("456.00", today, "refund-02")
    done = client.post(f"{base}/refunds", headers=coop, json=refund)
    assert done.status_code == 201 and done.json()["kind"] == "refund", done.text
    assert (
        client.post(f"{base}/refunds", headers=coop, json=refund).json()["id"] == done.json()["id"]
    )
    settled = client.get(base, headers=coop).json()
    assert settled["status"] == "settled"
    assert settled["account"] == {
        "charged": "7144.00",
        "paid": "7600.00",
        "outstanding": [],
        "credit": "0.00",
        "refunded": "456.00",
    }
    alarms = client.get("/api/v1/alarms", headers=coop).json()
    assert [a["cleared"] for a in alarms if a["alarm_type"] == "market_dispute"] == [True]


def test_a_return_is_an_epcis_event_and_the_delivery_is_owed_for_what_is_kept(
    client: TestClient, as_user: Headers, demo: DemoInfo, clock: FrozenClock
) -> None:
    today = clock.now().astimezone(CST).date().isoformat()
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id, dispute_id = _failed_delivery(client, buyer, coop, "on_delivery")
    proposals = f"{API}/orders/{order_id}/disputes/{dispute_id}/proposals"
    back = client.post(proposals, headers=buyer, json={"outcome": "return", "return_kg": "250.0"})
    assert back.status_code == 201 and back.json()["adjustment"] == "1900.00", back.text
    agreed = client.post(
        f"{proposals}/{back.json()['id']}/decision", headers=coop, json={"accept": True}
    ).json()
    dispute = agreed["disputes"][0]
    assert dispute["outcome"] == "return" and dispute["return_kg"] == "250.0"
    # The 400 kg accepted, and 350 kg of the failed 600 kept: 3,040 + 2,660.
    assert [c["amount"] for c in agreed["account"]["outstanding"]] == ["3040.00", "2660.00"]
    returned = client.get(
        "/epcis/events",
        headers=coop,
        params={"EQ_bizStep": "shipping", "EQ_disposition": "returned"},
    ).json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    (event,) = returned
    assert event["quantityList"][0]["quantity"] == 250.0
    assert dispute["return_event_id"]
    paid = client.post(
        f"{API}/orders/{order_id}/payments",
        headers=buyer,
        json=_money("5700.00", today, "pay-all-1"),
    )
    assert paid.status_code == 201, paid.text
    assert client.get(f"{API}/orders/{order_id}", headers=buyer).json()["status"] == "settled"


def test_a_withdrawn_claim_owes_the_delivery_in_full_a_week_later_on_net_30(
    client: TestClient, as_user: Headers, demo: DemoInfo, clock: FrozenClock
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id, dispute_id = _failed_delivery(client, buyer, coop, "net_30")
    clock.advance(timedelta(days=7))
    buyer, coop = as_user("buyer"), as_user("coop")  # a week on: fresh logins
    resolved_on = clock.now().astimezone(CST).date()
    proposals = f"{API}/orders/{order_id}/disputes/{dispute_id}/proposals"
    # The cooperative asks the buyer to drop the claim; the buyer agrees.
    drop = client.post(proposals, headers=coop, json={"outcome": "withdrawn"})
    agreed = client.post(
        f"{proposals}/{drop.json()['id']}/decision", headers=buyer, json={"accept": True}
    ).json()
    second = agreed["account"]["outstanding"][-1]
    assert second == {
        "delivery": 2,
        "due": (resolved_on + timedelta(days=30)).isoformat(),
        "amount": "4560.00",
    }
    again = client.post(proposals, headers=buyer, json={"outcome": "withdrawn"})
    assert again.status_code == 409  # resolved: nothing more to propose


def test_a_counter_proposal_supersedes_the_waiting_one(
    client: TestClient, as_user: Headers, demo: DemoInfo
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id, dispute_id = _failed_delivery(client, buyer, coop, "on_delivery")
    proposals = f"{API}/orders/{order_id}/disputes/{dispute_id}/proposals"
    first = client.post(proposals, headers=buyer, json={"outcome": "reduction", "percent": "30"})
    assert first.json()["adjustment"] == "1368.00"
    counter = client.post(proposals, headers=coop, json={"outcome": "reduction", "percent": "12.5"})
    assert counter.json()["adjustment"] == "570.00"
    late = client.post(
        f"{proposals}/{first.json()['id']}/decision", headers=coop, json={"accept": True}
    )
    assert late.status_code == 409  # superseded by the counter-offer
    order = client.get(f"{API}/orders/{order_id}", headers=buyer).json()
    statuses = [p["status"] for p in order["disputes"][0]["proposals"]]
    assert statuses == ["superseded", "pending"]


def test_a_proposal_that_does_not_fit_its_outcome_is_a_422_naming_the_field(
    client: TestClient, as_user: Headers, demo: DemoInfo
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id, dispute_id = _failed_delivery(client, buyer, coop, "on_delivery")
    proposals = f"{API}/orders/{order_id}/disputes/{dispute_id}/proposals"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"outcome": "reduction"}, "amount"),
        ({"outcome": "reduction", "amount": "10", "percent": "5"}, "amount"),
        ({"outcome": "reduction", "amount": "4560.01"}, "amount"),
        ({"outcome": "reduction", "percent": "100.01"}, "percent"),
        ({"outcome": "reduction", "percent": "5", "return_kg": "1.0"}, "return_kg"),
        ({"outcome": "return"}, "return_kg"),
        ({"outcome": "return", "return_kg": "600.1"}, "return_kg"),
        ({"outcome": "return", "return_kg": "10.0", "amount": "1"}, "amount"),
        ({"outcome": "withdrawn", "percent": "5"}, "percent"),
        ({"outcome": "refund"}, "outcome"),
    ]
    for body, field in cases:
        got = client.post(proposals, headers=buyer, json=body)
        assert got.status_code == 422, (body, got.text)
        assert got.json()["fields"][0]["field"].endswith(field), (body, got.json())


def test_only_the_orders_two_sides_reach_its_dispute_and_its_money(
    client: TestClient, as_user: Headers, demo: DemoInfo, context: AppContext, clock: FrozenClock
) -> None:
    today = clock.now().astimezone(CST).date().isoformat()
    buyer, coop = as_user("buyer"), as_user("coop")
    order_id, dispute_id = _failed_delivery(client, buyer, coop, "on_delivery")
    base = f"{API}/orders/{order_id}"
    other = _other_buyer(client, context)
    proposals = f"{base}/disputes/{dispute_id}/proposals"
    assert client.post(proposals, headers=other, json={"outcome": "withdrawn"}).status_code == 404
    assert client.get(f"{base}/payments", headers=other).status_code == 404
    money = _money("1.00", today, "someone-else")
    assert client.post(f"{base}/payments", headers=other, json=money).status_code == 404
    assert client.post(f"{base}/refunds", headers=as_user("farmer"), json=money).status_code == 403
    # A dispute of another order is not this order's.
    other_order = _contract(client, buyer, coop, "net_30")
    wrong = client.post(
        f"{API}/orders/{other_order}/disputes/{dispute_id}/proposals",
        headers=buyer,
        json={"outcome": "withdrawn"},
    )
    assert wrong.status_code == 404
    # The cooperative owes nothing back on an order not overpaid.
    assert client.post(f"{base}/refunds", headers=coop, json=money).status_code == 422


def _rfq(client: TestClient, buyer: dict[str, str], **extra: str) -> str:
    body = {
        "crop": "rice",
        "grade": "first",
        "quantity_kg": "300.0",
        "region": "east",
        "delivery_by": "2026-12-31",
        **extra,
    }
    got = client.post(f"{API}/rfqs", headers=buyer, json=body)
    assert got.status_code == 201, got.text
    return str(got.json()["id"])


def _quote(client: TestClient, coop: dict[str, str], rfq_id: str, price: str) -> str:
    listing = client.get(f"{API}/listings", headers=coop).json()[0]
    got = client.post(
        f"{API}/orders",
        headers=coop,
        json={
            "listing_id": listing["id"],
            "rfq_id": rfq_id,
            "quantity_kg": "300.0",
            "price_per_kg": price,
            "payment_term": "net_30",
        },
    )
    assert got.status_code == 201, got.text
    return str(got.json()["id"])


def test_accepting_a_quote_closes_the_request_and_declines_the_others(
    client: TestClient, as_user: Headers, demo: DemoInfo
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    rfq_id = _rfq(client, buyer)
    dear, cheap = _quote(client, coop, rfq_id, "7.50"), _quote(client, coop, rfq_id, "7.30")
    signed = client.post(f"{API}/orders/{cheap}/decision", headers=buyer, json={"accept": True})
    assert signed.json()["status"] == "contracted"
    rfq = client.get(f"{API}/rfqs/{rfq_id}", headers=buyer).json()
    assert rfq["status"] == "closed" and rfq["closed_reason"] == "accepted"
    assert client.get(f"{API}/orders/{dear}", headers=buyer).json()["status"] == "rejected"
    # Closed: no more quotes, and the cooperative no longer sees it.
    assert client.get(f"{API}/rfqs", headers=coop).json() == []
    late = client.post(f"{API}/rfqs/{rfq_id}/withdrawal", headers=buyer)
    assert late.status_code == 409


def test_the_buyer_withdraws_a_request_and_its_waiting_quotes_are_declined(
    client: TestClient, as_user: Headers, demo: DemoInfo
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    rfq_id = _rfq(client, buyer)
    quote = _quote(client, coop, rfq_id, "7.40")
    assert client.post(f"{API}/rfqs/{rfq_id}/withdrawal", headers=coop).status_code == 403
    done = client.post(f"{API}/rfqs/{rfq_id}/withdrawal", headers=buyer)
    assert done.status_code == 200 and done.json()["closed_reason"] == "withdrawn"
    assert client.get(f"{API}/orders/{quote}", headers=coop).json()["status"] == "rejected"
    accept = client.post(f"{API}/orders/{quote}/decision", headers=buyer, json={"accept": True})
    assert accept.status_code == 409


def test_requests_close_at_their_quote_deadline_by_the_sweep(
    client: TestClient, as_user: Headers, demo: DemoInfo, context: AppContext, clock: FrozenClock
) -> None:
    buyer, coop = as_user("buyer"), as_user("coop")
    today = clock.now().astimezone(CST).date()
    soon = _rfq(client, buyer, quotes_by=(today + timedelta(days=2)).isoformat())
    later = _rfq(client, buyer, quotes_by=(today + timedelta(days=9)).isoformat())
    quote = _quote(client, coop, soon, "7.40")
    bad = {"quotes_by": "2027-01-05"}  # after the delivery day
    got = client.post(
        f"{API}/rfqs",
        headers=buyer,
        json={"crop": "rice", "grade": "first", "quantity_kg": "1.0", "region": "east",
              "delivery_by": "2026-12-31", **bad},
    )  # fmt: skip
    assert got.status_code == 422 and got.json()["fields"][0]["field"] == "quotes_by"

    clock.advance(timedelta(days=2))  # the last day for quotes: still open
    with context.unit(actor="test:sweep") as uow:
        assert service.sweep_expired_rfqs(uow=uow, now=uow.now()) == 0
    clock.advance(timedelta(days=1))
    with context.unit(actor="test:sweep") as uow:
        assert service.sweep_expired_rfqs(uow=uow, now=uow.now()) == 1
    with context.unit(actor="test:sweep") as uow:
        assert service.sweep_expired_rfqs(uow=uow, now=uow.now()) == 0  # nothing twice
    buyer = as_user("buyer")  # days on: a fresh login
    expired = client.get(f"{API}/rfqs/{soon}", headers=buyer).json()
    assert expired["status"] == "closed" and expired["closed_reason"] == "expired"
    assert client.get(f"{API}/rfqs/{later}", headers=buyer).json()["status"] == "open"
    assert client.get(f"{API}/orders/{quote}", headers=buyer).json()["status"] == "rejected"


def test_the_market_registers_its_deadline_sweep_and_a_tick_sweeps(
    client: TestClient, as_user: Headers, demo: DemoInfo, context: AppContext, clock: FrozenClock
) -> None:
    (factory,) = setup().workers
    sweeper = factory(context)
    assert isinstance(sweeper, UnitSweeper) and sweeper.name == "anxin-market-rfq-deadlines"
    today = clock.now().astimezone(CST).date()
    rfq_id = _rfq(client, as_user("buyer"), quotes_by=today.isoformat())
    clock.advance(timedelta(days=1))
    assert sweeper.tick() == 1
    closed = client.get(f"{API}/rfqs/{rfq_id}", headers=as_user("buyer")).json()  # logs in anew
    assert closed["closed_reason"] == "expired"
