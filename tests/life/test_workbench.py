"""The actuary's workbench API: table values at any rate, and the guarantee's time value."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

Headers = Callable[[str], dict[str, str]]
SULT = Path(__file__).resolve().parents[1] / "data" / "sult_5pct.csv"
GUARANTEE = {
    "curve": {"maturities": [1, 10, 30], "zero_rates": [0.014, 0.019, 0.023]},
    "scenarios": 200,
    "seed": 7,
    "policies": [
        {"issue_age": 40, "sex": "M", "pay_term": 10, "sum_assured": "100000", "issue_date": d}
        for d in ("2022-06-01", "2025-01-01")
    ],
}


def published_sult() -> list[dict[str, str]]:
    lines = [ln for ln in SULT.read_text().splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(lines))


def test_sult_at_five_percent_matches_the_published_table(
    client: TestClient, as_user: Headers
) -> None:
    response = client.get(
        "/api/v1/life/tables/values",
        params={"table": "sult", "rate": 0.05, "age_from": 20, "age_to": 100},
        headers=as_user("admin"),
    )
    assert response.status_code == 200
    rows = {r["age"]: r for r in response.json()}
    for printed in published_sult():
        row = rows[int(printed["x"])]
        assert row["annuity_due"] == pytest.approx(float(printed["ax"]), abs=5e-5)
        assert row["assurance"] == pytest.approx(float(printed["Ax"]), abs=5e-6)
        assert row["assurance_second_moment"] == pytest.approx(float(printed["A2x"]), abs=5e-6)
        # the commutation columns tell the same story: ä = N/D, A = M/D
        assert row["N"] / row["D"] == pytest.approx(row["annuity_due"], rel=1e-9)
        assert row["M"] / row["D"] == pytest.approx(row["assurance"], rel=1e-9)
        # A = 1 − d ä
        assert row["assurance"] == pytest.approx(1 - 0.05 / 1.05 * row["annuity_due"], abs=1e-9)


def test_every_shipped_table_is_listed_with_its_source(
    client: TestClient, as_user: Headers
) -> None:
    tables = client.get("/api/v1/life/tables", headers=as_user("admin")).json()
    assert [t["name"] for t in tables] == ["CL1", "CL2", "CL3", "CL4", "CL5", "CL6", "SULT"]
    assert all(t["source"] for t in tables)


def test_life_expectancy_falls_with_age_and_a_pensioner_table_lives_longer(
    client: TestClient, as_user: Headers
) -> None:
    def expectancy(table: str) -> list[float]:
        rows = client.get(
            "/api/v1/life/tables/values",
            params={"table": table, "rate": 0.025, "age_from": 60, "age_to": 90},
            headers=as_user("admin"),
        ).json()
        return [r["life_expectancy"] for r in rows]

    male_insured, male_pension = expectancy("CL1"), expectancy("CL5")
    assert all(a > b for a, b in itertools.pairwise(male_insured))
    assert all(p > i for p, i in zip(male_pension, male_insured, strict=True))
    assert 20 < male_insured[0] < 30  # a 60-year-old insured man in China, 2010-2013 experience


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"table": "XX1", "rate": 0.03}, 404, None),
        ({"table": "CL1", "rate": 1.5}, 422, "rate"),
        ({"table": "CL1", "rate": 0.03, "age_from": 50, "age_to": 40}, 422, "age_from"),
        ({"rate": 0.03}, 422, "table"),
    ],
)
def test_bad_table_requests_are_refused_clearly(
    client: TestClient, as_user: Headers, params: dict[str, object], status: int, field: str | None
) -> None:
    response = client.get("/api/v1/life/tables/values", params=params, headers=as_user("admin"))
    assert response.status_code == status
    if field:
        assert field in response.text


def test_the_guarantee_is_valued_per_policy_and_for_the_portfolio(
    client: TestClient, as_user: Headers
) -> None:
    response = client.post("/api/v1/life/guarantee", json=GUARANTEE, headers=as_user("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["policies"]) == 2
    assert body["portfolio"]["tvog"] == pytest.approx(sum(p["tvog"] for p in body["policies"]))
    low, high = body["portfolio"]["interval95"]
    assert low < body["portfolio"]["tvog"] < high
    again = client.post("/api/v1/life/guarantee", json=GUARANTEE, headers=as_user("admin")).json()
    assert again == body  # the same seed gives the same figures


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scenarios": 201}, "scenarios"),
        ({"curve": {"maturities": [10, 1], "zero_rates": [0.02, 0.02]}}, "curve"),
        ({"curve": {"maturities": [1, 10], "zero_rates": [0.02]}}, "curve"),
        ({"volatility": -0.1}, "volatility"),
        ({"policies": []}, "policies"),
    ],
)
def test_bad_guarantee_requests_are_refused_with_the_field(
    client: TestClient, as_user: Headers, change: dict[str, object], field: str
) -> None:
    body = {**GUARANTEE, **change}
    response = client.post("/api/v1/life/guarantee", json=body, headers=as_user("admin"))
    assert response.status_code == 422
    assert field in response.text


def test_only_pricing_roles_reach_the_workbench(client: TestClient, as_user: Headers) -> None:
    assert client.get("/api/v1/life/tables").status_code == 401
    assert client.get("/api/v1/life/tables", headers=as_user("son")).status_code == 403
    assert (
        client.post("/api/v1/life/guarantee", json=GUARANTEE, headers=as_user("bank")).status_code
        == 403
    )


GROUP = {
    "years": 4,
    "points": [
        {
            "issue_age": 35,
            "sex": "M",
            "pay_term": 10,
            "sum_assured": "100000",
            "issue_date": "2025-01-01",
            "count": 400,
        },
        {
            "issue_age": 45,
            "sex": "F",
            "pay_term": 5,
            "sum_assured": "100000",
            "issue_date": "2025-01-01",
            "count": 300,
        },
    ],
}


FIRST_POINT: dict[str, object] = GROUP["points"][0]  # type: ignore[index]


def test_a_group_is_measured_under_ifrs17_and_every_year_foots(
    client: TestClient, as_user: Headers
) -> None:
    response = client.post("/api/v1/life/ifrs17", json=GROUP, headers=as_user("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert Decimal(body["initial_csm"]) == -(
        Decimal(body["initial_bel"]) + Decimal(body["initial_risk_adjustment"])
    )
    for p in body["periods"]:
        lines = (
            "premiums",
            "acquisition_and_expenses",
            "claims_and_surrenders",
            "bel_interest",
            "bel_changes",
        )
        assert Decimal(p["bel_opening"]) + sum(Decimal(p[k]) for k in lines) == Decimal(
            p["bel_closing"]
        )
        csm = ("csm_interest", "csm_changes", "csm_release")
        assert Decimal(p["csm_opening"]) + sum(Decimal(p[k]) for k in csm) == Decimal(
            p["csm_closing"]
        )
    csv_text = client.post("/api/v1/life/ifrs17.csv", json=GROUP, headers=as_user("admin")).text
    assert (
        csv_text.splitlines()[0].startswith("year,bel_opening") and len(csv_text.splitlines()) == 5
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"years": 0}, "years"),
        (  # past the end of a 70-year-old's cover (the table closes at 105)
            {"years": 40, "points": [{**FIRST_POINT, "issue_age": 70}]},
            "years",
        ),
        ({"points": []}, "points"),
        ({"best_estimate": {"ra_confidence": 1.2}}, "ra_confidence"),
    ],
)
def test_bad_group_requests_are_refused_with_the_field(
    client: TestClient, as_user: Headers, change: dict[str, object], field: str
) -> None:
    response = client.post(
        "/api/v1/life/ifrs17", json={**GROUP, **change}, headers=as_user("admin")
    )
    assert response.status_code == 422
    assert field in response.text
