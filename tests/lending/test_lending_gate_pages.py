"""The gates and the loan in the console: the officer takes an approved application through
disclosure, recording, QC, callback and payout with the page's forms; the borrower reads and
acknowledges the key facts on the mobile page, sees the schedule, pays and complains; every
word in Chinese and English."""

from __future__ import annotations

import re
from datetime import timedelta

from anxin.lending.product import PRODUCT
from tests.lending.flow import MP4, Flow


def _as(client, username: str) -> None:
    client.cookies.clear()
    r = client.post(
        "/login",
        data={"username": username, "password": f"{username}-password"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def _form(client, url: str, **kw):
    r = client.post(url, follow_redirects=False, **kw)
    assert r.status_code == 303, r.text[:500]
    return r


def test_the_gates_through_the_console_pages_in_both_languages(client, bank, clock, app):
    flow = Flow(client, bank, clock).to("approved")
    page = f"/lending/applications/{flow.id}"
    catalog = app.state.console.catalog

    _as(client, "officer")
    _form(client, f"{page}/disclose")
    assert 'data-stage="disclosed"' in client.get(page).text

    _as(client, "chen")
    mine = client.get("/lending/my?lang=en")
    assert mine.status_code == 200 and 'id="annualised-rate"' in mine.text
    assert "Principal and interest per instalment" in mine.text
    sha = re.search(r'name="facts_sha256" value="([0-9a-f]{64})"', mine.text)[1]
    _form(client, f"/lending/my/{flow.id}/acknowledge", data={"facts_sha256": sha})
    assert 'id="acknowledged"' in client.get("/lending/my").text

    _as(client, "officer")
    seconds = {f"at_{s}": str(5 * n) for n, s in enumerate(PRODUCT.recording_statements)}
    files = {"file": ("talk.mp4", MP4, "video/mp4")}
    _form(client, f"{page}/recordings", data=seconds, files=files)
    html = client.get(page).text
    rid = re.search(r'data-recording="([^"]+)" data-qc="pending"', html)[1]
    assert "qc-approve" not in html  # the uploader does not check their own recording

    _as(client, "risk")
    _form(client, f"{page}/recordings/{rid}/review", data={"approve": "true"})
    assert 'data-stage="cooling_off"' in client.get(page).text

    flow.advance(timedelta(days=PRODUCT.cooling_off_days))
    _as(client, "officer")
    _form(client, f"{page}/callback")
    answers = {"q_applied_self": "yes", "q_understood_cost": "yes", "q_no_fees_paid": "no"}
    _form(
        client,
        f"{page}/callback/record",
        data={"reached": "true", **answers, "q_wants_loan": "yes"},
    )
    html = client.get(page).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)[1]
    _form(client, f"{page}/disburse", data={"idempotency_key": key})
    _form(client, f"{page}/disburse", data={"idempotency_key": key})  # a double click
    html = client.get(page).text
    assert 'data-stage="active"' in html and 'data-line="12"' in html

    _as(client, "chen")
    for lang in ("zh", "en"):
        mine = client.get(f"/lending/my?lang={lang}")
        assert mine.status_code == 200 and 'data-line="12"' in mine.text
    body = {"category": "service", "text": "The branch kept me waiting an hour"}
    _form(client, f"/lending/my/{flow.id}/complaints", data=body)
    assert "kept me waiting" in client.get("/lending/my").text

    _as(client, "risk")
    for lang in ("zh", "en"):
        for path in (page, "/lending/portfolio", "/lending"):
            assert client.get(f"{path}?lang={lang}").status_code == 200
    assert 'data-bucket="current"' in client.get("/lending/portfolio").text
    assert not {k for k in catalog.unknown if k.startswith(("lending", "gate", "line", "qc"))}


def test_a_gate_skipped_in_the_console_is_an_error_page_and_others_see_nothing(client, bank, clock):
    flow = Flow(client, bank, clock).to("disclosed")
    page = f"/lending/applications/{flow.id}"
    _as(client, "officer")
    r = client.post(f"{page}/callback", follow_redirects=False)
    assert r.status_code == 409 and "<html" in r.text
    r = client.post(f"{page}/disburse", data={"idempotency_key": "x" * 12})
    assert r.status_code == 409
    _as(client, "stranger")
    assert client.get(page).status_code == 404
    assert client.get("/lending/my").status_code == 404
    _as(client, "chen")
    assert client.get(page).status_code == 404
    # Before acknowledging, the borrower may cancel free of charge.
    _form(client, f"/lending/my/{flow.id}/cancel", data={"reason": "found a cheaper loan"})
    assert 'data-stage="cancelled"' in client.get("/lending/my").text


def test_prepayment_and_a_four_eyes_rescheduling_on_the_officers_loan_page(client, loan, app):
    page = f"/lending/applications/{loan.id}"
    catalog = app.state.console.catalog
    _as(client, "officer")
    html = client.get(page).text
    payoff = re.search(r'id="payoff" data-amount="([0-9.]+)"', html)[1]
    assert payoff == loan.loan["principal"]  # paid out today: nothing accrued yet
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html)[1]
    body = {"amount": "100000.00", "effect": "lower_instalment", "idempotency_key": key}
    _form(client, f"{page}/prepay", data=body)
    _form(client, f"{page}/prepay", data=body)  # a double click prepays once
    html = client.get(page).text
    assert 'id="schedule-version">2<' in html and html.count('data-change="prepayment"') == 1
    r = client.post(f"{page}/prepay", data={**body, "amount": "lots", "idempotency_key": "k" * 9})
    assert r.status_code == 422 and "<html" in r.text

    _as(client, "chen")
    mine = client.get("/lending/my").text
    assert 'data-line="13"' in mine  # the prepayment line, then the twelve lower instalments

    _as(client, "officer")
    reason = "the market hall burned down in November"
    data = {"annual_rate_percent": "5", "periods": "18", "grace": "2", "reason": reason}
    _form(client, f"{page}/reschedule", data=data)
    html = client.get(page).text
    assert 'id="pending-change"' in html and 'id="approve-change"' not in html
    _as(client, "risk")
    html = client.get(page).text
    change = re.search(r"/reschedules/([^/]+)/decide", html)[1]
    _form(client, f"{page}/reschedules/{change}/decide", data={"approve": "true"})
    for lang in ("zh", "en"):
        html = client.get(f"{page}?lang={lang}").text
        assert 'id="schedule-version">3<' in html and 'data-status="applied"' in html
    assert 'data-line="19"' in html
    assert not {k for k in catalog.unknown if k.startswith(("lending", "effect", "change"))}
