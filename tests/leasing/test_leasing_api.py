"""Leases through the JSON API: quotes (rent from rate, rate from rent), contracts with 422s
naming the field, the lifecycle to acceptance, rents over the whole term to the title transfer
anchored in the ledger, the buy-out quote, accounts and CSV, and who may see what (404)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from anxin.core.security import Role
from anxin.people import service as people
from anxin.people.models import OrganisationKind
from anxin.people.schemas import UserCreate
from tests.conftest import login

BASE = "/api/v1/leasing"
LESSEE_USCC = "91310000MA1FL1234Q"


def _users(context: Any) -> dict[str, str]:
    ids = {}
    with context.unit(actor="test:seed") as uow:
        now = uow.now()
        for org_name, users in {
            "Jiangsu Leasing": [("lessor", Role.LESSOR)],
            "Other Leasing": [("stranger", Role.LESSOR)],
            "Changzhou Machinery": [("factory", Role.LESSEE)],
        }.items():
            org = people.create_organisation(
                session=uow.session, name=org_name, kind=OrganisationKind.BANK, now=now
            )
            for username, role in users:
                user = people.create_user(
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
                ids[username] = user.id
    return ids


@pytest.fixture
def users(client, context) -> dict[str, Any]:
    ids = _users(context)
    headers = {
        n: login(client, n, f"{n}-password").headers for n in ("lessor", "stranger", "factory")
    }
    return {"ids": ids, "headers": headers}


def contract(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": "JS-2026-001",
        "kind": "direct",
        "lessee_name": "常州精工机械有限公司",
        "lessee_credit_code": LESSEE_USCC,
        "vendor_name": "苏州数控设备厂",
        "assets": [
            {"asset_type": "cnc_lathe", "cost": "1800000.00", "location": "Changzhou plant 2"},
            {"asset_type": "press_brake", "cost": "1200000.00", "location": "Changzhou plant 2"},
        ],
        "down_payment": "300000.00",
        "periods": 12,
        "annual_rate": "0.065",
        "timing": "arrears",
        "residual": "100.00",
        "handling_fee": "30000.00",
        "deposit": "150000.00",
        "start": "2026-12-01",
        "vat": True,
        "site_name": "Changzhou plant 2",
        "site_lat": 31.81,
        "site_lon": 119.97,
    }
    body.update(changes)
    return body


def test_quote_rent_from_rate_and_rate_from_rent(client, users) -> None:
    lessor = users["headers"]["lessor"]
    terms = {"cost": "3000000.00", "down_payment": "300000.00", "periods": 36,
             "start": "2026-12-01", "timing": "advance"}  # fmt: skip
    by_rate = client.post(f"{BASE}/quote", json={**terms, "annual_rate": "0.065"}, headers=lessor)
    assert by_rate.status_code == 200, by_rate.text
    rent = by_rate.json()["rent"]
    by_rent = client.post(f"{BASE}/quote", json={**terms, "rent": rent}, headers=lessor)
    assert by_rent.status_code == 200, by_rent.text
    assert Decimal(by_rent.json()["annual_rate"]) == pytest.approx(
        Decimal("0.065"), abs=Decimal("1e-6")
    )
    assert by_rent.json()["rent"] == rent
    schedule = by_rate.json()["schedule"]
    assert schedule[0]["interest"] == "0.00" and schedule[-1]["balance"] == "0.00"
    # neither, or both: a 422 naming the field
    both = client.post(
        f"{BASE}/quote", json={**terms, "annual_rate": "0.065", "rent": rent}, headers=lessor
    )
    assert both.status_code == 422 and both.json()["fields"][0]["field"] == "annual_rate"
    too_much = client.post(
        f"{BASE}/quote",
        json={**terms, "annual_rate": "0.05", "down_payment": "3000000.00"},
        headers=lessor,
    )
    assert too_much.json()["fields"][0]["field"] == "down_payment"
    no_rate = client.post(f"{BASE}/quote", json={**terms, "rent": "1.00"}, headers=lessor)
    assert no_rate.status_code == 422 and no_rate.json()["fields"][0]["field"] == "rent"
    stepped = client.post(
        f"{BASE}/quote", json={**terms, "annual_rate": "0.05", "method": "stepped"}, headers=lessor
    )
    assert stepped.json()["fields"][0]["field"] == "profile"
    # a lessee may not quote
    assert client.post(
        f"{BASE}/quote", json=terms, headers=users["headers"]["factory"]
    ).status_code in (403, 422)


def test_contract_validation_names_the_field(client, users) -> None:
    lessor = users["headers"]["lessor"]
    bad_code = client.post(
        f"{BASE}/contracts", json=contract(lessee_credit_code="91310000MA1FL1234X"), headers=lessor
    )
    assert bad_code.status_code == 422
    assert bad_code.json()["fields"][0]["field"].endswith("lessee_credit_code")
    residual = client.post(
        f"{BASE}/contracts", json=contract(residual="2700000.00"), headers=lessor
    )
    assert residual.json()["fields"][0]["field"] == "residual"
    user = client.post(f"{BASE}/contracts", json=contract(lessee_user_id="nobody"), headers=lessor)
    assert user.json()["fields"][0]["field"] == "lessee_user_id"
    assert client.post(f"{BASE}/contracts", json=contract(), headers=lessor).status_code == 201
    again = client.post(f"{BASE}/contracts", json=contract(), headers=lessor)
    assert again.json()["fields"][0]["field"] == "reference"
    # the lessee's staff may not write a lease
    assert (
        client.post(
            f"{BASE}/contracts", json=contract(reference="X-1"), headers=users["headers"]["factory"]
        ).status_code
        == 403
    )


def test_lease_from_quote_to_title_transfer(client: Any, users: dict[str, Any], clock: Any) -> None:
    lessor, factory = users["headers"]["lessor"], users["headers"]["factory"]
    created = client.post(
        f"{BASE}/contracts",
        json=contract(lessee_user_id=users["ids"]["factory"]),
        headers=lessor,
    )
    assert created.status_code == 201, created.text
    lease = created.json()
    assert (lease["cost"], lease["financed"], lease["vat_rate"]) == (
        "3000000.00",
        "2700000.00",
        "0.1300",
    )
    cid = lease["id"]
    # rents before acceptance are refused; stages move in order
    assert (
        client.post(
            f"{BASE}/contracts/{cid}/rents",
            json={"paid_on": "2027-01-01", "amount": "1.00"},
            headers=lessor,
        ).status_code
        == 409
    )
    skip = client.post(
        f"{BASE}/contracts/{cid}/stage", json={"stage": "vendor_paid"}, headers=lessor
    )
    assert skip.status_code == 409
    for stage in ("approved", "ordered", "vendor_paid"):
        moved = client.post(f"{BASE}/contracts/{cid}/stage", json={"stage": stage}, headers=lessor)
        assert moved.json()["stage"] == stage, moved.text
    assets = lease["assets"]
    missing = client.post(
        f"{BASE}/contracts/{cid}/acceptance",
        json={"serials": {assets[0]["id"]: "CNC-001"}},
        headers=lessor,
    )
    assert missing.status_code == 422 and missing.json()["fields"][0]["field"] == "serials"
    accepted = client.post(
        f"{BASE}/contracts/{cid}/acceptance",
        json={"serials": {assets[0]["id"]: "CNC-001", assets[1]["id"]: "PB-002"}},
        headers=lessor,
    )
    assert accepted.json()["stage"] == "active"
    assert sorted(a["serial"] for a in accepted.json()["assets"]) == ["CNC-001", "PB-002"]
    schedule = client.get(f"{BASE}/contracts/{cid}/schedule", headers=factory).json()
    assert len(schedule) == 12
    # VAT 13 % of each rent, shown per rent
    first = schedule[0]
    assert Decimal(first["vat"]) == (Decimal(first["rent"]) * Decimal("0.13")).quantize(
        Decimal("0.01")
    )
    early = client.post(
        f"{BASE}/contracts/{cid}/rents",
        json={"paid_on": "2027-01-01", "amount": first["rent"]},
        headers=lessor,
    )
    assert early.status_code == 422 and early.json()["fields"][0] == {
        "field": "paid_on",
        "reason": "is in the future",
    }
    for n, row in enumerate(schedule):
        clock.set(datetime.combine(date.fromisoformat(row["due"]), time(2), tzinfo=UTC))
        lessor = login(client, "lessor", "lessor-password").headers
        if n == 4:
            factory = login(client, "factory", "factory-password").headers
            quote = client.get(f"{BASE}/contracts/{cid}/buyout?on=2027-05-10", headers=factory)
            assert quote.status_code == 200, quote.text
            q = quote.json()
            assert q["outstanding_principal"] == schedule[3]["balance"]
            # asked for 10 May with rent 5 (due 1 May) still unpaid: its interest and the
            # running period's (rent 6's) are both owed
            assert [r["due"] for r in schedule[4:6]] == ["2027-05-01", "2027-06-01"]
            owed = Decimal(schedule[4]["interest"]) + Decimal(schedule[5]["interest"])
            assert Decimal(q["interest"]) == owed
            assert Decimal(q["fee"]) == (Decimal(q["outstanding_principal"]) / 100).quantize(
                Decimal("0.01")
            )
        paid = client.post(
            f"{BASE}/contracts/{cid}/rents",
            json={"paid_on": row["due"], "amount": row["total"]},
            headers=lessor,
        )
        assert paid.status_code == 201, paid.text
    final = paid.json()
    factory = login(client, "factory", "factory-password").headers  # the clock moved a year
    stranger = login(client, "stranger", "stranger-password").headers
    assert final["stage"] == "transferred" and final["rents_paid"] == 12
    assert final["title_ledger_index"] is not None and final["next_due"] is None
    entry = client.get(f"/api/v1/ledger/entries/{final['title_ledger_index']}", headers=lessor)
    assert entry.status_code in (200, 404)  # the ledger's own routes decide who reads bodies
    # the lessee sees its lease; another lessor does not
    assert client.get(f"{BASE}/contracts/{cid}", headers=factory).status_code == 200
    assert client.get(f"{BASE}/contracts/{cid}", headers=stranger).status_code == 404
    assert client.get(f"{BASE}/contracts", headers=stranger).json() == []
    # the lessee cannot record rents for itself
    assert (
        client.post(
            f"{BASE}/contracts/{cid}/stage", json={"stage": "cancelled"}, headers=factory
        ).status_code
        == 403
    )


def test_accounts_and_csv(client, users) -> None:
    lessor = users["headers"]["lessor"]
    cid = client.post(f"{BASE}/contracts", json=contract(), headers=lessor).json()["id"]
    accounts = client.get(f"{BASE}/contracts/{cid}/accounts", headers=lessor).json()
    income = sum(Decimal(r["finance_income"]) for r in accounts["lessor"])
    payments = sum(Decimal(r["payment"]) for r in accounts["lessor"])
    assert income == payments - Decimal(accounts["net_investment"])
    assert Decimal(accounts["unearned_income"]) == income
    assert accounts["liability"][-1]["closing"] == "0.00"
    assert accounts["right_of_use"] == "3030000.00"  # cost + handling fee
    assert accounts["right_of_use_schedule"][-1]["closing"] == "0.00"
    lessor_csv = client.get(f"{BASE}/contracts/{cid}/accounts.csv", headers=lessor)
    assert lessor_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(lessor_csv.text)))
    assert len(rows) == 12 and rows[-1]["net_investment"] == "0.00"
    lessee_csv = client.get(f"{BASE}/contracts/{cid}/accounts.csv?side=lessee", headers=lessor)
    kinds = [r["schedule"] for r in csv.DictReader(io.StringIO(lessee_csv.text))]
    assert kinds.count("liability") == 12 and kinds.count("right_of_use") == 12
    bad = client.get(f"{BASE}/contracts/{cid}/accounts.csv?side=both", headers=lessor)
    assert bad.status_code == 422


def test_anonymous_is_refused(client) -> None:
    assert client.get(f"{BASE}/contracts").status_code == 401
    assert client.post(f"{BASE}/quote", json={}).status_code == 401


def test_useful_life_lengthens_the_right_of_use_depreciation(
    client: Any, users: dict[str, Any]
) -> None:
    """IFRS 16.32: the contract's useful life (the lessee will own the machines) replaces the
    lease term in the right-of-use schedule; the liability still ends with the term."""
    lessor = users["headers"]["lessor"]
    made = client.post(f"{BASE}/contracts", json=contract(useful_life_months=60), headers=lessor)
    assert made.status_code == 201, made.text
    assert made.json()["useful_life_months"] == 60
    accounts = client.get(f"{BASE}/contracts/{made.json()['id']}/accounts", headers=lessor).json()
    assert len(accounts["liability"]) == 12 and accounts["liability"][-1]["closing"] == "0.00"
    asset = accounts["right_of_use_schedule"]
    assert len(asset) == 60 and asset[-1]["closing"] == "0.00"
    assert asset[0]["depreciation"] == "50500.00"  # 3,030,000 / 60
    assert asset[11]["closing"] == "2424000.00"  # 48 months of 50,500 left after the term
    for life, reason in ((6, "must be at least the lease term"), (None, None)):
        answer = client.post(
            f"{BASE}/contracts",
            json=contract(reference=f"UL-{life}", useful_life_months=life),
            headers=lessor,
        )
        if reason:
            assert answer.status_code == 422
            assert answer.json()["fields"][0] == {"field": "useful_life_months", "reason": reason}
    quarterly = client.post(
        f"{BASE}/contracts",
        json=contract(reference="UL-Q", frequency_months=3, periods=4, useful_life_months=50),
        headers=lessor,
    )
    assert quarterly.json()["fields"][0]["field"] == "useful_life_months"


def test_partial_rents_and_penalty_interest(client: Any, context: Any, clock: Any) -> None:
    """A part of the first rent paid late: penalty first, then VAT, interest, principal; the
    rest of it runs penalty interest at the contract's rate, shown on the schedule, the
    contract and the lessee's statement; the last payment transfers the title."""
    from tests.leasing.test_watch import _active_lease

    lease, lessor = _active_lease(client, context)
    cid = lease["id"]
    assert Decimal(lease["penalty_rate"]) == Decimal("0.18")
    first = client.get(f"{BASE}/contracts/{cid}/schedule", headers=lessor).json()[0]
    due = date.fromisoformat(first["due"])
    clock.set(datetime.combine(due, time(2), tzinfo=UTC) + timedelta(days=20))
    lessor = login(client, "lessor", "lessor-password").headers
    paid_on = (due + timedelta(days=20)).isoformat()
    part = client.post(
        f"{BASE}/contracts/{cid}/rents", json={"paid_on": paid_on, "amount": "50000.00"},
        headers=lessor,
    )  # fmt: skip
    assert part.status_code == 201, part.text
    total = Decimal(first["total"])
    penalty = (total * Decimal("0.18") * 20 / 360).quantize(Decimal("0.01"))
    payments = client.get(f"{BASE}/contracts/{cid}/payments", headers=lessor).json()
    applied = {a["component"]: Decimal(a["amount"]) for a in payments[0]["allocation"]}
    assert applied["penalty"] == penalty and applied["fee"] == Decimal(first["vat"])
    assert sum(applied.values()) == Decimal("50000.00")
    assert part.json()["rents_paid"] == 0 and part.json()["penalty_owed"] == "0.00"
    left = total - (Decimal("50000.00") - penalty)
    assert Decimal(part.json()["overdue"]) == left

    # ten days on, penalty runs on what is left
    clock.advance(timedelta(days=10))
    lessor = login(client, "lessor", "lessor-password").headers
    row = client.get(f"{BASE}/contracts/{cid}/schedule", headers=lessor).json()[0]
    running = (left * Decimal("0.18") * 10 / 360).quantize(Decimal("0.01"))
    assert Decimal(row["paid_amount"]) == Decimal("50000.00") and not row["paid"]
    assert Decimal(row["penalty"]) == running
    quote = client.get(f"{BASE}/contracts/{cid}/buyout", headers=lessor).json()
    assert Decimal(quote["penalty"]) == running and Decimal(quote["credit"]) > 0

    # refused: more than everything owed, a date before the last payment
    today = (due + timedelta(days=30)).isoformat()
    too_much = client.post(
        f"{BASE}/contracts/{cid}/rents", json={"paid_on": today, "amount": "99999999.00"},
        headers=lessor,
    )  # fmt: skip
    assert too_much.status_code == 422
    assert too_much.json()["fields"][0]["field"] == "amount"
    assert "more than everything owed" in too_much.json()["fields"][0]["reason"]
    backdated = client.post(
        f"{BASE}/contracts/{cid}/rents", json={"paid_on": first["due"], "amount": "1.00"},
        headers=lessor,
    )  # fmt: skip
    assert backdated.json()["fields"][0]["field"] == "paid_on"

    # the rest of the rent and its penalty settle it
    rest = client.post(
        f"{BASE}/contracts/{cid}/rents",
        json={"paid_on": today, "amount": str(left + running)},
        headers=lessor,
    )
    assert rest.status_code == 201, rest.text
    assert rest.json()["rents_paid"] == 1 and rest.json()["penalty_owed"] == "0.00"
