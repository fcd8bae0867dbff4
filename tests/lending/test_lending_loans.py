"""A disbursed loan through the API: repayments allocated in the product's order (API and a bank
CSV file, idempotent by reference), statements, ageing into DPD buckets, reminders through the
alarm engine to the borrower, collection notes, a ledger-anchored write-off and complaints with
their SLA."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from anxin.alerts.models import Notification
from anxin.ledger.models import LedgerEntry
from anxin.lending.models import Borrower
from tests.lending.test_lending_applications import BASE


def _pay(flow, amount, on, reference):
    body = {"amount": amount, "received_on": str(on), "reference": reference}
    return flow.post("officer", "/loan/repayments", json=body)


def test_a_repayment_goes_to_interest_before_principal_and_is_idempotent(loan):
    statement = loan.ok(loan.get("officer", "/loan/statement"))
    first = statement["lines"][0]
    start = date.fromisoformat(loan.loan["start"])
    # Part of the first instalment: interest first, then principal.
    part = Decimal(first["interest"]) + Decimal("100.00")
    paid = loan.ok(_pay(loan, str(part), start, "BANK-1"), 201)
    assert [(a["instalment"], a["component"], a["amount"]) for a in paid["allocation"]] == [
        (1, "interest", first["interest"]),
        (1, "principal", "100.00"),
    ]
    assert paid["unapplied"] == "0.00"
    # The same reference is the same repayment; a different amount under it is refused.
    again = loan.ok(_pay(loan, str(part), start, "BANK-1"), 201)
    assert again["id"] == paid["id"]
    assert _pay(loan, "5.00", start, "BANK-1").status_code == 409
    after = loan.ok(loan.get("borrower", "/loan/statement"))
    assert Decimal(after["outstanding"]) == Decimal(statement["outstanding"]) - part
    assert after["lines"][0]["paid"] == str(part)


def test_bad_repayments_are_422_naming_the_field(loan):
    start = date.fromisoformat(loan.loan["start"])
    future = _pay(loan, "10.00", start + timedelta(days=1), "F")
    assert future.status_code == 422 and future.json()["fields"][0]["field"] == "received_on"
    before = _pay(loan, "10.00", start - timedelta(days=1), "B")
    assert before.status_code == 422
    zero = _pay(loan, "0", start, "Z")
    assert zero.status_code == 422 and zero.json()["fields"][0]["field"].endswith("amount")
    assert loan.post("stranger", "/loan/repayments", json={}).status_code in (404, 422)
    body = {"amount": "1.00", "received_on": str(start), "reference": "X"}
    assert loan.post("stranger", "/loan/repayments", json=body).status_code == 404
    assert loan.post("borrower", "/loan/repayments", json=body).status_code == 403


def test_paying_everything_closes_the_loan_and_an_overpayment_is_unapplied(loan):
    statement = loan.ok(loan.get("officer", "/loan/statement"))
    start = date.fromisoformat(loan.loan["start"])
    total = Decimal(statement["outstanding"]) + Decimal("12.34")
    paid = loan.ok(_pay(loan, str(total), start, "PAYOFF"), 201)
    assert paid["unapplied"] == "12.34"
    assert loan.ok(loan.get("officer", "/loan"))["status"] == "closed"
    assert loan.ok(loan.get("officer"))["stage"] == "closed"
    assert _pay(loan, "1.00", start, "LATE").status_code == 409


def test_a_bank_file_keeps_good_rows_reports_bad_ones_and_reimports_idempotently(loan, client):
    start = loan.loan["start"]
    rows = [
        "loan_id,reference,amount,received_on",
        f"{loan.loan['id']},R1,1000.00,{start}",
        f"no-such-loan,R2,10.00,{start}",
        f"{loan.loan['id']},R3,ten,{start}",
        f"{loan.loan['id']},R4,20.00,2020-13-01",
        f"{loan.loan['id']},R5,500.00,{start}",
    ]
    content = ("\n".join(rows) + "\n").encode()
    url = f"{BASE}/repayments/import"
    files = {"file": ("bank.csv", content, "text/csv")}
    report = loan.ok(client.post(url, headers=loan.bank["officer"], files=files))
    assert (report["imported"], report["duplicates"]) == (2, 0)
    assert [(r["line"], r["field"]) for r in report["rejected"]] == [
        (3, "loan_id"),
        (4, "amount"),
        (5, "received_on"),
    ]
    again = loan.ok(client.post(url, headers=loan.bank["officer"], files=files))
    assert (again["imported"], again["duplicates"], len(again["rejected"])) == (0, 2, 3)
    statement = loan.ok(loan.get("officer", "/loan/statement"))
    assert statement["paid"] == "1500.00"
    assert sorted(r["reference"] for r in statement["repayments"]) == ["R1", "R5"]
    # Another bank's officer cannot post to this loan through a file.
    theirs = loan.ok(client.post(url, headers=loan.bank["stranger"], files=files))
    assert theirs["imported"] == 0 and len(theirs["rejected"]) == 5
    missing = client.post(
        url, headers=loan.bank["officer"], files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert missing.status_code == 422 and "loan_id" in missing.json()["fields"][0]["reason"]


def test_reminders_before_due_and_overdue_reach_the_borrower(loan, db):
    lines = loan.ok(loan.get("officer", "/loan/statement"))["lines"]
    due = date.fromisoformat(lines[0]["due"])
    today = date.fromisoformat(loan.loan["start"])
    loan.advance(timedelta(days=(due - today).days - 2))
    run = loan.ok(loan.client.post(f"{BASE}/reminders/run", headers=loan.bank["officer"]))
    assert run == {"before_due": 1, "overdue": 0}
    assert loan.ok(loan.client.post(f"{BASE}/reminders/run", headers=loan.bank["officer"])) == {
        "before_due": 0,
        "overdue": 0,
    }
    loan.advance(timedelta(days=5))
    run = loan.ok(loan.client.post(f"{BASE}/reminders/run", headers=loan.bank["risk"]))
    assert run == {"before_due": 0, "overdue": 1}
    with db.session_scope() as session:
        borrower = session.scalars(select(Borrower)).one()
        to_borrower = session.scalars(
            select(Notification).where(Notification.recipient_user_id == borrower.user_id)
        ).all()
    subjects = " ".join(n.subject + n.body for n in to_borrower)
    assert "overdue" in subjects and {n.channel.value for n in to_borrower} >= {"sms"}
    statement = loan.ok(loan.get("borrower", "/loan/statement"))
    assert statement["days_past_due"] == 3 and statement["bucket"] == "dpd_1_30"
    assert statement["lines"][0]["status"] == "overdue"
    assert Decimal(statement["arrears"]) == Decimal(lines[0]["principal"]) + Decimal(
        lines[0]["interest"]
    )
    buckets = loan.ok(loan.client.get(f"{BASE}/portfolio/buckets", headers=loan.bank["risk"]))
    assert {b["code"]: b["loans"] for b in buckets}["dpd_1_30"] == 1
    # Only the bank's deciders run reminders.
    refused = loan.client.post(f"{BASE}/reminders/run", headers=loan.borrower)
    assert refused.status_code == 403


def test_collection_notes_and_a_ledger_anchored_write_off_past_90_days(loan, db):
    note = {"channel": "phone", "note": "promised to pay after the spring fair"}
    loan.ok(loan.post("officer", "/loan/notes", json=note), 201)
    half = {**note, "promise_amount": "1000.00"}
    assert loan.post("officer", "/loan/notes", json=half).status_code == 422
    assert len(loan.ok(loan.get("officer", "/loan/notes"))) == 1
    assert loan.ok(loan.get("borrower", "/loan/notes")) == []
    reason = {"reason": "shop closed, owner unreachable for three months"}
    early = loan.post("risk", "/loan/write-off", json=reason)
    assert early.status_code == 409 and "days past due" in early.json()["message"]
    lines = loan.ok(loan.get("officer", "/loan/statement"))["lines"]
    due = date.fromisoformat(lines[0]["due"])
    loan.advance(timedelta(days=(due - date.fromisoformat(loan.loan["start"])).days + 91))
    assert loan.post("officer", "/loan/write-off", json=reason).status_code == 403
    assert loan.ok(loan.get("risk", "/loan/statement"))["bucket"] == "dpd_90_plus"
    written = loan.ok(loan.post("risk", "/loan/write-off", json=reason))
    assert written["status"] == "written_off" and written["write_off_ledger_seq"] is not None
    with db.session_scope() as session:
        entry = session.get_one(LedgerEntry, written["write_off_ledger_seq"])
    body = json.loads(entry.body or "null")
    assert entry.entry_type == "lending.write_off" and body["reason"] == reason["reason"]
    assert body["amount"] == written["write_off_amount"]
    assert loan.ok(loan.get("officer"))["stage"] == "written_off"


def test_complaints_are_tracked_to_closure_against_their_sla(loan, client):
    body = {"category": "fees", "text": "I was asked for a 'service fee' by a broker"}
    filed = loan.ok(loan.post("borrower", "/complaints", json=body), 201)
    assert filed["status"] == "open" and not filed["sla_breached"]
    bad = loan.post("borrower", "/complaints", json={"category": "weather", "text": "rain!"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"].endswith("category")
    assert [c["id"] for c in loan.ok(client.get(f"{BASE}/complaints", headers=loan.borrower))] == [
        filed["id"]
    ]
    assert loan.ok(client.get(f"{BASE}/complaints", headers=loan.bank["stranger"])) == []
    loan.advance(timedelta(days=16))
    [late] = loan.ok(client.get(f"{BASE}/complaints", headers=loan.bank["officer"]))
    assert late["sla_breached"]
    url = f"{BASE}/complaints/{filed['id']}/resolve"
    resolution = {"resolution": "Broker reported; no fee is due to anyone"}
    assert client.post(url, headers=loan.borrower, json=resolution).status_code == 404
    done = loan.ok(client.post(url, headers=loan.bank["officer"], json=resolution))
    assert done["status"] == "resolved" and done["sla_breached"]
    assert client.post(url, headers=loan.bank["officer"], json=resolution).status_code == 409


def test_the_daily_reminder_command_runs_over_every_bank(monkeypatch, database_url):
    from typer.testing import CliRunner

    from anxin.cli import app
    from anxin.core.config import get_settings

    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["lending", "remind"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "0 reminders before due, 0 overdue" in result.output


def test_a_late_payment_pays_default_interest_first(loan):
    from anxin.lending.schedule import default_interest

    first = loan.ok(loan.get("officer", "/loan/statement"))["lines"][0]
    due = date.fromisoformat(first["due"])
    loan.advance(timedelta(days=(due - date.fromisoformat(loan.loan["start"])).days + 10))
    late = due + timedelta(days=10)
    penalty = default_interest(Decimal(first["principal"]), due, late, Decimal("0.1080"))
    shown = loan.ok(loan.get("borrower", "/loan/statement"))
    assert shown["lines"][0]["penalty"] == str(penalty) and shown["penalties"] == str(penalty)
    instalment = Decimal(first["principal"]) + Decimal(first["interest"])
    paid = loan.ok(_pay(loan, str(instalment), late, "LATE-1"), 201)
    assert [(a["component"], a["amount"]) for a in paid["allocation"]] == [
        ("penalty", str(penalty)),
        ("interest", first["interest"]),
        ("principal", str(Decimal(first["principal"]) - penalty)),
    ]
    # What the penalty took is still owed as principal; its default interest starts afresh.
    after = loan.ok(loan.get("officer", "/loan/statement"))
    assert after["lines"][0]["outstanding"] == str(penalty)
    assert after["lines"][0]["penalty"] == "0.00"


def test_the_portfolio_by_product_and_bucket_as_json_csv_and_a_stacked_chart(loan, client):
    by_product = f"{BASE}/portfolio/buckets/by-product"
    rows = loan.client.get(by_product, headers=loan.bank["risk"]).json()
    cell = {(r["product"], r["bucket"]): r for r in rows}
    assert [r["bucket"] for r in rows] == [
        "current", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_90_plus"
    ]  # fmt: skip
    current = cell[("xingyun-sme", "current")]
    assert current["loans"] == 1 and current["principal"] == loan.loan["principal"]
    first = loan.ok(loan.get("officer", "/loan/statement"))["lines"][0]
    loan.advance(date.fromisoformat(first["due"]) - loan.clock.now().date() + timedelta(days=5))
    rows = loan.client.get(by_product, headers=loan.bank["risk"]).json()
    late = {r["bucket"]: r for r in rows}
    assert late["current"]["loans"] == 0 and late["dpd_1_30"]["loans"] == 1
    csv_text = loan.client.get(f"{by_product}.csv?lang=en", headers=loan.bank["risk"])
    assert csv_text.headers["content-type"].startswith("text/csv")
    lines = csv_text.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "product,bucket,loans,principal_outstanding"
    assert "xingyun-sme Xingyun small-business loan,1–30 days past due,1," in lines[2]
    assert (
        loan.client.get(f"{by_product}.csv?lang=fr", headers=loan.bank["risk"]).status_code == 422
    )
    # Another bank sees an empty portfolio; a borrower none at all.
    other = loan.client.get(by_product, headers=loan.bank["stranger"]).json()
    assert all(r["loans"] == 0 for r in other)
    assert loan.client.get(by_product, headers=loan.borrower).status_code == 404

    client.cookies.clear()
    client.post("/login", data={"username": "risk", "password": "risk-password"})
    for lang in ("zh", "en"):
        page = client.get(f"/lending/portfolio?lang={lang}")
        assert page.status_code == 200 and 'id="buckets-chart"' in page.text
        assert 'data-product="xingyun-sme" data-bucket="dpd_1_30"' in page.text
        assert "/static/vendor/echarts/echarts.min.js" in page.text
    zh = client.get("/lending/portfolio/buckets.csv?lang=zh").content.decode("utf-8-sig")
    assert "行云小微经营贷,逾期 1–30 天,1," in zh
