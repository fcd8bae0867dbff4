"""The Jinshan cooperative's demo: its season tells the story the issue asks for."""

from __future__ import annotations

from typing import Any

from anxin.demo.seed import seed_demo
from anxin.demo.trace import counterfeit_sighting
from tests.conftest import DEMO_PASSWORDS, login

GOAT = "urn:epc:id:giai:6970001.GOAT-2026-001"


def test_the_cooperatives_season_is_seeded_once_with_its_counterfeit(
    client: Any, demo: Any, context: Any
) -> None:
    t = demo.trace
    with context.unit(actor="test:seed") as uow:
        again = seed_demo(uow=uow).trace
    assert (again.lot_id, again.claim_id) == (t.lot_id, t.claim_id)
    coop = login(client, "coop", DEMO_PASSWORDS["coop"]).headers
    checks = client.get(f"/api/v1/trace/lots/{t.lot_id}/checks", headers=coop).json()
    outcomes = {(c["code"], c["outcome"]) for c in checks}
    assert ("rainy_day", "pass") in outcomes and ("organic", "pass") in outcomes
    assert not [c for c in checks if c["outcome"] == "fail"]
    assert client.get("/api/v1/alarms", headers=coop).json() == []  # the seed raises none
    with context.unit(actor="system:demo") as uow:
        counterfeit_sighting(uow)  # what `anxin demo` adds
    alarms = client.get("/api/v1/alarms", headers=coop).json()
    assert "trace_impossible_travel" in {a["alarm_type"] for a in alarms}
    claim = client.get(f"/api/v1/trace/claims/{t.claim_id}", headers=coop).json()
    assert (claim["status"], claim["serial"]) == ("open", t.counterfeit_serial)
    # Each farmer sees their own farm only.
    farmer = login(client, "farmer", DEMO_PASSWORDS["farmer"]).headers
    olive = login(client, "olive-farmer", DEMO_PASSWORDS["olive-farmer"]).headers
    assert [f["id"] for f in client.get("/api/v1/trace/farms", headers=farmer).json()] == [
        t.farm_id
    ]
    assert [f["id"] for f in client.get("/api/v1/trace/farms", headers=olive).json()] == [
        t.grove_id
    ]
    assert client.get(f"/api/v1/trace/lots/{t.lot_id}", headers=olive).status_code == 404
    # The goats are traced the same way: the pasture, its plot and its events, its farmer's.
    goat = login(client, "goat-farmer", DEMO_PASSWORDS["goat-farmer"]).headers
    (pasture,) = client.get("/api/v1/trace/farms", headers=goat).json()
    assert pasture["id"] == t.goat_farm_id
    (meadow,) = client.get(f"/api/v1/trace/farms/{t.goat_farm_id}/plots", headers=goat).json()
    assert meadow["crop"] == "goat"
    tagged = client.get(
        "/epcis/events", headers=goat, params={"MATCH_epc": "urn:epc:id:giai:6970001.GOAT-2026-002"}
    ).json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["bizStep"] for e in tagged] == ["commissioning", "inspecting"]
    assert all(e["eventID"].startswith("ni:///sha-256;") for e in tagged)
    assert (
        client.get("/epcis/events", headers=farmer, params={"MATCH_epc": GOAT}).json()["epcisBody"][
            "queryResults"
        ]["resultsBody"]["eventList"]
        == []
    )
    page = client.get(f"/01/{t.gtin}/10/{t.lot}/21/{t.serial}?lang=en")
    assert page.status_code == 200 and "Transplanting" in page.text
