"""EPCIS capture and query through the REST bindings: a captured document comes back with the
same events and CBV event hashes, every standard query parameter filters, pages are complete,
each event is anchored in the ledger, and a farmer sees and writes only their own farm."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from anxin.core.security import Role
from anxin.ledger.models import LedgerEntry
from anxin.ledger.runtime import ledger_keys
from anxin.ledger.verify import Bundle, verify_bundle
from anxin.people.schemas import UserCreate
from anxin.people.service import create_user
from anxin.trace.eventhash import event_hash
from tests.conftest import login
from tests.trace import documents as d

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[121.2, 30.8], [121.21, 30.8], [121.21, 30.81], [121.2, 30.8]]],
}


@pytest.fixture
def farm(client: Any, demo: Any, context: Any, as_user: Any) -> dict[str, Any]:
    with context.unit(actor="test:seed") as uow:
        farmer = create_user(
            session=uow.session,
            organisation_id=demo.organisation_id,
            data=UserCreate(
                username="farmer-li", display_name="Li", role=Role.FARMER, password="farmer-li-pass"
            ),
            now=uow.now(),
        )
        other = create_user(
            session=uow.session,
            organisation_id=demo.organisation_id,
            data=UserCreate(
                username="farmer-wu", display_name="Wu", role=Role.FARMER, password="farmer-wu-pass"
            ),
            now=uow.now(),
        )
        ids = (farmer.id, other.id)
    admin = as_user("admin")
    made = client.post(
        "/api/v1/trace/farms",
        headers=admin,
        json={
            "code": "JS01",
            "name": "Jinshan rice cooperative",
            "location": d.FARM,
            "farmer_user_id": ids[0],
        },
    )
    assert made.status_code == 201, made.text
    elsewhere = client.post(
        "/api/v1/trace/farms",
        headers=admin,
        json={
            "code": "WU01",
            "name": "Wu's olive grove",
            "location": "urn:epc:id:sgln:6901234.00009.0",
            "farmer_user_id": ids[1],
        },
    )
    assert elsewhere.status_code == 201, elsewhere.text
    li = login(client, "farmer-li", "farmer-li-pass").headers
    plot = client.post(
        f"/api/v1/trace/farms/{made.json()['id']}/plots",
        headers=li,
        json={
            "code": "P12",
            "location": d.PLOT,
            "crop": "rice",
            "area_m2": "6670.0",
            "boundary": SQUARE,
        },
    )
    assert plot.status_code == 201, plot.text
    return {
        "admin": admin,
        "li": li,
        "wu": login(client, "farmer-wu", "farmer-wu-pass").headers,
        "farm": made.json(),
        "other": elsewhere.json(),
    }


def _events(client: Any, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = client.get("/epcis/events", headers=headers, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "EPCISQueryDocument"
    return list(body["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def test_capture_then_query_back_the_same_events_and_hashes(client: Any, farm: Any) -> None:
    doc = d.document()
    r = client.post("/epcis/capture", headers=farm["admin"], json=doc)
    assert r.status_code == 202, r.text
    job = client.get(r.headers["Location"], headers=farm["admin"]).json()
    assert (job["running"], job["success"], job["captured"], job["errors"]) == (False, True, 7, [])
    expected = {event_hash(e, context=doc["@context"]) for e in d.ALL}
    got = _events(client, farm["admin"], perPage=100)
    assert {e["eventID"] for e in got} == expected
    # Each returned event hashes to its own id again, and every one is in the ledger.
    for e in got:
        assert event_hash(e, context=d.CONTEXT) == e["eventID"]
    seqs = {e["eventID"]: e for e in got}
    assert len(seqs) == 7
    again = client.post("/epcis/capture", headers=farm["admin"], json=doc).json()
    assert (again["captured"], again["duplicates"]) == (0, 7)


def _ledger_entries(client: Any, headers: dict[str, str], payload: str) -> list[int]:
    r = client.get("/api/v1/ledger/entries", headers=headers, params={"payload_sha256": payload})
    assert r.status_code == 200, r.text
    return [e["seq"] for e in r.json()]


def test_an_event_and_its_salt_verify_its_ledger_entry_and_a_guess_finds_nothing(
    client: Any, farm: Any, context: Any
) -> None:
    r = client.post(
        "/epcis/events", headers=farm["admin"], json={**d.OBJECT, "@context": d.CONTEXT}
    )
    assert r.status_code == 201, r.text
    accepted = r.json()
    seq, salt = accepted["ledgerSeq"], accepted["anchorSalt"]
    assert seq is not None and re.fullmatch(r"[0-9a-f]{32}", salt)
    # The holder of the event and its salt recomputes the anchor, finds the entry and checks
    # its inclusion proof under a signed checkpoint.
    digest = accepted["eventID"].split(";", 1)[1].split("?", 1)[0]
    anchor = hashlib.sha256(bytes.fromhex(salt) + bytes.fromhex(digest)).hexdigest()
    assert _ledger_entries(client, farm["admin"], anchor) == [seq]
    assert client.post("/api/v1/ledger/checkpoints", headers=farm["admin"]).status_code == 201
    bundle = client.get(f"/api/v1/ledger/entries/{seq}/bundle", headers=farm["admin"]).json()
    assert json.loads(bundle["leaf"])["payload_sha256"] == anchor
    assert json.loads(bundle["leaf"])["type"] == "trace.epcis_event"
    verdict = verify_bundle(Bundle.from_json(bundle), ledger_keys(context).policy)
    assert verdict.ok, verdict.reason
    # Whoever may read the event gets the same opening later; others get nothing.
    opening = client.get(
        "/api/v1/trace/anchors", headers=farm["li"], params={"eventID": accepted["eventID"]}
    )
    assert opening.status_code == 200, opening.text
    assert opening.json() == {
        "eventID": accepted["eventID"],
        "anchorSalt": salt,
        "payloadSha256": anchor,
        "ledgerSeq": seq,
    }
    wu = client.get(
        "/api/v1/trace/anchors", headers=farm["wu"], params={"eventID": accepted["eventID"]}
    )
    assert wu.status_code == 404
    # The attack: a guesser holding the exact event but not its salt hashes it and asks the
    # ledger. Neither the search nor any leaf anywhere in the log carries that digest.
    assert event_hash(d.OBJECT, context=d.CONTEXT) == accepted["eventID"]
    assert _ledger_entries(client, farm["admin"], digest) == []
    with context.unit(actor="test:attack") as uow:
        leaves = uow.session.scalars(select(LedgerEntry.payload_sha256)).all()
        assert digest not in leaves and anchor in leaves
    same = client.post(
        "/epcis/events", headers=farm["admin"], json={**d.OBJECT, "@context": d.CONTEXT}
    )
    assert (same.status_code, same.json()["created"]) == (200, False)
    assert same.json()["anchorSalt"] == salt  # a repeat is the same event, the same anchor


def test_query_parameters(client: Any, farm: Any) -> None:
    client.post("/epcis/capture", headers=farm["admin"], json=d.document())
    a = farm["admin"]

    def ids(**params: Any) -> set[str]:
        return {e["type"] + ":" + str(e.get("bizStep")) for e in _events(client, a, **params)}

    assert ids(eventType="TransactionEvent") == {"TransactionEvent:shipping"}
    assert len(ids(eventType="ObjectEvent|AggregationEvent")) == 4
    assert ids(EQ_bizStep="https://ref.gs1.org/cbv/BizStep-shipping") == {
        "TransactionEvent:shipping"
    }
    assert ids(EQ_bizStep="https://voc.anxin.cn/trace/packing") == {
        "AggregationEvent:anxin:packing"
    }
    # MATCH_epc covers epcList and childEPCs (EPCIS 2.0 §8.2.7.1)
    assert ids(MATCH_epc=d.BAGS[2]) == {"AggregationEvent:anxin:packing"}
    assert ids(MATCH_epc="urn:epc:id:sscc:6901234.0000000001") == set()
    assert ids(MATCH_anyEPC="urn:epc:id:sscc:6901234.0000000001") == {
        "AggregationEvent:anxin:packing"
    }
    assert ids(MATCH_anyEPC=d.BAGS[0]) == {
        "TransactionEvent:shipping",
        "AggregationEvent:anxin:packing",
    }
    assert ids(MATCH_parentID="urn:epc:id:sscc:6901234.0000000001") == {
        "AggregationEvent:anxin:packing"
    }
    assert ids(MATCH_outputEPC=d.RICE) == set()  # an output class is not an instance
    assert "TransformationEvent:anxin:milling" in ids(MATCH_anyEPCClass=d.RICE)
    assert len(ids(MATCH_epcClass=d.RICE)) == 3
    assert ids(MATCH_outputEPCClass=d.RICE) == {"TransformationEvent:anxin:milling"}
    assert ids(MATCH_inputEPCClass=d.RICE) == set()
    assert len(ids(EQ_bizLocation=d.FARM)) == 4
    assert len(ids(EQ_readPoint=d.PLOT)) == 3
    assert ids(GE_eventTime="2026-10-21T00:00:00+08:00") == {"TransactionEvent:shipping"}
    assert len(ids(LT_eventTime="2026-06-03T00:00:00+08:00")) == 2
    assert len(ids(EQ_action="ADD")) == 4
    assert ids(EQ_disposition="in_transit") == {"TransactionEvent:shipping"}
    bad = client.get("/epcis/events", headers=a, params={"eventType": "PizzaEvent"})
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "query.eventType"
    naive = client.get("/epcis/events", headers=a, params={"GE_eventTime": "2026-01-01T00:00:00"})
    assert naive.status_code == 422


def test_pagination_returns_every_event_once(client: Any, farm: Any) -> None:
    client.post("/epcis/capture", headers=farm["admin"], json=d.document())
    seen: list[str] = []
    params: dict[str, Any] = {"perPage": 3}
    for _ in range(5):
        r = client.get("/epcis/events", headers=farm["admin"], params=params)
        seen += [
            e["eventID"] for e in r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        ]
        link = r.headers.get("Link")
        if not link:
            break
        token = link.split("nextPageToken=")[1].split("&")[0]
        params = {"perPage": 3, "nextPageToken": token}
    assert len(seen) == len(set(seen)) == 7
    bad = client.get("/epcis/events", headers=farm["admin"], params={"nextPageToken": "@@"})
    assert bad.status_code == 422


def test_an_invalid_document_is_refused_with_every_path(client: Any, farm: Any) -> None:
    broken = copy.deepcopy(d.TRANSACTION)
    broken["action"] = "SELL"
    del broken["eventTimeZoneOffset"]
    r = client.post("/epcis/capture", headers=farm["admin"], json=d.document(d.OBJECT, broken))
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["fields"]}
    assert fields == {
        "$.epcisBody.eventList[1].action",
        "$.epcisBody.eventList[1].eventTimeZoneOffset",
    }
    assert _events(client, farm["admin"]) == []


def test_a_correction_only_by_error_declaration(client: Any, farm: Any) -> None:
    lone = client.post(
        "/epcis/events", headers=farm["admin"], json={**d.CORRECTION, "@context": d.CONTEXT}
    )
    assert lone.status_code == 422
    assert lone.json()["fields"][0]["field"] == "$.errorDeclaration"
    client.post("/epcis/capture", headers=farm["admin"], json=d.document())
    ok = client.post("/epcis/capture", headers=farm["admin"], json=d.document(d.CORRECTION))
    assert ok.status_code == 202, ok.text
    assert ok.json()["captured"] == 0  # the event keeps its id; the declaration is its own fact


def test_a_farmer_sees_and_writes_only_their_own_farm(client: Any, farm: Any) -> None:
    r = client.post("/epcis/capture", headers=farm["li"], json=d.document(d.OBJECT, d.FERTILISING))
    assert r.status_code == 202, r.text
    assert client.get(r.headers["Location"], headers=farm["wu"]).status_code == 404
    assert len(_events(client, farm["li"])) == 2
    assert _events(client, farm["wu"]) == []
    theirs = copy.deepcopy(d.SENSOR)
    theirs["readPoint"] = {"id": "urn:epc:id:sgln:6901234.00009.0"}
    refused = client.post("/epcis/capture", headers=farm["li"], json=d.document(theirs))
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["field"] == "$.epcisBody.eventList[0].bizLocation"
    assert [f["code"] for f in client.get("/api/v1/trace/farms", headers=farm["wu"]).json()] == [
        "WU01"
    ]
    assert (
        client.get(f"/api/v1/trace/farms/{farm['farm']['id']}", headers=farm["wu"]).status_code
        == 404
    )
    assert client.get("/epcis/events", headers={}).status_code == 401
