"""Applications and credit decisions through the JSON API: identifiers checked (422 naming the
field), the scorecard's score and reasons stored with the model version and inputs, the policy
rules beside the score, overrides with a written reason (audited), tenancy (404) and the PSI."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from anxin.core.audit import AuditLog
from anxin.core.security import Role
from anxin.lending import scorecard
from anxin.people import service as people
from anxin.people.models import OrganisationKind
from anxin.people.schemas import UserCreate
from tests.conftest import login

BASE = "/api/v1/lending"
USCC = "91310000MA1FL1234Q"
OWNER_ID = "31010119800101123X"  # born 1980-01-01


def _users(context: Any) -> None:
    with context.unit(actor="test:seed") as uow:
        now = uow.now()
        for org_name, users in {
            "Pudong Bank": [("officer", Role.LOAN_OFFICER), ("risk", Role.RISK_OFFICER)],
            "Other Bank": [("stranger", Role.LOAN_OFFICER)],
        }.items():
            org = people.create_organisation(
                session=uow.session, name=org_name, kind=OrganisationKind.BANK, now=now
            )
            for username, role in users:
                people.create_user(
                    session=uow.session,
                    organisation_id=org.id,
                    data=UserCreate(
                        username=username,
                        display_name=username,
                        role=role,
                        password=f"{username}-password",
                    ),
                    now=now,
                )


@pytest.fixture
def bank(client, context) -> dict[str, dict[str, str]]:
    _users(context)
    return {
        name: login(client, name, f"{name}-password").headers
        for name in ("officer", "risk", "stranger")
    }


def application(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "business": {
            "name": "上海锦绣服饰商行",
            "credit_code": USCC,
            "industry": "clothing wholesale",
            "years_trading": 8,
            "monthly_turnover": "200000.00",
        },
        "owner": {"name": "陈建国", "resident_id": OWNER_ID, "phone": "13800138000"},
        "amount": "300000.00",
        "term_months": 12,
        "purpose": "working_capital",
        "purpose_detail": "spring stock",
        "profile": {
            "account_status": "healthy",
            "credit_history": "repaying_duly",
            "savings": "50k_100k",
            "property": "real_estate",
            "other_loans": "none",
            "housing": "own",
            "guarantor": "none",
        },
    }
    body.update(changes)
    return body


def _apply(client: Any, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"{BASE}/applications", headers=headers, json=body)
    assert r.status_code == 201, r.text
    submitted = client.post(f"{BASE}/applications/{r.json()['id']}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.text
    return submitted.json()


def test_a_bad_credit_code_or_resident_id_is_a_422_naming_the_field(client, bank):
    bad = application()
    bad["business"]["credit_code"] = USCC[:-1] + "R"
    r = client.post(f"{BASE}/applications", headers=bank["officer"], json=bad)
    assert r.status_code == 422
    [problem] = r.json()["fields"]
    assert problem["field"].endswith("business.credit_code")
    assert "check character" in problem["reason"]

    bad = application()
    bad["owner"]["resident_id"] = OWNER_ID[:-1] + "1"
    r = client.post(f"{BASE}/applications", headers=bank["officer"], json=bad)
    assert r.status_code == 422
    [problem] = r.json()["fields"]
    assert problem["field"].endswith("owner.resident_id")
    assert "check digit" in problem["reason"]


def test_the_scorecard_decides_with_reasons_and_stores_its_version_and_inputs(client, bank):
    app = _apply(client, bank["officer"], application())
    assert app["stage"] == "review"
    assert app["borrower"]["resident_id_masked"] == "31010119800101***X"
    r = client.post(f"{BASE}/applications/{app['id']}/decision", headers=bank["officer"])
    assert r.status_code == 201, r.text
    decision = r.json()
    card = scorecard.load()
    expected = card.score(decision["inputs"])
    assert decision["model_version"] == scorecard.MODEL_VERSION
    assert decision["score"] == expected.score == sum(decision["points"].values())
    assert decision["inputs"]["term_months"] == 12 and decision["inputs"]["years_trading"] == 8
    assert decision["outcome"] == ("approved" if expected.score >= card.cutoff else "declined")
    # The reasons are the features that cost most points, worst first, in both languages.
    lost = [reason["points_lost"] for reason in decision["reasons"]]
    assert lost == sorted(lost, reverse=True) and all(p > 0 for p in lost)
    assert decision["reasons"][0]["zh"] and decision["reasons"][0]["en"]
    assert {c["rule"]: c["passed"] for c in decision["policy"]} == {
        "age": True,
        "amount": True,
        "delinquency": True,
    }
    detail = client.get(f"{BASE}/applications/{app['id']}", headers=bank["risk"]).json()
    assert detail["stage"] == decision["outcome"]
    assert [d["id"] for d in detail["decisions"]] == [decision["id"]]
    # Deciding twice is refused: the application is no longer under review.
    again = client.post(f"{BASE}/applications/{app['id']}/decision", headers=bank["officer"])
    assert again.status_code == 409


def test_policy_rules_decline_whatever_the_score(client, bank):
    body = application(amount="1300000.00", existing_overdue_days=45)
    body["owner"]["resident_id"] = "310101201001011234"  # 16 on the test clock's date
    app = _apply(client, bank["officer"], body)
    decision = client.post(
        f"{BASE}/applications/{app['id']}/decision", headers=bank["officer"]
    ).json()
    assert decision["outcome"] == "declined"
    assert {c["rule"]: c["passed"] for c in decision["policy"]} == {
        "age": False,
        "amount": False,
        "delinquency": False,
    }
    age = next(c for c in decision["policy"] if c["rule"] == "age")
    assert "18–65" in age["en"] and "岁" in age["zh"]


def test_an_override_needs_a_written_reason_and_is_audited(client, bank, db):
    profile = {**application()["profile"], "account_status": "overdrawn", "savings": "under_10k"}
    body = application(profile=profile, term_months=48, purpose="other")
    body["business"]["years_trading"] = 0
    app = _apply(client, bank["officer"], body)
    first = client.post(f"{BASE}/applications/{app['id']}/decision", headers=bank["risk"]).json()
    assert first["outcome"] == "declined"
    url = f"{BASE}/applications/{app['id']}/override"
    short = client.post(url, headers=bank["risk"], json={"outcome": "approved", "reason": "ok"})
    assert short.status_code == 422 and short.json()["fields"][0]["field"].endswith("reason")
    reason = "Ten years of clean turnover at our branch; the bank statements outweigh the model"
    r = client.post(url, headers=bank["risk"], json={"outcome": "approved", "reason": reason})
    assert r.status_code == 201, r.text
    override = r.json()
    assert (override["kind"], override["outcome"], override["override_reason"]) == (
        "override",
        "approved",
        reason,
    )
    assert override["score"] == first["score"]
    assert (
        client.get(f"{BASE}/applications/{app['id']}", headers=bank["officer"]).json()["stage"]
        == "approved"
    )
    with db.session_scope() as session:
        audited = session.scalars(
            select(AuditLog).where(
                AuditLog.entity_type == "lending_decisions", AuditLog.entity_id == override["id"]
            )
        ).one()
    assert audited.actor == "user:risk"
    assert audited.after is not None and audited.after["override_reason"] == reason


def test_other_banks_and_skipped_steps_are_refused(client, bank):
    app = _apply(client, bank["officer"], application())
    url = f"{BASE}/applications/{app['id']}"
    assert client.get(url, headers=bank["stranger"]).status_code == 404
    assert client.post(f"{url}/decision", headers=bank["stranger"]).status_code == 404
    assert client.get(f"{BASE}/applications", headers=bank["stranger"]).json() == []
    # An override before any decision is refused with the reason.
    r = client.post(
        f"{url}/override",
        headers=bank["officer"],
        json={"outcome": "approved", "reason": "skipping the scorecard entirely"},
    )
    assert r.status_code == 409 and "decide it first" in r.json()["message"]


def test_documents_are_content_addressed_by_sha256(client, bank):
    import hashlib

    app = _apply(client, bank["officer"], application())
    content = b"%PDF-1.4 business licence scan"
    ids = []
    for name in ("licence.pdf", "licence-again.pdf"):
        r = client.post(
            f"{BASE}/applications/{app['id']}/documents",
            headers=bank["officer"],
            data={"kind": "business_licence"},
            files={"file": (name, content, "application/pdf")},
        )
        assert r.status_code == 201, r.text
        assert r.json()["sha256"] == hashlib.sha256(content).hexdigest()
        ids.append(r.json()["id"])
    detail = client.get(f"{BASE}/applications/{app['id']}", headers=bank["officer"]).json()
    assert sorted(d["id"] for d in detail["documents"]) == sorted(ids)
    empty = client.post(
        f"{BASE}/applications/{app['id']}/documents",
        headers=bank["officer"],
        files={"file": ("empty.pdf", b"", "application/pdf")},
    )
    assert empty.status_code == 422 and empty.json()["fields"][0]["field"] == "file"


def test_the_portfolio_reports_approval_rate_and_psi(client, bank):
    for years in (8, 0):
        body = application()
        body["business"]["years_trading"] = years
        app = _apply(client, bank["officer"], body)
        client.post(f"{BASE}/applications/{app['id']}/decision", headers=bank["officer"])
    stats = client.get(f"{BASE}/portfolio", headers=bank["risk"]).json()
    assert (stats["applications"], stats["decided"]) == (2, 2)
    assert stats["approval_rate"] == stats["approved"] / 2
    assert stats["psi"] > 0 and stats["psi_reading"] in {"stable", "watch", "shifted"}
    assert stats["cv_auc"] > 0.7
    assert client.get(f"{BASE}/portfolio", headers=bank["stranger"]).json()["decided"] == 0
