"""The farmer records farm steps on a 390 px phone: the form shows the fields of the chosen
step, a saved step is an EPCIS event anchored on the ledger, and a step recorded with no
connection is kept on the phone and sent with its original time once back online."""

from typing import Any

import httpx
import pytest

from tests.conftest import DEMO_PASSWORDS, browser_login

pytestmark = pytest.mark.e2e
HTTP = httpx.Client(timeout=120)  # the shared machine can be slow; no timing asserted
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def _events(base: str, step: str) -> list[dict[str, Any]]:
    token = HTTP.post(
        f"{base}/api/v1/auth/token",
        data={"username": "farmer", "password": DEMO_PASSWORDS["farmer"]},
    ).json()["access_token"]
    r = HTTP.get(
        f"{base}/epcis/events",
        params={"EQ_bizStep": f"https://voc.anxin.cn/trace/{step}"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return events


def test_the_farmer_records_steps_on_a_phone_even_offline(live_server: Any, page: Any) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 390, "height": 844})
    browser_login(page, base, "farmer")
    page.wait_for_url(f"{base}/")
    page.click('a[href="/trace/capture"]')
    # Only the chosen step's fields show: the product for fertilising, not the harvest weight.
    page.select_option("#step", "fertilising")
    assert page.is_visible("input[name=product]")
    assert not page.is_visible("input[name=harvest_kg]")
    page.fill("input[name=product]", "羊粪有机肥")
    page.check("input[name=organic]")
    page.fill("input[name=input_kg]", "80")
    page.fill("input[name=when]", "2026-08-02T06:45")
    page.click("#capture-form button[type=submit]")
    page.wait_for_selector('#capture-saved[data-created="true"]')
    assert "账本序号" in page.inner_text("#capture-saved")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    (fertilised,) = [
        e for e in _events(base, "fertilising") if e["eventTime"].startswith("2026-08-02")
    ]
    assert fertilised["anxin:input"] == {"product": "羊粪有机肥", "organic": True, "quantity": 80.0}

    # In the field with no signal: the step is kept on the phone, nothing reaches the server.
    page.context.set_offline(True)
    page.select_option("#step", "irrigating")
    assert not page.is_visible("input[name=product]")
    page.fill("input[name=when]", "2026-08-03T18:10")
    page.check("input[name=rain]")
    page.click("#capture-form button[type=submit]")
    page.wait_for_selector('#capture-queue[data-queued="1"]')
    assert not [e for e in _events(base, "irrigating") if e["eventTime"].startswith("2026-08-03")]
    # Back online: the phone sends it, with the time the farmer gave, not the time it was sent.
    page.context.set_offline(False)
    page.wait_for_selector('#capture-queue[data-queued="0"]', state="attached")
    (irrigated,) = [
        e for e in _events(base, "irrigating") if e["eventTime"].startswith("2026-08-03")
    ]
    assert irrigated["eventTime"] == "2026-08-03T18:10:00+08:00"
    assert irrigated["anxin:weather"] == "rain"

    # Both are on the farm's page, at phone width without sideways scrolling.
    page.goto(f"{base}/trace/farm")
    assert page.locator('tr[data-step="irrigating"]').count() == 3  # two logged rainy days + 1
    assert "羊粪有机肥" in page.inner_text(".trace-events")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
