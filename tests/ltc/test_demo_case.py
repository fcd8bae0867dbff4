"""The demo's 71-year-old as the issue tells her story: moderately disabled (grade 2) in
Nantong, over 200 yuan a month, a caregiver twice a week (bathing, haircut, massage), a rented
nursing bed; her page seen by her and her daughter only."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient

from anxin.demo.seed import DemoInfo


def test_her_case_as_she_and_her_daughter_see_it(
    client: TestClient, demo: DemoInfo, as_user: Callable[[str], dict[str, str]]
) -> None:
    mine = client.get("/api/v1/ltc/me/case", headers=as_user("ltc-elder"))
    assert mine.status_code == 200, mine.text
    case = mine.json()
    assert case["name"] == "陈玉兰" and case["age"] == 71 and case["city"] == "nantong"
    assert case["grade"] == 2
    rule = case["entitlement"]
    assert Decimal(rule["monthly_cash"]) > 200 and rule["visits_per_week"] == 2
    assert {s["code"] for s in rule["services"]} == {"bath", "haircut", "massage"}
    assert [r["item"] for r in case["rentals"]] == ["nursing_bed"]
    bed = case["rentals"][0]
    assert Decimal(bed["fund_pays"]) + Decimal(bed["you_pay"]) == Decimal(bed["monthly_rent"])
    assert Decimal(bed["you_pay"]) == Decimal("30.00")  # the fund pays 80 %
    # Twice a week: the month's allowance is 8, and every visit is done and confirmed.
    assert case["allowance"] == 8 and case["used"] + case["left"] == 8
    assert case["used"] >= 1 and all(v["done"] and v["confirmed"] for v in case["visits"])
    assert client.get("/api/v1/ltc/me/case", headers=as_user("ltc-family")).json() == case
    # Another elder, or the scheme's staff, have no case of their own here.
    assert client.get("/api/v1/ltc/me/case", headers=as_user("elder")).status_code == 404
    assert client.get("/api/v1/ltc/me/case", headers=as_user("ltc-admin")).status_code == 403


def test_her_grade_came_from_two_assessors_who_agreed(
    client: TestClient, demo: DemoInfo, as_user: Callable[[str], dict[str, str]]
) -> None:
    found = client.get(
        f"/api/v1/ltc/applications/{demo.ltc.application_id}", headers=as_user("ltc-supervisor")
    ).json()
    assert found["state"] == "decided" and found["grade"] == 2
    assert [a["barthel"] for a in found["assessments"]] == [50, 50]
    assert len({a["assessor"] for a in found["assessments"]}) == 2
