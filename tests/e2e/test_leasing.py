"""A finance lease in a real browser: the lessor takes a quote through approval, the vendor's
order and payment, accepts delivery with the serials, confirms every rent over the term (the
clock advanced a month per rent) until the title passes with its certificate in the ledger;
the lessee's buy-out quote mid-term matches the schedule; a machine driven off site shows the
lessor's alarm on the contract page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from tests.conftest import DEMO_PASSWORDS, LiveServer, browser_login
from tests.e2e.shots import full_page_shot
from tests.leasing.test_leasing_api import contract

pytestmark = pytest.mark.e2e
# a shared machine: generous read timeouts (no timing is asserted)
http = httpx.Client(timeout=120)


def _token(live: LiveServer, username: str) -> dict[str, str]:
    answer = http.post(
        f"{live.url}/api/v1/auth/token",
        data={"username": username, "password": DEMO_PASSWORDS[username]},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_quote_to_title_transfer_and_a_machine_off_site(live_server: LiveServer, page) -> None:
    live = live_server
    lessor = _token(live, "lessor")
    lessee = http.get(f"{live.url}/api/v1/me", headers=_token(live, "machinery"))
    assert lessee.status_code == 200, lessee.text
    body = contract(reference="E2E-1", site_lat=31.7806, site_lon=119.9731)
    body["lessee_user_id"] = lessee.json()["id"]
    created = http.post(f"{live.url}/api/v1/leasing/contracts", json=body, headers=lessor)
    assert created.status_code == 201, created.text
    lease = created.json()
    cid = lease["id"]
    schedule = http.get(
        f"{live.url}/api/v1/leasing/contracts/{cid}/schedule", headers=lessor
    ).json()
    tracker = http.post(
        f"{live.url}/api/v1/leasing/contracts/{cid}/assets/{lease['assets'][0]['id']}/tracker",
        json={"name": "lathe tracker"},
        headers=lessor,
    ).json()

    browser_login(page, live.url, "lessor")
    url = f"{live.url}/leasing/contracts/{cid}?lang=en"
    page.goto(url)
    for stage in ("approved", "ordered", "vendor paid"):
        page.click("#advance")
        page.wait_for_selector(f"#stage:has-text('{stage}')")
    for n, field in enumerate(page.locator("#accept input[name=serials]").all()):
        field.fill(f"E2E-SN-{n}")
    page.click("#accept button[type=submit]")
    page.wait_for_selector("#stage:has-text('active')")
    assert "E2E-SN-0" in page.content()

    for n in range(len(schedule)):
        if n == 4:
            # mid-term: the buy-out shown on the page is the schedule's outstanding principal,
            # this period's interest and the 1 % fee
            outstanding = Decimal(schedule[3]["balance"])
            fee = (outstanding / 100).quantize(Decimal("0.01"))
            total = outstanding + Decimal(schedule[4]["interest"]) + fee
            assert page.inner_text("#buyout-total") == f"{total:,.2f}"
        live.clock.advance(timedelta(days=30))
        page.goto(url)
        if "/login" in page.url:  # the console session is bound to the advanced clock
            browser_login(page, live.url, "lessor")
            page.goto(url)
        page.click("#record-rent")
        page.wait_for_selector(f"#paid:has-text('{n + 1} / {len(schedule)}')")
    page.wait_for_selector("#stage:has-text('title transferred')")
    assert page.inner_text("#title-entry").startswith("#")

    # the machine is driven 5 km away from its site: the lessor's alarm on the contract page
    reading = {
        "message_id": "e2e-off-site",
        "ts": live.clock.now().isoformat(),
        "values": {"running_hours": 10.0, "lat": 31.8256, "lon": 119.9731},
    }
    sent = http.post(
        f"{live.url}/api/v1/telemetry",
        json=reading,
        headers={"Authorization": f"Bearer {tracker['token']}"},
    )
    assert sent.status_code == 200, sent.text
    page.goto(url)
    assert page.locator("li[data-alarm-type=machine_off_site].open").count() == 1
    assert "OFF SITE" in page.content()


def test_the_quote_form_on_a_phone_and_a_desktop(live_server: LiveServer, page) -> None:
    """The lessor prices a lease on the form at 390 px and 1366 px, in Chinese and English:
    the chart draws, both rates show, the body never scrolls sideways; a bad rate is named
    beside its field; the contract is written from the quote."""
    from pathlib import Path

    from tests.conftest import painted_pixels

    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    live = live_server
    browser_login(page, live.url, "lessor")
    for lang in ("zh", "en"):
        for width in (390, 1366):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live.url}/leasing/quote?lang={lang}")
            page.fill("input[name=cost]", "2400000")
            page.fill("input[name=annual_rate]", "6.2")
            page.fill("input[name=start]", "2027-01-01")
            page.select_option("select[name=method]", "seasonal")
            page.fill("input[name=profile]", "1.5, 1.5, 1, 1, 1, 0.5")
            page.click("#price")
            page.wait_for_selector("#quote-schedule")
            assert painted_pixels(page, "#quote-chart") > 1000
            assert page.inner_text("#rate-implicit") == "6.2000%"
            assert page.inner_text("#rate-annualised").endswith("%")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (lang, width)
            full_page_shot(page, shots / f"lessor--leasing-quote--{width}--{lang}.png")

    # Bad input, named beside its field and above the form in the reader's words.
    said = {
        "zh": ("请填写百分数", "须小于设备价款"),
        "en": ("A number, in percent", "Must be less than the cost"),
    }
    for lang in ("zh", "en"):
        for width in (390, 1366):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live.url}/leasing/quote?lang={lang}")
            page.fill("input[name=cost]", "2400000")
            page.fill("input[name=down_payment]", "2400000")
            page.fill("input[name=start]", "2027-01-01")
            page.fill("input[name=annual_rate]", "abc")
            page.click("#price")
            page.wait_for_selector("[data-field=annual_rate].field-error")
            assert page.inner_text("[data-field=annual_rate].field-error") == said[lang][0]
            page.fill("input[name=annual_rate]", "6.2")
            page.click("#price")
            page.wait_for_selector("[data-field=down_payment].field-error")
            assert page.inner_text("[data-field=down_payment].field-error") == said[lang][1]
            full_page_shot(page, shots / f"lessor--leasing-quote-error--{width}--{lang}.png")
    page.fill("input[name=down_payment]", "300000.00")
    page.fill("input[name=start]", "2027-01-01")
    page.select_option("select[name=method]", "seasonal")
    page.fill("input[name=profile]", "1.5, 1.5, 1, 1, 1, 0.5")
    page.click("#price")
    page.wait_for_selector("#quote-schedule")
    form = page.locator("#contract-form")
    form.locator("input[name=reference]").fill("E2E-Q-1")
    form.locator("input[name=lessee_name]").fill("常州精工机械有限公司")
    form.locator("input[name=lessee_credit_code]").fill(contract()["lessee_credit_code"])
    form.locator("input[name=vendor_name]").fill("苏州数控设备厂")
    form.locator("input[name=site_name]").fill("Changzhou plant 2")
    form.locator("input[name=asset_asset_type]").first.fill("laser_cutter")
    form.locator("input[name=asset_cost]").first.fill("2400000")
    form.locator("input[name=asset_location]").first.fill("plant 2")
    page.click("#create-contract")
    page.wait_for_selector("#stage")
    assert "E2E-Q-1" in page.content() and "/leasing/contracts/" in page.url
