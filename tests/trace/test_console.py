"""The trace console: the farmer's farm and phone capture form, the brand's products, scans
and counterfeit alarms, the insurer's policies and claims with their evidence — each for its
own role, in both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import console_login


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_farmer_sees_their_farm_with_its_season_and_records(
    client: Any, demo: Any, app: Any, lang: str
) -> None:
    console_login(client, "farmer")
    page = client.get(f"/trace/farm?lang={lang}")
    assert page.status_code == 200, page.text
    html = page.text
    assert f'data-farm-id="{demo.trace.farm_id}"' in html
    assert demo.trace.grove_id not in html  # the olive farmer's grove is not theirs
    assert html.count('data-step="') == 8  # the season: transplanting to packing
    assert 'data-step="harvesting"' in html and "4600 KGM" in html
    assert 'id="season-chart"' in html and "markLine" in html
    assert app.state.console.catalog.unknown == set()
    steps = ("插秧", "施肥") if lang == "zh" else ("Transplanting", "Fertilising")
    assert all(s in html for s in steps)
    assert 'href="/trace/capture"' in html


def test_the_olive_farmer_sees_only_the_grove(client: Any, demo: Any) -> None:
    console_login(client, "olive-farmer")
    html = client.get("/trace/farm").text
    assert f'data-farm-id="{demo.trace.grove_id}"' in html
    assert demo.trace.farm_id not in html and 'data-step="harvesting"' not in html


def _form(client: Any) -> dict[str, str]:
    html = client.get("/trace/capture").text
    plot = re.search(r'name="plot_id"[^>]*>\s*<option value="([^"]+)"', html)
    lot = re.search(r'name="lot_id">\s*<option value="">—</option>\s*<option value="([^"]+)"', html)
    assert plot and lot, html
    return {"plot_id": plot[1], "lot_id": lot[1]}


def test_a_farm_step_from_the_phone_form_becomes_an_anchored_epcis_event(
    client: Any, demo: Any, as_user: Any
) -> None:
    console_login(client, "farmer")
    ids = _form(client)
    sent = {
        "step": "fertilising",
        "plot_id": ids["plot_id"],
        "when": "2026-08-01T07:30",
        "product": "羊粪有机肥 goat manure",
        "organic": "on",
        "input_kg": "150",
    }
    r = client.post("/trace/capture", data=sent)
    assert r.status_code == 201, r.text
    saved = re.search(r'data-event-id="([^"]+)"', r.text)
    assert saved is not None
    event_id = saved[1]
    assert 'data-created="true"' in r.text
    again = client.post("/trace/capture", data=sent)  # the same step sent twice: one event
    assert again.status_code == 200 and 'data-created="false"' in again.text
    # The event is in EPCIS, as a farm step of the farmer's plot, with the input and its flag.
    farmer = as_user("farmer")
    found = client.get("/epcis/events", headers=farmer, params={"EQ_eventID": event_id}).json()
    (event,) = found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["bizStep"] == "anxin:fertilising"
    assert event["anxin:input"] == {
        "product": "羊粪有机肥 goat manure",
        "organic": True,
        "quantity": 150.0,
    }
    assert event["eventTime"] == "2026-08-01T07:30:00+08:00"
    anchor = client.get("/api/v1/trace/anchors", headers=farmer, params={"eventID": event_id})
    assert anchor.status_code == 200 and anchor.json()["ledgerSeq"] is not None
    # A harvest names its lot and weight; it then counts on the lot (its page, its checks).
    harvest = client.post(
        "/trace/capture",
        data={
            "step": "harvesting",
            "plot_id": ids["plot_id"],
            "when": "2026-10-11T09:00",
            "lot_id": ids["lot_id"],
            "harvest_kg": "120.5",
            "rain": "on",
        },
    )
    assert harvest.status_code == 201, harvest.text
    farm = client.get("/trace/farm?lang=en").text
    assert "120.5 KGM" in farm and "goat manure" in farm


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"step": "dancing"}, "step"),
        ({"step": "fertilising"}, "product"),  # no product named
        ({"step": "harvesting"}, "lot_id"),  # a harvest without its lot
        ({"step": "harvesting", "lot": True, "harvest_kg": "-3"}, "harvest_kg"),
        ({"step": "spraying", "product": "x", "input_kg": "lots"}, "input_kg"),
        ({"step": "irrigating", "when": "yesterday"}, "when"),
        ({"step": "irrigating", "plot_id": "not-mine"}, "plot_id"),
    ],
)
def test_a_bad_farm_step_is_refused_with_the_field(
    client: Any, demo: Any, data: dict[str, Any], field: str
) -> None:
    console_login(client, "farmer")
    ids = _form(client)
    body = {"plot_id": ids["plot_id"], "when": "2026-08-01T07:30", **data}
    if body.pop("lot", False):
        body["lot_id"] = ids["lot_id"]
    r = client.post("/trace/capture", data=body)
    assert r.status_code == 422, r.text
    assert field in r.text


def test_the_olive_farmer_cannot_record_on_the_rice_plot(client: Any, demo: Any) -> None:
    console_login(client, "farmer")
    rice_plot = _form(client)["plot_id"]
    client.post("/logout")
    console_login(client, "olive-farmer")
    r = client.post(
        "/trace/capture",
        data={"step": "irrigating", "plot_id": rice_plot, "when": "2026-08-01T07:30"},
    )
    assert r.status_code == 422 and "plot_id" in r.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_brand_sees_serials_scans_and_the_counterfeit_alarm(
    client: Any, demo: Any, context: Any, app: Any, lang: str
) -> None:
    from anxin.demo.trace import counterfeit_sighting

    with context.unit(actor="test:beijing") as uow:
        counterfeit_sighting(uow)
    console_login(client, "coop")
    page = client.get(f"/trace/brand?lang={lang}")
    assert page.status_code == 200, page.text
    html = page.text
    assert f'data-lot-id="{demo.trace.lot_id}"' in html and 'data-issued="100"' in html
    assert 'data-alarm-type="trace_impossible_travel"' in html
    assert html.count('data-verdict="suspect"') == 1 and 'data-verdict="genuine"' in html
    assert 'id="scan-map"' in html
    assert app.state.console.catalog.unknown == set()


def test_the_insurer_decides_and_settles_a_claim_from_its_evidence(
    client: Any, demo: Any, context: Any
) -> None:
    from anxin.demo.trace import counterfeit_sighting

    with context.unit(actor="test:beijing") as uow:
        counterfeit_sighting(uow)
    console_login(client, "insurer")
    html = client.get("/trace/insurance?lang=en").text
    claim = f'id="claim-{demo.trace.claim_id}" data-status="open"'
    assert claim in html and html.count('data-policy-id="') == 2
    # Before the decision: the evidence it will cite, each event with its anchor salt.
    assert html.count('data-kind="epcis_event"') == 8
    assert re.search(r"<code>[0-9a-f]{32}</code>", html)
    decided = client.post(f"/trace/insurance/claims/{demo.trace.claim_id}/decision")
    assert decided.status_code == 200, decided.text  # the redirect, followed
    assert f'id="claim-{demo.trace.claim_id}" data-status="approved"' in decided.text
    assert 'data-kind="scan_anomaly"' in decided.text
    assert re.search(r'class="amount">2,000.00<', decided.text)
    settled = client.post(f"/trace/insurance/claims/{demo.trace.claim_id}/settlement")
    assert f'id="claim-{demo.trace.claim_id}" data-status="settled"' in settled.text
    again = client.post(f"/trace/insurance/claims/{demo.trace.claim_id}/decision")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("farmer", "/trace/brand"),
        ("farmer", "/trace/insurance"),
        ("insurer", "/trace/capture"),
        ("coop", "/trace/capture"),
        ("son", "/trace/farm"),
    ],
)
def test_each_trace_page_is_only_its_roles(
    client: Any, demo: Any, username: str, path: str
) -> None:
    console_login(client, username)
    assert client.get(path).status_code in (403, 404)


def test_pages_send_a_visitor_without_a_session_to_log_in(client: Any, demo: Any) -> None:
    for path in ("/trace/farm", "/trace/capture", "/trace/brand", "/trace/insurance"):
        r = client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/login")
    r = client.post("/trace/capture", data={"step": "irrigating"}, follow_redirects=False)
    assert r.status_code == 303
