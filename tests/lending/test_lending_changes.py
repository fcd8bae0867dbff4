"""Changes to a stored loan's schedule through the API: a prepayment quoted and taken once per
key (shortening the term or lowering the instalment), a hardship rescheduling approved by a
second officer, each a new schedule version with the old one kept and the change anchored in
the ledger; and, as properties of the core the stored loans replay, that any sequence of
prepayments and reschedulings conserves the principal."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from anxin.ledger.models import LedgerEntry
from anxin.lending import changes, schedule
from anxin.lending.product import PRODUCT
from anxin.lending.schedule import PrepaymentEffect

D = Decimal


def _statement(flow, who="officer"):
    return flow.ok(flow.get(who, "/loan/statement"))


def _pay_first(flow):
    """Move to the first due date and pay that instalment, so nothing is in arrears."""
    first = _statement(flow)["lines"][0]
    flow.advance(date.fromisoformat(first["due"]) - flow.clock.now().date())
    body = {"amount": first["outstanding"], "received_on": first["due"], "reference": "I-1"}
    flow.ok(flow.post("officer", "/loan/repayments", json=body), 201)
    return first


def _prepay(flow, amount, effect="shorten_term", key="prepay-0001", who="officer"):
    body = {"amount": str(amount), "effect": effect, "idempotency_key": key}
    return flow.post(who, "/loan/prepayments", json=body)


def _principal_sum(lines):
    return sum((D(x["principal"]) for x in lines), D(0))


def test_a_quote_then_the_whole_amount_closes_the_loan_once_per_key(loan, db):
    loan.advance(timedelta(days=10))  # ten days of interest accrued, no instalment due yet
    q = loan.ok(loan.get("officer", "/loan/prepayment-quote"))
    amount = D(loan.loan["principal"])
    assert D(q["principal"]) == amount and D(q["arrears"]) == 0
    assert D(q["accrued"]) > 0 and D(q["fee"]) == 0
    assert D(q["total"]) == D(q["principal"]) + D(q["accrued"]) + D(q["fee"])
    change = loan.ok(_prepay(loan, q["total"]), 201)
    assert change["kind"] == "prepayment" and change["version"] == 2
    assert change["ledger_seq"] is not None
    # The same key is the same prepayment; another amount under it is refused.
    assert loan.ok(_prepay(loan, q["total"]), 201)["id"] == change["id"]
    assert _prepay(loan, "100.00").status_code == 409
    st_ = _statement(loan, "borrower")
    assert st_["loan"]["status"] == "closed" and D(st_["outstanding"]) == 0
    assert [line["status"] for line in st_["lines"]] == ["paid"]
    assert st_["repayments"][0]["reference"] == "prepayment:prepay-0001"
    assert D(st_["paid"]) == D(q["total"])
    # A closed loan takes no prepayment and has no quote: 409.
    assert _prepay(loan, "100.00", key="prepay-0002").status_code == 409
    assert loan.get("officer", "/loan/prepayment-quote").status_code == 409
    with db.session_scope() as session:
        entry = session.get_one(LedgerEntry, change["ledger_seq"])
    body = json.loads(entry.body or "null")
    assert entry.entry_type == changes.CHANGE_ENTRY and body["version"] == 2
    assert body["params"]["amount"] == q["total"]


def test_a_part_prepayment_shortens_the_term_keeping_the_old_version(loan):
    _pay_first(loan)
    before = _statement(loan)["lines"]
    change = loan.ok(_prepay(loan, "100000.00"), 201)
    after = _statement(loan, "borrower")
    lines = after["lines"]
    # The paid instalment stands; the prepayment line is paid; the rest keep the instalment.
    assert lines[0] == before[0]
    assert lines[1]["status"] == "paid" and D(lines[1]["principal"]) == D("100000.00")
    assert len(lines) < len(before) + 1
    assert D(lines[2]["principal"]) + D(lines[2]["interest"]) == D(before[1]["principal"]) + D(
        before[1]["interest"]
    )
    assert _principal_sum(lines) == D(loan.loan["principal"])
    assert after["loan"]["schedule_version"] == 2
    assert [r["number"] for r in change["replaced"]] == [x["number"] for x in before]
    listed = loan.ok(loan.get("officer", "/loan/schedule-changes"))
    assert [c["version"] for c in listed] == [2]


def test_a_part_prepayment_lowers_the_instalment_keeping_the_end_date(loan):
    _pay_first(loan)
    before = _statement(loan)["lines"]
    loan.ok(_prepay(loan, "100000.00", "lower_instalment"), 201)
    lines = _statement(loan)["lines"]
    assert len(lines) == len(before) + 1 and lines[-1]["due"] == before[-1]["due"]
    new_total = D(lines[2]["principal"]) + D(lines[2]["interest"])
    assert new_total < D(before[1]["principal"]) + D(before[1]["interest"])
    assert _principal_sum(lines) == D(loan.loan["principal"])


def test_bad_prepayments_are_422_and_arrears_or_strangers_are_refused(loan):
    q = loan.ok(loan.get("officer", "/loan/prepayment-quote"))
    too_much = _prepay(loan, D(q["total"]) + D("0.01"))
    assert too_much.status_code == 422 and too_much.json()["fields"][0]["field"] == "amount"
    for amount in ("0", "-5", "1.234"):
        r = _prepay(loan, amount)
        assert r.status_code == 422 and r.json()["fields"][0]["field"].endswith("amount"), amount
    r = _prepay(loan, "1000.00", effect="sideways")
    assert r.status_code == 422 and r.json()["fields"][0]["field"].endswith("effect")
    short = loan.post(
        "officer", "/loan/prepayments", json={"amount": "1.00", "effect": "shorten_term"}
    )
    assert short.status_code == 422
    assert _prepay(loan, "1000.00", who="borrower").status_code == 403
    assert _prepay(loan, "1000.00", who="stranger").status_code == 404
    # Interest accrued but no principal: not a prepayment.
    loan.advance(timedelta(days=10))
    accrued = loan.ok(loan.get("officer", "/loan/prepayment-quote"))["accrued"]
    r = _prepay(loan, accrued)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "amount"
    # With the first instalment overdue, the arrears are repaid first.
    first = _statement(loan)["lines"][0]
    loan.advance(date.fromisoformat(first["due"]) - loan.clock.now().date() + timedelta(days=2))
    assert D(loan.ok(loan.get("officer", "/loan/prepayment-quote"))["arrears"]) > 0
    assert _prepay(loan, "1000.00").status_code == 409


def test_a_rescheduling_needs_a_second_officer_and_becomes_a_version(loan, db):
    _pay_first(loan)
    before = _statement(loan)["lines"]
    body = {"periods": 24, "grace": 3, "annual_rate": "0.05", "reason": "shop closed by floods"}
    proposed = loan.ok(loan.post("officer", "/loan/reschedules", json=body), 201)
    assert proposed["status"] == "pending" and proposed["version"] is None
    assert proposed["effective_on"] == before[0]["due"]
    # Nothing changes until approved; a second proposal waits; the proposer cannot approve.
    assert _statement(loan)["lines"] == before
    assert loan.post("risk", "/loan/reschedules", json=body).status_code == 409
    decide = f"/loan/reschedules/{proposed['id']}/decision"
    assert loan.post("officer", decide, json={"approve": True}).status_code == 403
    assert loan.post("borrower", decide, json={"approve": True}).status_code == 403
    done = loan.ok(loan.post("risk", decide, json={"approve": True, "note": "hardship seen"}))
    assert done["status"] == "applied" and done["version"] == 2 and done["ledger_seq"]
    assert loan.post("risk", decide, json={"approve": True}).status_code == 409
    after = _statement(loan, "borrower")
    lines = after["lines"]
    assert after["loan"]["annual_rate"] == "0.050000"
    assert len(lines) == 1 + 24 and lines[0] == before[0]
    assert all(D(x["principal"]) == 0 for x in lines[1:4])  # three months of grace
    assert D(lines[4]["principal"]) > 0
    assert _principal_sum(lines) == D(loan.loan["principal"])
    # A prepayment afterwards replays both changes through the core.
    loan.ok(_prepay(loan, "50000.00", "lower_instalment"), 201)
    assert _principal_sum(_statement(loan)["lines"]) == D(loan.loan["principal"])
    assert _statement(loan)["loan"]["schedule_version"] == 3


def test_bad_reschedulings_are_422_naming_the_field_and_a_rejection_changes_nothing(loan):
    cases = [
        ({"periods": 0, "reason": "hardship, a long reason"}, "periods"),
        ({"annual_rate": "0.5", "reason": "hardship, a long reason"}, "annual_rate"),
        ({"grace": -1, "reason": "hardship, a long reason"}, "grace"),
        ({"periods": 12, "reason": "short"}, "reason"),
        ({"reason": "nothing to change here"}, "periods"),
        ({"periods": 3, "grace": 3, "reason": "all grace and no repayment"}, "grace"),
    ]
    for body, field in cases:
        r = loan.post("officer", "/loan/reschedules", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["fields"][0]["field"].endswith(field), (body, r.json())
    before = _statement(loan)["lines"]
    body = {"periods": 48, "reason": "a slow season in the market"}
    proposed = loan.ok(loan.post("officer", "/loan/reschedules", json=body), 201)
    decide = f"/loan/reschedules/{proposed['id']}/decision"
    rejected = loan.ok(loan.post("risk", decide, json={"approve": False, "note": "no evidence"}))
    assert rejected["status"] == "rejected" and rejected["version"] is None
    assert _statement(loan)["lines"] == before
    r = loan.post("risk", "/loan/reschedules/nope/decision", json={"approve": True})
    assert r.status_code == 422


# --- properties of the core the stored loans replay ------------------------------------------

STEP = st.one_of(
    st.tuples(
        st.just("prepay"),
        st.integers(1, 40),  # days after the last change
        st.decimals(D("0.05"), D("0.9"), places=2),  # share of the balance
        st.sampled_from(list(PrepaymentEffect)),
    ),
    st.tuples(
        st.just("reschedule"),
        st.integers(0, 3),  # due dates after the last change
        st.integers(1, 36),  # periods
        st.integers(0, 3),  # grace
    ),
)


@settings(max_examples=120, deadline=None)
@given(
    st.decimals(D("10000"), D("1000000"), places=2),
    st.integers(3, 36),
    st.lists(STEP, min_size=1, max_size=4),
)
def test_prepayments_and_reschedulings_conserve_the_principal(amount, months, steps):
    s = schedule.build(PRODUCT.terms_for(amount, months, date(2026, 1, 15)))
    on = s.terms.start
    prepaid = D(0)
    for step in steps:
        if step[0] == "prepay":
            _, days, share, effect = step
            on += timedelta(days=days)
            try:
                payoff = schedule.payoff(s, on)
            except ValueError:
                return  # repaid already
            part = max((payoff.principal * share).quantize(D("0.01")), D("0.01"))
            s = schedule.prepay(s, on, payoff.accrued + part, effect)
            prepaid += part
        else:
            _, ahead, periods, grace = step
            dues = [i.due for i in s.instalments if i.due >= on and i.balance > 0]
            if not dues or grace >= periods:
                continue
            on = dues[min(ahead, len(dues) - 1)]
            s = schedule.reschedule(s, on, periods=periods, grace=grace)
        assert sum((i.principal for i in s.instalments), D(0)) == amount
        assert all(i.principal >= 0 for i in s.instalments)
        assert s.instalments[-1].balance == 0
        assert [i.number for i in s.instalments] == list(range(1, len(s.instalments) + 1))
    assert prepaid <= amount
