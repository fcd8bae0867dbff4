"""The monthly settlement run over stored data: claim lines with reasons, the fund payouts,
the closed month, the ledger anchor, and rule changes that cannot reach into it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from anxin.core.context import AppContext
from anxin.ledger.service import get_entry
from anxin.ltc.models import (
    LtcBeneficiary,
    LtcInstitution,
    LtcInsured,
    LtcRental,
    LtcService,
    LtcVisit,
)

HOME = (32.0146, 120.8642)
# 10:00 in Nantong on Tuesday 3 November 2026.
TUESDAY = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
RULE = {
    "city": "nantong", "grade": 2, "valid_from": "2026-01-01", "monthly_cash": "210.00",
    "visits_per_week": 2, "services": ["bath", "haircut", "massage"],
    "visit_copay_ratio": "0.10", "rental_fund_ratio": "0.80",
}  # fmt: skip


@pytest.fixture
def her(context: AppContext, city: str) -> int:
    """The 71-year-old: moderate disability, a caregiver twice a week, a wheelchair."""
    with context.unit(actor="test:seed") as uow:
        s = uow.session
        for code, zh, en, price in [
            ("bath", "助浴", "bathing", "60.00"),
            ("haircut", "理发", "haircut", "15.00"),
            ("massage", "按摩", "massage", "35.50"),
            ("wound_care", "伤口护理", "wound care", "80.00"),
        ]:
            s.add(LtcService(org_id=city, code=code, name_zh=zh, name_en=en, price=Decimal(price)))
        insured = LtcInsured(
            org_id=city, id_number="32060219550312002X", name="王秀兰", sex="F",
            birth_date=date(1955, 3, 12), district="崇川区", address="青年路 8 号",
            lat=HOME[0], lon=HOME[1], updated_at=uow.now(),
        )  # fmt: skip
        institution = LtcInstitution(org_id=city, name="崇川护理站", created_at=uow.now())
        s.add_all([insured, institution])
        s.flush()
        person = LtcBeneficiary(
            org_id=city, insured_id=insured.id, city="nantong", grade=2,
            entitled_from=date(2026, 6, 1), created_at=uow.now(),
        )  # fmt: skip
        s.add(person)
        s.flush()

        def visit(start: datetime, minutes: int, services: list[str], confirmed: bool = True,
                  caregiver: str = "cg-1") -> LtcVisit:  # fmt: skip
            return LtcVisit(
                org_id=city, beneficiary_id=person.id, institution_id=institution.id,
                caregiver=caregiver, check_in=start, check_out=start + timedelta(minutes=minutes),
                in_lat=HOME[0], in_lon=HOME[1], out_lat=HOME[0], out_lon=HOME[1],
                services=services, confirmed=confirmed,
            )  # fmt: skip

        friday = TUESDAY + timedelta(days=3)
        s.add_all(
            [
                visit(TUESDAY, 60, ["bath", "haircut"]),  # paid: 75.00, she pays 7.50
                visit(friday, 12, ["massage"]),  # too short
                visit(friday + timedelta(days=4), 45, ["wound_care"]),  # not in her entitlement
                visit(friday + timedelta(days=7), 45, ["massage"], confirmed=False),
                visit(TUESDAY + timedelta(days=30), 60, ["bath"]),  # 3 December: next month
            ]
        )
        s.add(
            LtcRental(
                org_id=city, beneficiary_id=person.id, depot_id=1, item="wheelchair",
                monthly_rent=Decimal("90.00"), start=date(2026, 10, 20),
            )
        )  # fmt: skip
        return person.id


def test_a_month_settled_closed_and_anchored(
    client: TestClient,
    headers: Callable[[str], dict[str, str]],
    her: int,
    context: AppContext,
) -> None:
    admin = headers("ltc-admin")
    assert client.post("/api/v1/ltc/rules", headers=admin, json=RULE).status_code == 201
    run = client.post("/api/v1/ltc/settlements/2026-11", headers=admin)
    assert run.status_code == 201, run.text
    body = run.json()
    assert body["reconciled"] is True
    settlement = body["settlement"]
    # cash 210.00 + visit 67.50 + wheelchair 72.00 (80 % of 90.00)
    assert settlement["fund_out"] == "349.50"
    assert settlement["copay"] == "25.50"  # 7.50 for the visit, 18.00 for the wheelchair
    assert (settlement["lines"], settlement["rejected"]) == (6, 3)
    rejections = client.get("/api/v1/ltc/settlements/2026-11/rejections", headers=admin).json()
    reasons = sorted(line["reason"] for line in rejections)
    assert reasons == [
        "not_confirmed: not confirmed by the beneficiary or family",
        "service_not_entitled: services not in the entitlement: wound_care",
        "too_short: lasted 12 min, the minimum is 30 min",
    ]
    codes = sorted(line["reason_codes"] for line in rejections)
    assert codes == [["not_confirmed"], ["service_not_entitled"], ["too_short"]]
    fund = client.get("/api/v1/ltc/fund", headers=headers("ltc-supervisor")).json()
    assert fund == [
        {"month": "2026-11", "paid_in": "0.00", "paid_out": "349.50", "balance": "-349.50"}
    ]
    with context.unit() as uow:
        entry = get_entry(session=uow.session, seq=settlement["ledger_seq"])
        assert entry.entry_type == "ltc.settlement"
    # Closed: no second run, no rule reaching back into it; a rule from December is fine.
    again = client.post("/api/v1/ltc/settlements/2026-11", headers=admin)
    assert again.status_code == 409
    back = client.post(
        "/api/v1/ltc/rules", headers=admin,
        json={**RULE, "valid_from": "2026-11-20", "monthly_cash": "240.00"},
    )  # fmt: skip
    assert back.status_code == 422
    assert back.json()["fields"][0]["field"] == "valid_from"
    change = client.post(
        "/api/v1/ltc/rules", headers=admin,
        json={**RULE, "valid_from": "2026-12-16", "monthly_cash": "240.00"},
    )  # fmt: skip
    assert change.status_code == 201
    december = client.post("/api/v1/ltc/settlements/2026-12", headers=admin).json()
    # 15 days at 210 and 16 at 240 (31 days), and the 3 December visit.
    cash = Decimal("101.61") + Decimal("123.87")
    assert Decimal(december["settlement"]["summary"]["fund_by_kind"]["cash"]) == cash
    assert december["reconciled"] is True
    # November is untouched by the change.
    november = client.get("/api/v1/ltc/settlements/2026-11", headers=admin).json()
    assert november["fund_out"] == "349.50"


def test_another_city_sees_no_settlement(
    client: TestClient, headers: Callable[[str], dict[str, str]], her: int
) -> None:
    admin = headers("ltc-admin")
    client.post("/api/v1/ltc/rules", headers=admin, json=RULE)
    client.post("/api/v1/ltc/settlements/2026-11", headers=admin)
    other = headers("other-admin")
    assert client.get("/api/v1/ltc/settlements/2026-11", headers=other).status_code == 404
    assert (
        client.get("/api/v1/ltc/settlements/2026-11/rejections", headers=other).status_code == 404
    )


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"grade": 6}, "grade"),
        ({"visit_copay_ratio": "1.5"}, "visit_copay_ratio"),
        ({"valid_to": "2025-12-31"}, "body"),
        ({"services": ["karaoke"]}, "services"),
    ],
)
def test_bad_rules_name_the_field(
    client: TestClient,
    headers: Callable[[str], dict[str, str]],
    her: int,
    patch: dict[str, object],
    field: str,
) -> None:
    response = client.post(
        "/api/v1/ltc/rules", headers=headers("ltc-admin"), json={**RULE, **patch}
    )
    assert response.status_code == 422, response.text
    assert any(f["field"].endswith(field) for f in response.json()["fields"]), response.json()


def test_bad_month_is_422(
    client: TestClient, headers: Callable[[str], dict[str, str]], her: int
) -> None:
    response = client.post("/api/v1/ltc/settlements/2026-13", headers=headers("ltc-admin"))
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "month"


def test_the_supervisor_may_not_settle(
    client: TestClient, headers: Callable[[str], dict[str, str]], her: int
) -> None:
    response = client.post("/api/v1/ltc/settlements/2026-11", headers=headers("ltc-supervisor"))
    assert response.status_code == 403
