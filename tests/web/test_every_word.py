"""Every console page renders in Chinese and in English without a label the catalogue does not
know, and the Chinese pages show no English enum values."""

import re

import pytest

from tests.conftest import DEMO_PASSWORDS
from tests.web.test_console import _fall

# Enum values as they were shown before they went through the labels.
RAW = re.compile(
    r">\s*(raised|acknowledged|resolved|major|critical|minor|sms|voice|pending|sent"
    r"|delivered|home|away|night|butler|family|admin|scf_officer|active)\s*<"
)


def _pages(demo, alarm_id):
    pledge = demo.collateral.pledge_id
    return {
        "butler": [
            "/",
            "/console/alarms",
            "/console/alarms/rows",
            f"/console/alarms/{alarm_id}",
            "/console/outbox",
            f"/console/elders/{demo.elder_id}",
            "/services/board",
            "/services/supervision",
            "/console/collateral",
        ],  # the last one refused: an error page
        "son": [
            "/",
            "/family",
            "/family/cards",
            f"/console/elders/{demo.elder_id}",
            "/services",
            "/console/alarms",
            "/consult",
            f"/consult/{demo.consultation_id}",
            # the public trace page of a bag of the cooperative's rice (issue 20)
            f"/01/{demo.trace.gtin}/10/{demo.trace.lot}/21/{demo.trace.serial}",
            "/ltc/me",  # no long-term care case: how to apply
        ],
        "doctor": [
            "/consult",
            f"/consult/{demo.consultation_id}",
            f"/consult/{demo.consultation_id}/thread",
        ],
        "worker": ["/", "/services/day", "/services/board"],  # the last one refused
        "bank": [
            "/",
            "/console/collateral",
            "/console/collateral/parts/overview",
            f"/console/collateral/pledges/{pledge}",
            f"/console/collateral/pledges/{pledge}/live",
        ],
        # the lending desk (issue 15): the demo's application at review, its queue and parts
        "lender": [
            "/",
            "/lending",
            "/lending?stage=review",
            "/lending/parts/queue",
            f"/lending/applications/{demo.loan_application_id}",
            "/lending/portfolio",
        ],
        "lending-qc": [
            "/lending",
            f"/lending/applications/{demo.loan_application_id}",
            "/lending/portfolio",
        ],
        "trader": ["/", "/lending/my"],
        "admin": [
            "/",
            "/life/illustration",
            "/life/illustration?issue_age=40&sex=F&pay_term=10&sum_assured=100000",
            "/life/illustration?issue_age=40&sex=F&pay_term=10",
        ],  # an input error
        "lessor": [
            "/leasing",
            f"/leasing/contracts/{demo.leasing.contract_id}",
            "/leasing/quote",
            "/leasing/quote?cost=3000000&periods=36&annual_rate=5.95&start=2026-12-01"
            "&method=stepped&profile=1,1.5&vat=on",
            "/leasing/quote?cost=3000000&periods=0&annual_rate=x&start=2026-12-01",
        ],  # the last one an input error
        "machinery": ["/leasing/statement"],
        # the cooperative's farmer, brand and insurer (issue 20)
        "farmer": ["/trace/farm", "/trace/capture"],
        "insurer": ["/trace/insurance"],
        # the market (issue 21): the cooperative's listing form, the supermarket's buyer
        "coop": ["/trace/brand", "/trace/insurance", "/market", "/market/listings/new"],
        "buyer": ["/market", "/market/orders"],
        # Nantong's long-term care insurance (issue 17)
        "ltc-elder": ["/ltc/me"],
        "ltc-family": ["/ltc/me"],
        "caregiver": ["/ltc/visits"],
        "assessor": ["/ltc/assess", "/ltc/supervision", "/ltc/settlements"],
        "ltc-supervisor": [
            "/ltc/supervision",
            "/ltc/supervision?month=2026-13",
            "/ltc/settlements",
            "/ltc/settlements?month=2026-13",  # an input error, on the page itself
        ],
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_in_both_languages_knows_every_word(client, demo, demo_devices, app, lang):
    _fall(client, demo_devices)
    client.post("/login", data={"username": "butler", "password": DEMO_PASSWORDS["butler"]})
    alarm_id = re.search(r'data-alarm-id="([^"]+)"', client.get("/console/alarms/rows").text)[1]
    catalog = app.state.console.catalog
    for username, paths in _pages(demo, alarm_id).items():
        client.post("/logout")
        client.post("/login", data={"username": username, "password": DEMO_PASSWORDS[username]})
        for path in paths:
            sep = "&" if "?" in path else "?"
            response = client.get(f"{path}{sep}lang={lang}")
            assert response.status_code in (200, 403, 422), (path, response.status_code)
            assert catalog.unknown == set(), (path, catalog.unknown)
            if lang == "zh":
                assert not RAW.search(response.text), (path, RAW.search(response.text))
    client.post("/logout")
    assert client.get(f"/login?lang={lang}").status_code == 200
    assert catalog.unknown == set()


def test_an_error_page_speaks_the_pages_language(client, demo):
    client.post("/login", data={"username": "son", "password": DEMO_PASSWORDS["son"]})
    zh = client.get("/console/alarms?lang=zh")
    assert zh.status_code == 403 and "您无权打开此页面" in zh.text
    en = client.get("/console/collateral?lang=en")
    assert en.status_code == 403 and "You may not open this page" in en.text
    missing = client.get("/console/elders/no-such-elder?lang=zh")
    assert missing.status_code == 404 and "找不到该页面或记录" in missing.text
    # the API keeps its JSON
    api = client.get("/api/v1/elders/no-such-elder", headers={"Accept": "text/html"})
    assert api.headers["content-type"].startswith("application/json")
