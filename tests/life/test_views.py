"""Quote and illustration API (JSON and CSV) and the console page."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from anxin.core.context import AppContext
from anxin.core.money import to_money
from anxin.core.security import Role
from anxin.demo.seed import DemoInfo
from anxin.people import service as people
from anxin.people.schemas import UserCreate
from tests.conftest import login
from tests.web.chart_options import chart_options, series_named

Headers = Callable[[str], dict[str, str]]
BODY = {"issue_age": 30, "sex": "F", "pay_term": 10, "sum_assured": "100000", "years": 30}


@pytest.fixture
def agent(client: TestClient, demo: DemoInfo, context: AppContext) -> dict[str, str]:
    with context.unit(actor="test:seed") as uow:
        people.create_user(
            session=uow.session,
            organisation_id=demo.organisation_id,
            data=UserCreate(
                username="agent.li", display_name="Li", role=Role.AGENT, password="agent-pass-123"
            ),
            now=uow.now(),
        )
    return login(client, "agent.li", "agent-pass-123").headers


def test_quote_by_sum_assured_and_by_premium(client: TestClient, agent: dict[str, str]) -> None:
    r = client.post("/api/v1/life/quote", json=BODY, headers=agent)
    assert r.status_code == 200, r.text
    q = r.json()
    # the clock is 2026-11-29: the 2.5% rate applies, and the sum assured grows at it
    assert q["pricing_rate"] == "0.025" and q["growth"] == "0.025"
    assert q["table"] == "CL2(2010-2013)"
    assert Decimal(q["gross_premium"]) > Decimal(q["net_premium"]) > 0
    by_premium = {**BODY, "sum_assured": None, "premium": q["gross_premium"]}
    r2 = client.post("/api/v1/life/quote", json=by_premium, headers=agent)
    assert r2.status_code == 200, r2.text
    # one fen of premium buys about 0.08 yuan of sum assured here
    assert abs(Decimal(r2.json()["sum_assured"]) - Decimal("100000")) <= Decimal("0.10")


def test_single_premium_invariant_over_http(client: TestClient, agent: dict[str, str]) -> None:
    body = {"issue_age": 50, "sex": "M", "pay_term": 1, "sum_assured": "102500"}
    r = client.post("/api/v1/life/quote", json=body, headers=agent)
    assert r.json()["net_premium"] == "100000.00"


def test_illustration_json_and_csv_agree(client: TestClient, agent: dict[str, str]) -> None:
    r = client.post("/api/v1/life/illustration", json=BODY, headers=agent)
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert len(rows) == 30 and rows[0]["policy_year"] == 1
    c = client.get("/api/v1/life/illustration.csv", params=BODY, headers=agent)
    assert c.status_code == 200, c.text
    assert c.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(c.text)))
    assert [p["cash_value"] for p in parsed] == [row["cash_value"] for row in rows]
    g = client.get("/api/v1/life/illustration", params=BODY, headers=agent)
    assert g.json() == r.json()


def test_bad_input_is_a_clear_422(client: TestClient, agent: dict[str, str]) -> None:
    both = {**BODY, "premium": "1000"}
    r = client.post("/api/v1/life/quote", json=both, headers=agent)
    assert r.status_code == 422 and "exactly one" in r.json()["message"]
    early = {**BODY, "issue_date": "2021-06-01"}
    r = client.post("/api/v1/life/quote", json=early, headers=agent)
    assert r.status_code == 422 and "pricing rate" in r.json()["message"]
    r = client.post("/api/v1/life/quote", json={**BODY, "pay_term": 31}, headers=agent)
    assert r.status_code == 422


def test_roles(client: TestClient, as_user: Headers) -> None:
    assert client.post("/api/v1/life/quote", json=BODY).status_code == 401
    assert client.post("/api/v1/life/quote", json=BODY, headers=as_user("son")).status_code == 403
    assert client.post("/api/v1/life/quote", json=BODY, headers=as_user("admin")).status_code == 200


def test_console_page_renders_the_table_and_chart(client: TestClient, demo: DemoInfo) -> None:
    page = client.get("/life/illustration", follow_redirects=False)
    assert page.status_code == 303
    client.post("/login", data={"username": "admin", "password": "demo-admin-pass"})
    page = client.get("/life/illustration", params={**BODY, "lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert html.count('<tr data-year="') == 30
    chart = chart_options(html)["illustration-chart"]
    assert chart["xAxis"]["data"] == [str(year) for year in range(1, 31)]
    cash = series_named(chart, "Cash value")["data"]
    rows = client.post("/api/v1/life/illustration", json=BODY).json()["rows"]
    assert cash == [round(float(r["cash_value"]), 2) for r in rows]
    paid = series_named(chart, "Premiums paid")["data"]
    assert paid == [round(float(r["cumulative_premium"]), 2) for r in rows]
    assert series_named(chart, "Death benefit")["data"][0] == float(rows[0]["death_benefit"])
    assert "Cash value" in html
    zh = client.get("/life/illustration", params={**BODY, "lang": "zh"}).text
    assert "现金价值" in zh and "累计保费" in zh
    # the CSV link and the language switch carry the quote, the CSV link without lang
    assert 'href="/api/v1/life/illustration.csv?issue_age=30&amp;sex=F' in zh
    assert "lang=en" in zh and "illustration.csv?" in zh
    csv_href = zh.split('id="csv-link"')[0].rsplit('href="', 1)[1].split('"')[0]
    csv_resp = client.get(csv_href.replace("&amp;", "&"))
    assert csv_resp.status_code == 200 and csv_resp.text.startswith("policy_year,")
    bad = client.get("/life/illustration", params={**BODY, "pay_term": "31"})
    assert bad.status_code == 422 and 'id="error"' in bad.text


def test_a_quote_on_a_chosen_table_rate_and_unusual_term(
    client: TestClient, agent: dict[str, str]
) -> None:
    body = {**BODY, "pay_term": 7, "table": "SULT", "rate": "0.03"}
    quote = client.post("/api/v1/life/quote", json=body, headers=agent)
    assert quote.status_code == 200, quote.text
    data = quote.json()
    assert data["table"].startswith("SULT") and Decimal(data["pricing_rate"]) == Decimal("0.03")
    assert Decimal(data["total_premiums"]) == Decimal(data["gross_premium"]) * 7
    for field, value in (("pay_term", 31), ("table", "CL9"), ("rate", "0.5")):
        refused = client.post("/api/v1/life/quote", json={**body, field: value}, headers=agent)
        assert refused.status_code == 422 and field in refused.text


def test_a_monthly_quote_gives_the_instalment(client: TestClient, agent: dict[str, str]) -> None:
    annual = client.post("/api/v1/life/quote", json=BODY, headers=agent).json()
    monthly = client.post("/api/v1/life/quote", json={**BODY, "mode": 12}, headers=agent).json()
    assert monthly["mode"] == 12 and annual["mode"] == 1
    assert Decimal(monthly["gross_premium"]) > Decimal(annual["gross_premium"])
    assert Decimal(monthly["instalment"]) == to_money(Decimal(monthly["gross_premium"]) / 12)
    single = client.post(
        "/api/v1/life/quote", json={**BODY, "pay_term": 1, "mode": 12}, headers=agent
    )
    assert single.status_code == 422 and "payment mode" in single.text
    assert (
        client.post("/api/v1/life/quote", json={**BODY, "mode": 3}, headers=agent).status_code
        == 422
    )


def test_the_page_quotes_monthly_instalments(client: TestClient, demo: DemoInfo) -> None:
    client.post("/login", data={"username": "admin", "password": "demo-admin-pass"})
    page = client.get("/life/illustration", params={**BODY, "mode": "12", "lang": "en"})
    assert page.status_code == 200, page.text
    assert 'data-field="instalment"' in page.text and "Monthly" in page.text
    zh = client.get("/life/illustration", params={**BODY, "mode": "12", "lang": "zh"}).text
    assert "月交" in zh and "每期保费" in zh
