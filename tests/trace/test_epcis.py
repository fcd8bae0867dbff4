"""EPCIS 2.0 validation: what conforms is accepted, each problem is named by its JSON path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from anxin.trace.epcis import check_document, check_event
from tests.trace import documents as d


def paths(doc: Any) -> dict[str, str]:
    return {p.path: p.reason for p in check_document(doc)}


def test_every_event_type_with_sensors_certification_extensions_conforms() -> None:
    assert check_document(d.document()) == []
    assert check_document(d.document(d.CORRECTION)) == []


def test_a_single_event_with_its_own_context() -> None:
    event = {**copy.deepcopy(d.FERTILISING), "@context": d.CONTEXT}
    assert check_event(event) == []


@pytest.mark.parametrize(
    ("event", "change", "path", "reason"),
    [
        (d.OBJECT, {"action": "MOVE"}, ".action", "not ADD, OBSERVE or DELETE"),
        (d.OBJECT, {"action": None}, ".action", "required"),
        (d.OBJECT, {"eventTime": "2026-05-10T08:00:00"}, ".eventTime", "zone"),
        (d.OBJECT, {"eventTime": None}, ".eventTime", "required"),
        (d.OBJECT, {"eventTimeZoneOffset": "+15:00"}, ".eventTimeZoneOffset", "offset"),
        (d.OBJECT, {"bizStep": "planting"}, ".bizStep", "CBV 2.0"),
        (d.OBJECT, {"disposition": "urn:epcglobal:cbv:disp:eaten"}, ".disposition", "CBV 2.0"),
        (d.OBJECT, {"readPoint": {"id": "not a uri"}}, ".readPoint.id", "EPC"),
        (d.OBJECT, {"colour": "red"}, ".colour", "declared namespace"),
        (d.OBJECT, {"certificationInfo": "cert 42"}, ".certificationInfo", "URI"),
        (d.TRANSACTION, {"epcList": ["urn:epc:id:sgtin:6901234.012345"]}, ".epcList[0]", "EPC"),
        (d.TRANSACTION, {"bizTransactionList": []}, ".bizTransactionList", "required"),
        (d.AGGREGATION, {"parentID": None}, ".parentID", "required when action"),
        (d.ASSOCIATION, {"parentID": None}, ".parentID", "required"),
        (d.TRANSFORMATION, {"outputQuantityList": None}, ".outputEPCList", "output"),
        (
            d.FERTILISING,
            {"anxin:input": {"product": "urea"}},
            ".anxin:input.organic",
            "true or false",
        ),
        (d.FERTILISING, {"anxin:input": None}, ".anxin:input", "product and organic"),
        (
            d.SENSOR,
            {"sensorElementList": [{"sensorReport": []}]},
            ".sensorElementList[0].sensorReport",
            "non-empty",
        ),
    ],
)
def test_each_problem_is_reported_with_its_path(
    event: dict[str, Any], change: dict[str, Any], path: str, reason: str
) -> None:
    bad = copy.deepcopy(event)
    for key, value in change.items():
        if value is None:
            bad.pop(key, None)
        else:
            bad[key] = value
    found = paths(d.document(d.OBJECT, bad))
    key = "$.epcisBody.eventList[1]" + path
    assert key in found, found
    assert reason in found[key]
    assert not any(p.startswith("$.epcisBody.eventList[0]") for p in found)


def test_sensor_report_values_and_units() -> None:
    bad = copy.deepcopy(d.SENSOR)
    report = bad["sensorElementList"][0]["sensorReport"][0]
    report.update(value="hot", uom="degrees")
    found = paths(d.document(bad))
    base = "$.epcisBody.eventList[0].sensorElementList[0].sensorReport[0]"
    assert found[f"{base}.value"] == "not a number"
    assert "unit code" in found[f"{base}.uom"]


def test_error_declaration_needs_its_time_and_a_cbv_reason() -> None:
    bad = copy.deepcopy(d.CORRECTION)
    bad["errorDeclaration"] = {"reason": "oops"}
    found = paths(d.document(bad))
    assert found["$.epcisBody.eventList[0].errorDeclaration.declarationTime"] == "required"
    assert "CBV" in found["$.epcisBody.eventList[0].errorDeclaration.reason"]


def test_document_envelope() -> None:
    doc = d.document()
    doc["@context"] = ["https://example.org/other.jsonld"]
    doc["schemaVersion"] = "1.2"
    del doc["creationDate"]
    found = paths(doc)
    assert {"$.@context", "$.schemaVersion", "$.creationDate"} <= set(found)
    assert paths({"type": "EPCISDocument"})["$.epcisBody.eventList"].startswith("required")
    assert check_document([1])[0].path == "$"


def test_cbv_web_uris_and_urns_are_accepted() -> None:
    event = copy.deepcopy(d.TRANSACTION)
    event["bizStep"] = "https://ref.gs1.org/cbv/BizStep-shipping"
    event["disposition"] = "urn:epcglobal:cbv:disp:in_transit"
    event["bizTransactionList"][0]["type"] = "https://ref.gs1.org/cbv/BTT-po"
    assert check_document(d.document(event)) == []
