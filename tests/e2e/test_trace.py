"""A consumer scans a bag of the cooperative's rice on a phone: the public page shows its life
and checks its ledger proof in the browser; a copy of the code scanned 1,070 km away an hour
later raises the brand's alarm, and the consumer's report is settled as an authenticity claim
from its evidence."""

from datetime import timedelta

import httpx
import pytest

from tests.conftest import DEMO_PASSWORDS

pytestmark = pytest.mark.e2e
# The shared test machine can be slow to answer: a generous timeout, no timing asserted.
HTTP = httpx.Client(timeout=120)


def _token(base: str, username: str) -> dict[str, str]:
    r = HTTP.post(
        f"{base}/api/v1/auth/token",
        data={"username": username, "password": DEMO_PASSWORDS[username]},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_scan_public_page_proof_counterfeit_alarm_and_claim(live_server, page):
    base, t = live_server.url, live_server.demo.trace
    coop = _token(base, "coop")
    assert HTTP.post(f"{base}/api/v1/ledger/checkpoints", headers=coop).status_code == 201
    code = HTTP.get(f"{base}/api/v1/trace/lots/{t.lot_id}/units/3/code", headers=coop).json()
    assert code["link"].startswith(f"{base}/01/{t.gtin}/10/{t.lot}/21/3?s=")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(code["link"])
    page.wait_for_selector('#proof-status[data-verified="true"]')
    assert page.get_attribute("#code-status", "data-code") == "valid"
    steps = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.step)")
    assert steps[0] == "transplanting" and "harvesting" in steps and steps[-1] == "packing"
    assert page.locator("#timeline li").first.inner_text().startswith("插秧")
    assert int(page.inner_text("#rainy-days")) > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    page.click("#language")
    page.wait_for_selector('#proof-status[data-verified="true"]')
    assert "Verified" in page.inner_text("#proof-status")

    # The same code, copied onto a fake bag, scanned in Shanghai and an hour later in Beijing.
    scan = {"gtin": t.gtin, "serial": "3"}
    first = HTTP.post(f"{base}/api/v1/trace/scans", json={**scan, "lat": 31.23, "lon": 121.47})
    assert first.json()["verdict"] == "genuine"
    live_server.clock.advance(timedelta(hours=1))
    second = HTTP.post(f"{base}/api/v1/trace/scans", json={**scan, "lat": 39.9, "lon": 116.4})
    assert [f["code"] for f in second.json()["findings"]] == ["impossible_travel"]
    coop = _token(base, "coop")
    alarms = HTTP.get(f"{base}/api/v1/alarms", headers=coop).json()
    travel = [a for a in alarms if a["alarm_type"] == "trace_impossible_travel"]
    assert travel, alarms

    # The consumer reports the bag from the page; the insurer settles it on the evidence.
    page.fill("#report-text", "seal looks reglued")
    page.click("#report-form button[type=submit]")
    page.wait_for_function("document.getElementById('report-result').textContent.length > 10")
    case = page.inner_text("#report-result").split()[-1]
    insurer = _token(base, "insurer")
    decided = HTTP.post(f"{base}/api/v1/trace/claims/{case}/decision", headers=insurer).json()
    assert decided["status"] == "approved", decided
    kinds = {e["kind"] for e in decided["decision"]["evidence"]}
    assert kinds == {"epcis_event", "scan_anomaly"}
    settled = HTTP.post(f"{base}/api/v1/trace/claims/{case}/settlement", headers=insurer)
    assert settled.json()["status"] == "settled"
