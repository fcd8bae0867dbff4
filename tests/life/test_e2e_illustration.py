"""Browser test: the illustration page renders and shows the API's numbers (Debian's chromium)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import LiveServer, browser_login, painted_pixels

pytestmark = pytest.mark.e2e

QUERY = {"issue_age": "30", "sex": "F", "pay_term": "10", "sum_assured": "100000", "years": "30"}


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


def test_illustration_page_matches_the_api(live_server: LiveServer, page: Any) -> None:
    base_url = live_server.url
    browser_login(page, base_url, "admin")
    query = "&".join(f"{k}={v}" for k, v in QUERY.items())
    page.goto(f"{base_url}/life/illustration?{query}&lang=en")
    assert painted_pixels(page, "#illustration-chart") > 1000
    rows = page.locator("#illustration tbody tr")
    assert rows.count() == 30

    # the same numbers from the JSON API, with the browser's session cookie
    api = page.request.post(f"{base_url}/api/v1/life/illustration", data=QUERY)
    assert api.ok, api.text()
    expected = api.json()
    assert _amount(page.locator("#summary [data-field=gross_premium]").inner_text()) == (
        Decimal(expected["quote"]["gross_premium"])
    )
    for k, row in enumerate(expected["rows"]):
        cells = rows.nth(k)
        for field in (
            "premium",
            "cumulative_premium",
            "sum_assured",
            "death_benefit",
            "cash_value",
        ):
            shown = cells.locator(f"[data-field={field}]").inner_text()
            assert _amount(shown) == Decimal(row[field]), (k, field)
        irr = cells.locator("[data-field=surrender_irr]").inner_text()
        if row["surrender_irr"] is None:
            assert irr == "—"
        else:
            assert Decimal(irr.rstrip("%")) == round(Decimal(str(row["surrender_irr"])) * 100, 2)

    # the printed page drops the form and buttons, keeps table and chart
    page.emulate_media(media="print")
    assert not page.locator("#quote-form").is_visible()
    assert page.locator("#illustration").is_visible()
    assert page.locator("#illustration-chart canvas").is_visible()

    page.goto(f"{base_url}/life/illustration?{query}&lang=zh")
    assert "现金价值" in page.locator("#illustration thead").inner_text()
