"""Browser test: the illustration page renders and shows the API's numbers.

Drives Debian's chromium through Playwright. Uses the shared live-server fixture when the
suite provides one (``live_server``: base URL of a server with the demo seeded); otherwise
starts uvicorn on a free port in a thread with the demo data.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.demo import seed_demo

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
QUERY = {"issue_age": "30", "sex": "F", "pay_term": "10", "sum_assured": "100000", "years": "30"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    try:
        live = request.getfixturevalue("live_server")
    except pytest.FixtureLookupError:
        live = None
    if live is not None:
        yield str(getattr(live, "url", live)).rstrip("/")
        return
    import uvicorn

    app = request.getfixturevalue("app")
    clock: FrozenClock = request.getfixturevalue("clock")
    db: Database = request.getfixturevalue("db")
    tmp: Path = request.getfixturevalue("tmp_path")
    with db.session_scope(actor="test:seed") as session:
        seed_demo(session=session, now=clock.now(), token_file=tmp / "tokens.json")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_illustration_page_matches_the_api(base_url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base_url}/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", "demo-admin-pass")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base_url}/")

            query = "&".join(f"{k}={v}" for k, v in QUERY.items())
            page.goto(f"{base_url}/life/illustration?{query}&lang=en")
            assert page.locator("svg.life-chart polyline.series-cash-value").count() == 1
            assert page.locator("svg.life-chart polyline.series-premiums").count() == 1
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
                    assert Decimal(irr.rstrip("%")) == round(
                        Decimal(str(row["surrender_irr"])) * 100, 2
                    )

            # the printed page drops the form and buttons, keeps table and chart
            page.emulate_media(media="print")
            assert not page.locator("#quote-form").is_visible()
            assert page.locator("#illustration").is_visible()
            assert page.locator("svg.life-chart").is_visible()

            page.goto(f"{base_url}/life/illustration?{query}&lang=zh")
            assert "现金价值" in page.locator("#illustration thead").inner_text()
        finally:
            browser.close()
