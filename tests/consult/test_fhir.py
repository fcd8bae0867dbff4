"""The FHIR R4 export of the demo elder validates with `fhir.resources`, round-trips, and every
reference inside it resolves within the bundle."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from anxin.core.clock import FrozenClock
from anxin.demo.seed import DemoInfo
from tests.consult.conftest import API, post_reading

Headers = Callable[[str], dict[str, str]]


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference":
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def test_the_demo_elders_bundle_validates_round_trips_and_resolves(
    client: TestClient, demo: DemoInfo, as_user: Headers, demo_devices: dict[str, tuple[str, str]],
    clock: FrozenClock,
) -> None:  # fmt: skip
    _, mat = demo_devices["sleep_mat"]
    post_reading(
        client, mat, {"in_bed": True, "heart_rate": 62, "respiration_rate": 15}, clock, "v"
    )
    doctor = as_user("doctor")
    r = client.get(f"{API}/elders/{demo.elder_id}/fhir", headers=doctor)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/fhir+json"
    assert "attachment" in r.headers["content-disposition"]

    bundle = Bundle.model_validate_json(r.content)  # the library's validation
    again = Bundle.model_validate_json(bundle.model_dump_json())
    assert again.model_dump() == bundle.model_dump()

    data = json.loads(r.content)
    assert data["type"] == "collection"
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in data["entry"]:
        by_type.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    assert set(by_type) == {"Patient", "Practitioner", "Encounter", "Observation", "Condition",
                            "AllergyIntolerance", "MedicationRequest", "Communication"}  # fmt: skip
    [patient] = by_type["Patient"]
    assert patient["id"] == demo.elder_id and patient["gender"] == "female"
    codes = {o["code"]["coding"][0]["code"]: o["valueQuantity"]["value"]
             for o in by_type["Observation"]}  # fmt: skip
    assert codes == {"8867-4": 62, "9279-1": 15}
    assert [a["code"]["text"] for a in by_type["AllergyIntolerance"]] == ["青霉素 penicillin"]
    [rx] = by_type["MedicationRequest"]
    assert rx["medicationCodeableConcept"]["text"] == "阿托伐他汀 atorvastatin 20 mg"
    assert rx["dosageInstruction"][0]["timing"]["repeat"]["timeOfDay"] == ["21:00:00"]
    assert [e["status"] for e in by_type["Encounter"]] == ["in-progress"]
    assert len(by_type["Communication"]) == 2
    full_urls = {entry["fullUrl"] for entry in data["entry"]}
    assert set(_references(data)) <= full_urls  # nothing points outside the bundle


def test_only_those_who_see_the_elder_export_and_a_broken_resource_is_refused(
    client: TestClient, demo: DemoInfo, as_user: Headers
) -> None:
    assert (
        client.get(f"{API}/elders/{demo.elder_id}/fhir", headers=as_user("son")).status_code == 200
    )
    for outsider in ("neighbour-family", "admin", "bank"):
        r = client.get(f"{API}/elders/{demo.elder_id}/fhir", headers=as_user(outsider))
        assert r.status_code == 404, outsider
    # The validation is real: a MedicationRequest without its required intent is refused.
    with pytest.raises(ValidationError):
        Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "MedicationRequest", "status": "active",
                          "subject": {"reference": "Patient/x"},
                          "medicationCodeableConcept": {"text": "x"}}}]})  # fmt: skip
