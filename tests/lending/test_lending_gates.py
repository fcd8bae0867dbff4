"""The consumer-protection gates through the API: each one refuses to be skipped, the loan is
paid out only when all have passed, and each gate's evidence is where it should be (the key
facts' digest, the recording's hash on the ledger, the callback's alarm and answers)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from anxin.alerts.models import Alarm, Notification
from anxin.ledger.models import LedgerEntry
from anxin.lending.product import PRODUCT
from tests.lending.flow import ANSWERS, MP4, STEPS, Flow


@pytest.fixture
def flow(client, bank, clock):
    return Flow(client, bank, clock)


def test_every_gate_passed_the_loan_is_disbursed_once_per_key(flow, db):
    flow.to("called")
    gates = flow.ok(flow.get("officer", "/gates"))
    assert gates["ready_to_disburse"] and gates["stage"] == "callback"
    assert [g["code"] for g in gates["gates"]] == [
        "disclosure",
        "dual_recording",
        "cooling_off",
        "callback",
    ]
    loan = flow.ok(flow.disburse(), 201)
    assert loan["status"] == "active" and loan["principal"] == "300000.00"
    assert loan["upfront_fee"] == flow.facts["facts"]["upfront_fee"] == "1500.00"
    assert loan["net_disbursed"] == "298500.00"
    # The same key again is the same payout; another key is refused (paid once).
    assert flow.ok(flow.disburse(), 201)["id"] == loan["id"]
    assert flow.disburse("payout-0002").status_code == 409
    assert flow.ok(flow.get("officer"))["stage"] == "active"
    statement = flow.ok(flow.get("borrower", "/loan/statement"))
    assert len(statement["lines"]) == 12
    # The arrangement fee was netted at payout; the rest of the disclosed total is owed.
    facts = flow.facts["facts"]
    owed = float(statement["outstanding"]) + float(facts["upfront_fee"])
    assert f"{owed:.2f}" == facts["total_repayable"]
    assert sum(float(x["principal"]) for x in statement["lines"]) == 300000.0


@pytest.mark.parametrize("step", STEPS[:-1])
def test_a_loan_with_any_gate_open_is_refused(flow, step):
    flow.to(step)
    r = flow.disburse()
    assert r.status_code == 409
    assert "every gate" in r.json()["message"]
    gates = flow.ok(flow.get("officer", "/gates"))
    assert not gates["ready_to_disburse"]
    failed = [g["code"] for g in gates["gates"] if not g["passed"]]
    assert failed and failed[0] in r.json()["message"]


def test_skipping_a_gate_through_the_api_is_refused_with_the_reason(flow):
    flow.to("approved")
    # No recording before the disclosure, no callback before the cooling-off.
    assert flow.upload().status_code == 409
    assert flow.post("officer", "/callbacks").status_code == 409
    flow.ok(flow.post("officer", "/disclosure"), 201)
    r = flow.upload()
    assert r.status_code == 409 and "acknowledged" in r.json()["message"]


def test_the_borrower_acknowledges_exactly_the_disclosed_facts(flow):
    flow.to("disclosed")
    facts = flow.facts["facts"]
    # Both rates, every fee, the total and the schedule are in the key facts.
    assert facts["apr_percent"] and facts["annualised_rate_percent"]
    assert float(facts["annualised_rate_percent"]) > float(facts["nominal_rate_percent"])
    assert len(facts["schedule"]) == 12
    total = sum(float(line["total"]) for line in facts["schedule"]) + float(facts["upfront_fee"])
    assert round(total, 2) == float(facts["total_repayable"])
    shown = flow.ok(flow.get("borrower", "/disclosure"))
    assert shown["facts_sha256"] == flow.facts["facts_sha256"]
    canonical = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == shown["facts_sha256"]
    wrong = flow.post("borrower", "/disclosure/acknowledge", json={"facts_sha256": "0" * 64})
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["field"] == "facts_sha256"
    # Only the borrower acknowledges; another bank does not even see the application.
    body = {"facts_sha256": shown["facts_sha256"]}
    assert flow.post("officer", "/disclosure/acknowledge", json=body).status_code == 403
    assert flow.post("stranger", "/disclosure/acknowledge", json=body).status_code == 404
    done = flow.ok(flow.post("borrower", "/disclosure/acknowledge", json=body))
    assert done["acknowledged_at"] is not None


def test_a_recording_is_checked_for_type_size_and_statements(flow):
    flow.to("acknowledged")
    pdf = flow.upload(files={"file": ("talk.pdf", b"%PDF-1.4 ...", "application/pdf")})
    assert pdf.status_code == 422 and pdf.json()["fields"][0]["field"] == "file"
    renamed = flow.upload(files={"file": ("talk.mp4", b"%PDF-1.4 " * 10, "video/mp4")})
    assert renamed.status_code == 422 and "contents" in renamed.json()["fields"][0]["reason"]
    empty = flow.upload(files={"file": ("talk.mp4", b"", "video/mp4")})
    assert empty.status_code == 422
    short = json.dumps([{"statement": "rates_explained", "at_seconds": 5}])
    partial = flow.upload(data={"checklist": short})
    assert partial.status_code == 422
    assert "identity_confirmed" in partial.json()["fields"][0]["reason"]
    bad = flow.upload(data={"checklist": json.dumps([{"statement": "x", "at_seconds": 1}])})
    assert bad.json()["fields"][0]["field"] == "checklist[0].statement"


def test_quality_check_by_a_second_officer_anchors_the_hash(flow, db):
    flow.to("acknowledged")
    recording = flow.ok(flow.upload(), 201)
    assert recording["sha256"] == hashlib.sha256(MP4).hexdigest()
    review = f"/recordings/{recording['id']}/review"
    own = flow.post("officer", review, json={"approve": True})
    assert own.status_code == 409 and "other than the uploader" in own.json()["message"]
    rejected = flow.ok(flow.post("risk", review, json={"approve": False, "note": "no sound"}))
    assert rejected["qc_outcome"] == "rejected" and rejected["ledger_seq"] is None
    assert flow.ok(flow.get("officer"))["stage"] == "disclosed"
    second = flow.ok(flow.upload(), 201)
    passed = flow.ok(
        flow.post("risk", f"/recordings/{second['id']}/review", json={"approve": True})
    )
    assert passed["qc_outcome"] == "approved" and passed["ledger_seq"] is not None
    with db.session_scope() as session:
        entry = session.get_one(LedgerEntry, passed["ledger_seq"])
        body = json.loads(entry.body or "null")
    assert entry.entry_type == "lending.dual_recording"
    assert body["recording_sha256"] == recording["sha256"]
    assert [c["statement"] for c in body["checklist"]] == list(PRODUCT.recording_statements)
    assert flow.ok(flow.get("officer"))["stage"] == "cooling_off"


def test_the_borrower_cancels_in_the_cooling_off_period_free_of_charge(flow):
    flow.to("recorded")
    early = flow.post("officer", "/callbacks")
    assert early.status_code == 409 and "cooling-off" in early.json()["message"]
    cancelled = flow.ok(flow.post("borrower", "/cancel", json={"reason": "changed my mind"}))
    assert cancelled["stage"] == "cancelled"
    assert flow.disburse().status_code == 409
    assert flow.get("borrower", "/loan").status_code == 404


def test_an_unreached_callback_is_retried_then_escalated_and_answers_decide(flow, db):
    flow.to("cooled")
    first = flow.ok(flow.post("officer", "/callbacks"), 201)
    assert first["attempt"] == 1 and first["alarm_id"]
    for _ in range(PRODUCT.callback_attempts):
        flow.ok(flow.post("officer", "/callbacks/current", json={"reached": False}))
    attempts = flow.ok(flow.get("officer", "/callbacks"))
    assert [c["outcome"] for c in attempts] == ["unreached"] * 3 + ["pending"]
    with db.session_scope() as session:
        alarm = session.get_one(Alarm, first["alarm_id"])
        assert (alarm.count, alarm.severity.value) == (4, "major")
        tasks = session.scalars(
            select(Notification).where(
                Notification.alarm_id == alarm.id, Notification.purpose == "call_task"
            )
        ).all()
    assert tasks, "the callback is a call task on the officer's console"
    missing = flow.post("officer", "/callbacks/current", json={"reached": True, "answers": {}})
    assert missing.status_code == 422 and "wants_loan" in missing.json()["fields"][0]["reason"]
    refused = {**ANSWERS, "no_fees_paid": True}  # someone charged a fee: the loan stops
    body = {"reached": True, "answers": refused, "note": "paid an agent 3,000"}
    assert flow.ok(flow.post("officer", "/callbacks/current", json=body))["outcome"] == "refused"
    assert flow.ok(flow.get("officer"))["stage"] == "cancelled"
    with db.session_scope() as session:
        assert session.get_one(Alarm, first["alarm_id"]).cleared


def test_the_loan_repays_the_disclosed_amounts_from_its_payout_date(flow):
    flow.to("called")
    flow.advance(timedelta(days=10))
    loan = flow.ok(flow.disburse(), 201)
    lines = flow.ok(flow.get("officer", "/loan/statement"))["lines"]
    disclosed = flow.facts["facts"]["schedule"]
    amounts = [(x["principal"], x["interest"], x["fee"]) for x in lines]
    assert amounts == [(x["principal"], x["interest"], x["fee"]) for x in disclosed]
    assert lines[0]["due"] > disclosed[0]["due"] and lines[0]["due"][8:] == loan["start"][8:]
