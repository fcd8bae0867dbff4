"""The lessor's contract list and contract page (schedule chart, both sides' accounts, the
machines) and the lessee's statement with its buy-out quote, in Chinese and English; every
label known to the catalogue; another lessor gets a 404 page."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tests.conftest import device_headers, login
from tests.leasing.test_leasing_api import BASE
from tests.leasing.test_watch import _active_lease


def _console_login(client, username: str) -> None:
    client.cookies.clear()
    r = client.post(
        "/login",
        data={"username": username, "password": f"{username}-password"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_lessor_and_lessee_pages(client, context, app, clock):
    lease, lessor = _active_lease(client, context)
    cid = lease["id"]
    first = client.get(f"{BASE}/contracts/{cid}/schedule", headers=lessor).json()[0]
    clock.set(datetime.combine(date.fromisoformat(first["due"]), time(2), tzinfo=UTC))
    lessor = login(client, "lessor", "lessor-password").headers  # the clock moved
    client.post(
        f"{BASE}/contracts/{cid}/rents",
        json={"paid_on": first["due"], "amount": first["total"]},
        headers=lessor,
    )
    tracker = client.post(
        f"{BASE}/contracts/{cid}/assets/{lease['assets'][0]['id']}/tracker",
        json={"name": "lathe tracker"},
        headers=lessor,
    ).json()
    reading = {"message_id": "r-1", "ts": clock.now().isoformat(),
               "values": {"running_hours": 12.5, "lat": 31.81, "lon": 119.97}}  # fmt: skip
    sent = client.post(
        "/api/v1/telemetry",
        content=json.dumps(reading).encode(),
        headers=device_headers(tracker["token"]),
    )
    assert sent.status_code == 200, sent.text
    catalog = app.state.console.catalog

    _console_login(client, "lessor")
    listing = client.get("/leasing")
    assert listing.status_code == 200 and f'data-contract-id="{cid}"' in listing.text
    assert "租赁合同" in listing.text and "1 / 12" in listing.text
    assert f'data-contract-id="{cid}"' not in client.get("/leasing?stage=quote").text
    for lang, words in {
        "zh": ["未实现融资收益", "使用权资产"],
        "en": ["Unearned finance income"],
    }.items():
        page = client.get(f"/leasing/contracts/{cid}?lang={lang}")
        assert page.status_code == 200
        assert all(w in page.text for w in words)
        assert 'class="schedule-chart"' in page.text and "SN-0" in page.text
        assert page.text.count("<rect") == 24  # principal and interest per rent
        assert "12.5" in page.text and 'class="on-site"' in page.text
    assert not {k for k in catalog.unknown if k.startswith("leasing")}

    _console_login(client, "factory")
    statement = client.get("/leasing/statement?lang=en")
    assert statement.status_code == 200 and "Early buy-out quote" in statement.text
    quote = client.get(
        f"{BASE}/contracts/{cid}/buyout",
        headers=login(client, "factory", "factory-password").headers,
    ).json()
    _console_login(client, "factory")
    assert f"{float(quote['total']):,.2f}" in client.get("/leasing/statement").text
    assert client.get("/leasing").status_code == 404  # the lessor's list is not the lessee's

    _console_login(client, "stranger")
    assert client.get(f"/leasing/contracts/{cid}").status_code == 404
    assert cid not in client.get("/leasing").text
    assert cid not in client.get("/leasing/statement").text


def test_a_part_payment_on_the_page_and_the_penalty_on_the_statement(
    client: Any, context: Any, clock: Any
) -> None:
    lease, lessor = _active_lease(client, context)
    cid = lease["id"]
    first = client.get(f"{BASE}/contracts/{cid}/schedule", headers=lessor).json()[0]
    due = date.fromisoformat(first["due"])
    clock.set(datetime.combine(due, time(2), tzinfo=UTC) + timedelta(days=30))
    _console_login(client, "lessor")
    bad = client.post(
        f"/leasing/contracts/{cid}/payment", data={"amount": "abc", "paid_on": "2027-01-31"}
    )
    assert bad.status_code == 422 and "amount" in bad.text
    late = client.post(
        f"/leasing/contracts/{cid}/payment",
        data={"amount": "1000.00", "paid_on": (due + timedelta(days=10)).isoformat()},
        follow_redirects=False,
    )
    assert late.status_code == 303, late.text
    page = client.get(f"/leasing/contracts/{cid}?lang=en")
    assert "part paid" in page.text and 'id="penalty-owed"' in page.text
    _console_login(client, "factory")
    statement = client.get("/leasing/statement?lang=en").text
    assert "Penalty interest owed" in statement and "1,000.00" in statement
