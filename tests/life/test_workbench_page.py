"""The actuary's workbench page: every section drawn, in zh and en, for actuaries only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from anxin.demo.seed import DemoInfo
from tests.web.chart_options import chart_options


def test_the_workbench_draws_tables_scenarios_guarantee_and_ifrs17(
    client: TestClient, demo: DemoInfo
) -> None:
    client.post("/login", data={"username": "admin", "password": "demo-admin-pass"})
    page = client.get(
        "/life/workbench", params={"table": "SULT", "rate": "0.05", "scenarios": "100"}
    )
    assert page.status_code == 200, page.text
    html = page.text
    options = chart_options(html)
    assert set(options) == {"table-chart", "fan-chart", "guarantee-chart", "ifrs-chart"}
    # the SULT row at 60 matches the published 5 % table (AMLCR Appendix D)
    row = re.search(r'<tr data-age="60">(.*?)</tr>', html, re.S)
    assert row is not None and "14.9041" in row.group(1) and "0.29028" in row.group(1)
    fan = options["fan-chart"]["series"]
    assert [s["name"] for s in fan][:5] == ["P5", "P25", "P50", "P75", "P95"]
    assert "3.5%" in html and "2.5%" in html
    english = client.get("/life/workbench", params={"lang": "en", "scenarios": "100"}).text
    assert "Actuarial workbench" in english and "Time value of the guarantee" in english
    assert (
        "精算工作台"
        in client.get("/life/workbench", params={"lang": "zh", "scenarios": "100"}).text
    )


def test_bad_input_is_a_422_page_naming_the_field(client: TestClient, demo: DemoInfo) -> None:
    client.post("/login", data={"username": "admin", "password": "demo-admin-pass"})
    page = client.get("/life/workbench", params={"rate": "abc"})
    assert page.status_code == 422 and 'id="error"' in page.text and "rate" in page.text
    odd = client.get("/life/workbench", params={"scenarios": "3"})  # not antithetic pairs
    assert odd.status_code == 422 and "scenarios" in odd.text


def test_only_actuaries_and_admins_open_the_workbench(client: TestClient, demo: DemoInfo) -> None:
    client.post("/login", data={"username": "son", "password": "demo-son-pass"})
    assert client.get("/life/workbench").status_code == 403
