"""The market's console pages: listings with trace badges in both languages, the order page's
forms, the forecast page over a short simulated history, and the notice for non-traders."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from anxin.core.context import AppContext
from anxin.demo import market
from anxin.demo.seed import DemoInfo
from tests.conftest import console_login
from tests.web.test_every_word import RAW


def test_listings_show_the_trace_badge_in_both_languages(
    client: TestClient, demo: DemoInfo
) -> None:
    console_login(client, "buyer")
    zh = client.get("/market?lang=zh")
    assert zh.status_code == 200 and "农产品交易" in zh.text
    assert 'class="trace-link" href="/01/06970001000016/10/JS2026/21/' in zh.text
    assert 'data-verdict="' in zh.text and "一级" in zh.text
    en = client.get("/market?lang=en")
    assert "Farm trade" in en.text and "First grade" in en.text and "View trace timeline" in en.text


def test_the_order_page_walks_offer_to_dispute(client: TestClient, demo: DemoInfo) -> None:
    console_login(client, "buyer")
    placed = client.post(
        "/market/orders",
        data={
            "listing_id": demo.market.listing_id,
            "quantity_kg": "300",
            "payment_term": "net_30",
            "moisture_tolerance": "0.5",
        },
        follow_redirects=False,
    )
    assert placed.status_code == 303
    order_url = placed.headers["location"]
    bad = client.post(
        "/market/orders",
        data={"listing_id": demo.market.listing_id, "quantity_kg": "x", "payment_term": "net_30"},
    )
    assert bad.status_code == 422 and "quantity_kg" in bad.text

    seller = TestClient(client.app)
    console_login(seller, "coop")
    assert 'id="accept-offer"' in seller.get(order_url).text
    seller.post(f"{order_url}/decision", data={"accept": "yes"})
    seller.post(f"{order_url}/ship", data={"quantity_kg": "300"})
    page = client.get(order_url).text
    assert 'data-status="contracted"' in page and 'class="receive"' in page
    client.post(f"{order_url}/shipments/1/receive")
    sample = {
        "p_moisture_pct": "16.2",  # first grade ≤ 15.0, +0.5 tolerance
        "p_broken_pct": "8",
        "p_impurity_pct": "0.2",
        "lab": "Shanghai grain lab",
        "sample_id": "S-77",
    }
    client.post(f"{order_url}/shipments/1/accept", data=sample)
    page = client.get(order_url).text
    assert 'data-seq="1" data-status="rejected"' in page
    assert 'id="disputes"' in page and "S-77" in page
    assert 'class="propose-form"' in page and 'class="accept-proposal"' not in page


def _between(text: str, start: str, end: str = '"') -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def test_a_dispute_is_negotiated_on_both_sides_pages_and_the_prepayment_refunded(
    client: TestClient, demo: DemoInfo
) -> None:
    console_login(client, "buyer")
    placed = client.post(
        "/market/orders",
        data={"listing_id": demo.market.listing_id, "quantity_kg": "100",
              "payment_term": "prepayment", "moisture_tolerance": "0"},
        follow_redirects=False,
    )  # fmt: skip
    order_url = placed.headers["location"]
    seller = TestClient(client.app)
    console_login(seller, "coop")
    seller.post(f"{order_url}/decision", data={"accept": "yes"})
    page = client.get(order_url).text
    key = _between(page, 'name="idempotency_key" value="')
    paid = {"amount": "760.00", "paid_on": "2026-12-07", "idempotency_key": key}
    assert client.post(f"{order_url}/pay", data=paid, follow_redirects=False).status_code == 303
    client.post(f"{order_url}/pay", data=paid)  # the form sent twice: one payment
    seller.post(f"{order_url}/ship", data={"quantity_kg": "100"})
    client.post(f"{order_url}/shipments/1/receive")
    failed = {"p_moisture_pct": "15.9", "p_broken_pct": "8", "p_impurity_pct": "0.2",
              "lab": "Shanghai grain lab", "sample_id": "S-88"}  # fmt: skip
    client.post(f"{order_url}/shipments/1/accept", data=failed)
    page = client.get(order_url).text
    assert "¥760.00 / ¥760.00" in page
    dispute_id = _between(page, 'data-dispute-id="')
    propose = f"{order_url}/disputes/{dispute_id}/propose"

    # The buyer proposes 20 % off; the cooperative sees it and may accept or reject it.
    asked = client.post(propose, data={"outcome": "reduction", "percent": "20", "note": "wet"})
    assert asked.status_code == 200 and "等待对方回复" in asked.text
    bad = client.post(propose, data={"outcome": "reduction", "percent": "abc"})
    assert bad.status_code == 422 and "percent" in bad.text
    theirs = seller.get(f"{order_url}?lang=en").text
    assert 'class="accept-proposal"' in theirs and "Price reduction" in theirs
    for who in (client, seller):  # every word of the dispute in Chinese too
        assert not RAW.search(who.get(f"{order_url}?lang=zh").text)
    assert client.app.state.console.catalog.unknown == set()
    accept = _between(theirs, '<div class="actions decide-proposal">\n<form method="post" action="')
    done = seller.post(accept, data={"accept": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    page = seller.get(f"{order_url}?lang=en").text
    assert 'data-outcome="reduction"' in page and 'id="refund-due" data-amount="152.00"' in page
    assert 'id="refund-form"' in page and 'class="propose-form"' not in page
    refund = {"amount": "152.00", "paid_on": "2026-12-07",
              "idempotency_key": _between(page, 'name="idempotency_key" value="')}  # fmt: skip
    assert seller.post(f"{order_url}/refund", data=refund).status_code == 200
    page = client.get(f"{order_url}?lang=zh").text
    assert 'data-status="settled"' in page and "已退款 ¥152.00" in page


def _field_error(html: str, field: str) -> str:
    """The words shown under a field of the listing form."""
    found = re.search(
        rf'<span class="field-error" id="err-{field}" data-field="{field}">(.*?)</span>', html
    )
    assert found is not None, f"no error shown under {field}"
    return found.group(1)


def test_a_cooperative_lists_a_traced_lot_and_a_bad_field_is_marked_on_the_form(
    client: TestClient, demo: DemoInfo
) -> None:
    console_login(client, "coop")
    assert 'href="/market/listings/new"' in client.get("/market").text
    form = client.get("/market/listings/new?lang=en")
    assert form.status_code == 200 and "JS2026" in form.text and "List for sale" in form.text
    body = {"lot_id": demo.trace.lot_id, "grade": "first", "quantity_kg": "-5",
            "price_per_kg": "8.10", "region": "east", "delivery_from": "2026-12-10",
            "delivery_to": "2026-12-01"}  # fmt: skip
    bad = client.post("/market/listings?lang=en", data=body)
    assert bad.status_code == 422
    assert 'name="price_per_kg"' in bad.text and 'value="8.10"' in bad.text  # kept as typed
    # The precise reason, in words, under its field: in English for an English reader …
    assert _field_error(bad.text, "quantity_kg") == "Must be greater than 0"
    zh = client.post("/market/listings?lang=zh", data=body)
    # … and in Chinese for a Chinese one, with no English behind a tooltip.
    assert zh.status_code == 422 and _field_error(zh.text, "quantity_kg") == "须大于 0"
    assert "此项填写有误" not in zh.text and not RAW.search(zh.text)
    body.update(quantity_kg="500", price_per_kg="八块")
    assert _field_error(client.post("/market/listings", data=body).text, "price_per_kg") == (
        "请填写数字"
    )
    body["price_per_kg"] = "8.10"
    later = client.post("/market/listings?lang=zh", data=body)  # the service's own check
    assert later.status_code == 422
    assert _field_error(later.text, "delivery_to") == "不能早于最早交货日"
    later_en = client.post("/market/listings?lang=en", data=body)
    assert _field_error(later_en.text, "delivery_to") == (
        "Must not be before the earliest delivery day"
    )
    assert client.get("/market").text.count('class="card listing"') == 1  # nothing created
    body["delivery_to"] = "2026-12-31"
    done = client.post("/market/listings", data=body, follow_redirects=False)
    assert done.status_code == 303
    assert client.get("/market").text.count('class="card listing"') == 2
    buyer = TestClient(client.app)
    console_login(buyer, "buyer")
    assert buyer.get("/market/listings/new").text.count('id="not-trader"') == 1


def test_a_reason_without_a_label_is_said_plainly_in_chinese_and_as_is_in_english(
    client: TestClient, demo: DemoInfo
) -> None:
    """A bare number for a date is the date type's own refusal (a free-text ValueError with no
    code): English readers get its words, Chinese readers a plain "not valid"."""
    console_login(client, "coop")
    body = {"lot_id": demo.trace.lot_id, "grade": "first", "quantity_kg": "500",
            "price_per_kg": "8.10", "region": "east", "delivery_from": "0",
            "delivery_to": "2026-12-31"}  # fmt: skip
    en = client.post("/market/listings?lang=en", data=body)
    assert en.status_code == 422
    assert _field_error(en.text, "delivery_from") == "Value error, a date like 2026-11-28"
    zh = client.post("/market/listings?lang=zh", data=body)
    assert _field_error(zh.text, "delivery_from") == "此项填写有误"


def test_forecast_page_shows_history_forecast_intervals_and_backtest(
    client: TestClient, demo: DemoInfo, context: AppContext
) -> None:
    with context.unit(actor="test") as uow:
        assert market.history(uow, demo.market, weeks=40) == 80
    console_login(client, "coop")
    page = client.get("/market/forecasts?lang=en")
    assert page.status_code == 200
    for key in ("demand:rice:east", "demand:rice:north", "supply:rice"):
        assert f'data-key="{key}"' in page.text
    assert page.text.count('data-chart="') == 3
    assert page.text.count('<tr data-model="SeasonalNaive"') == 3
    assert "MASE" in page.text and "sMAPE" in page.text
    assert "Price band" in page.text and "Production suggestion" in page.text
    assert "/static/vendor/echarts/echarts.min.js" in page.text


def test_an_administrator_without_farms_gets_a_notice_not_a_refusal(
    client: TestClient, demo: DemoInfo
) -> None:
    console_login(client, "admin")
    for path in ("/market", "/market/orders", "/market/forecasts"):
        got = client.get(path)
        assert got.status_code == 200 and 'id="not-trader"' in got.text


def test_a_request_for_quotes_is_answered_on_the_page_and_accepted_by_the_buyer(
    client: TestClient, demo: DemoInfo
) -> None:
    console_login(client, "buyer")
    asked = client.post(
        "/market/rfqs",
        data={
            "crop": "rice",
            "grade": "first",
            "quantity_kg": "250",
            "target_price_per_kg": "7.20",
            "region": "east",
            "delivery_by": "2026-12-31",
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303
    seller = TestClient(client.app)
    console_login(seller, "coop")
    page = seller.get("/market").text
    rfq_id = page.split('data-rfq-id="', 1)[1].split('"', 1)[0]
    assert 'class="offer-form"' in page
    offered = seller.post(
        f"/market/rfqs/{rfq_id}/offer",
        data={
            "listing_id": demo.market.listing_id,
            "quantity_kg": "250",
            "price_per_kg": "7.30",
            "payment_term": "net_30",
        },
        follow_redirects=False,
    )
    assert offered.status_code == 303
    order_url = offered.headers["location"]
    assert 'id="accept-offer"' not in seller.get(order_url).text  # the buyer decides
    assert 'id="accept-offer"' in client.get(order_url).text
    client.post(f"{order_url}/decision", data={"accept": "yes"})
    assert 'data-status="contracted"' in client.get(order_url).text
    listing = client.get("/market?lang=en").text
    assert "Quote accepted" in listing and 'class="inline withdraw-rfq"' not in listing


def test_the_buyer_withdraws_a_request_on_the_page(client: TestClient, demo: DemoInfo) -> None:
    console_login(client, "buyer")
    client.post(
        "/market/rfqs",
        data={"crop": "rice", "grade": "first", "quantity_kg": "80", "region": "east",
              "delivery_by": "2026-12-31", "quotes_by": "2026-12-20"},
    )  # fmt: skip
    page = client.get("/market").text
    rfq_id = _between(page, 'data-rfq-id="')
    assert "2026-12-20" in page and 'class="inline withdraw-rfq"' in page
    gone = client.post(f"/market/rfqs/{rfq_id}/withdraw", follow_redirects=False)
    assert gone.status_code == 303
    assert "已撤回" in client.get("/market?lang=zh").text
