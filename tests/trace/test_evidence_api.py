"""Signed package codes and label sheets, the public trace page with its selective disclosure
and proofs, cross-validation against the farm's sensors, and traceability insurance claims
decided on ledger evidence — each through the API, with who may do what."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from anxin.core.security import Principal, Role
from anxin.iot import service as iot
from anxin.iot.models import Reading
from anxin.iot.schemas import DeviceCreate
from anxin.ledger.models import LedgerEntry
from anxin.ledger.runtime import ledger_keys
from anxin.ledger.verify import Bundle, verify_bundle
from anxin.trace import crosscheck, disclosure, eventhash, insurance, labels
from anxin.trace.models import Lot, Product
from tests.conftest import DEMO_PASSWORDS, TEST_SECRET, login
from tests.trace import documents as d
from tests.trace.test_trace_api import farm  # noqa: F401 - the fixture

GTIN = "06901234000023"  # company 6901234, item 00002, check digit 3
JST = "+08:00"


def _event(day: str, step: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": f"{day}T08:00:00{JST}",
        "eventTimeZoneOffset": JST,
        "action": "OBSERVE",
        "bizStep": f"anxin:{step}",
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:6901234.000002.JS26B"}],
        "readPoint": {"id": d.PLOT},
        "bizLocation": {"id": d.FARM},
        **extra,
    }


SEASON = [
    _event(
        "2026-05-10",
        "transplanting",
        action="ADD",
        certificationInfo="https://certs.example.org/org/42",
        ilmd={"anxin:variety": "Songzao 618"},
    ),
    _event(
        "2026-06-02",
        "fertilising",
        **{"anxin:input": {"product": "rapeseed cake", "organic": True, "quantity": 300}},
    ),
    _event("2026-06-10", "irrigating", **{"anxin:weather": "rain"}),
    _event("2026-06-20", "irrigating", **{"anxin:weather": "rain"}),  # the station saw none
    {
        **_event("2026-10-08", "harvesting"),
        "quantityList": [
            {"epcClass": "urn:epc:class:lgtin:6901234.000002.JS26B", "quantity": 5000, "uom": "KGM"}
        ],
    },
]


@pytest.fixture
def lot(client: Any, farm: Any, context: Any, demo: Any) -> dict[str, Any]:  # noqa: F811
    admin = farm["admin"]
    product = client.post(
        "/api/v1/trace/products",
        headers=admin,
        json={"gtin": GTIN, "name_zh": "金山大米", "name_en": "Jinshan rice"},
    )
    assert product.status_code == 201, product.text
    plot = client.get(f"/api/v1/trace/farms/{farm['farm']['id']}/plots", headers=admin).json()[0]
    made = client.post(
        "/api/v1/trace/lots",
        headers=admin,
        json={
            "product_id": product.json()["id"],
            "farm_id": farm["farm"]["id"],
            "plot_id": plot["id"],
            "code": "JS26B",
        },
    )
    assert made.status_code == 201, made.text
    issued = client.post(
        f"/api/v1/trace/lots/{made.json()['id']}/units",
        headers=admin,
        json={"count": 30, "printed": False},
    )
    assert issued.status_code == 201, issued.text
    captured = client.post("/epcis/capture", headers=farm["li"], json=d.document(*SEASON))
    assert captured.status_code == 202, captured.text
    _sensors(context, demo, farm["farm"]["id"])
    return {**farm, "lot": made.json(), "product": product.json()}


def _sensors(context: Any, demo: Any, farm_id: str) -> None:
    """The farm's weather station (rain on 10 June, none on 20 June) and soil probe (EC rising
    after the fertilising on 2 June)."""
    with context.unit(actor="test:sensors") as uow:
        admin = Principal("test-admin", demo.organisation_id, Role.ADMIN, "admin")
        now = uow.now()
        station, _ = iot.create_device(
            uow=uow,
            principal=admin,
            data=DeviceCreate(
                device_type="weather_station", name="WS", owner_kind="farm", owner_id=farm_id
            ),
            now=now,
        )
        probe, _ = iot.create_device(
            uow=uow,
            principal=admin,
            data=DeviceCreate(
                device_type="soil_probe", name="SP", owner_kind="farm", owner_id=farm_id
            ),
            now=now,
        )

        def local(day: str) -> datetime:
            return datetime.fromisoformat(f"{day}T12:00:00{JST}")

        rows = [
            (station.id, "2026-06-10", {"rainfall_mm": 12.5}),
            (station.id, "2026-06-20", {"rainfall_mm": 0.0}),
            (probe.id, "2026-05-31", {"ec_ds_m": 0.5, "ph": 6.4, "moisture_pct": 40.0}),
            (probe.id, "2026-06-01", {"ec_ds_m": 0.5, "ph": 6.5, "moisture_pct": 41.0}),
            (probe.id, "2026-06-03", {"ec_ds_m": 0.7, "ph": 6.3, "moisture_pct": 45.0}),
        ]
        for i, (device, day, data) in enumerate(rows):
            uow.session.add(Reading(device_id=device, ts=local(day), message_id=f"m{i}", data=data))


def _checkpoint(client: Any, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/ledger/checkpoints", headers=admin)
    assert r.status_code == 201, r.text


# --- signed codes and labels -------------------------------------------------------------


def test_a_units_code_is_a_signed_digital_link_that_verifies(client: Any, lot: Any) -> None:
    r = client.get(f"/api/v1/trace/lots/{lot['lot']['id']}/units/3/code", headers=lot["admin"])
    assert r.status_code == 200, r.text
    code = r.json()
    assert code["link"].startswith(f"http://testserver/01/{GTIN}/10/JS26B/21/3?s=")
    assert code["svg"].startswith("<svg")
    ok = client.post("/api/v1/trace/codes/verify", json={"link": code["link"]}).json()
    assert (ok["valid"], ok["serial"], ok["key_id"]) == (True, "3", code["key_id"])
    # The same signature on another serial is a forgery.
    forged = code["link"].replace("/21/3?", "/21/4?")
    bad = client.post("/api/v1/trace/codes/verify", json={"link": forged}).json()
    assert (bad["valid"], bad["reason"]) == (False, "the signature does not match")
    # The published key verifies the code offline, with no call to us.
    keys = client.get("/api/v1/trace/keys").json()
    mine = next(k for k in keys if GTIN in k["gtin_prefixes"])
    raw = labels._unb64(mine["public_key"])
    assert labels.verify(raw, labels.parse(code["link"]))
    assert not labels.verify(raw, labels.parse(forged))


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("ftp://x/01/06901234000023/10/A/21/1?s=aa", "not an http(s)"),
        ("https://x/01/06901234000023/21/1?s=aa", "the path is not"),
        ("https://x/01/06901234000023/10/A/21/1", "no signature"),
        ("https://x/01/06901234000023/10/A/21/1?s=abc", "not 64 bytes"),
    ],
)
def test_a_malformed_code_is_refused_with_the_reason(client: Any, link: str, reason: str) -> None:
    r = client.post("/api/v1/trace/codes/verify", json={"link": link})
    assert r.status_code == 422, r.text
    assert "link" in r.text and reason in r.text


def test_a_label_sheet_is_a_pdf_and_marks_its_serials_printed(client: Any, lot: Any) -> None:
    url = f"/api/v1/trace/lots/{lot['lot']['id']}/labels"
    r = client.post(url, headers=lot["admin"], json={"first_serial": 1, "count": 26})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert r.content.count(b"/Type /Page\n") + r.content.count(b"/Type /Page>") >= 1
    # Printed now: a scan of serial 2 no longer finds a never-printed label; 27 still does.
    two = client.post("/api/v1/trace/scans", json={"gtin": GTIN, "serial": "2"}).json()
    late = client.post("/api/v1/trace/scans", json={"gtin": GTIN, "serial": "27"}).json()
    assert two["verdict"] == "genuine"
    assert [f["code"] for f in late["findings"]] == ["never_printed"]
    assert (
        client.post(url, headers=lot["li"], json={"first_serial": 1, "count": 2}).status_code == 403
    )
    none = client.post(url, headers=lot["admin"], json={"first_serial": 500, "count": 2})
    assert none.status_code == 422 and "first_serial" in none.text
    assert (
        client.post(url, headers=lot["admin"], json={"first_serial": 0, "count": 2}).status_code
        == 422
    )


def test_a_label_sheet_prints_chinese_with_the_cjk_font() -> None:
    pdf = labels.label_sheet(
        title="金山大米",
        subtitle="Jinshan rice",
        lot="JS26B",
        labels=[labels.Label("https://x/01/06901234000023/10/JS26B/21/1?s=a", "1")],
    )
    assert pdf.startswith(b"%PDF-") and b"WenQuanYi" in pdf


# --- disclosure, the public page and its proof ------------------------------------------


def test_the_public_page_opens_only_what_the_farm_disclosed_with_a_proof_that_verifies(
    client: Any, lot: Any, context: Any
) -> None:
    lot_id = lot["lot"]["id"]
    public = ["step", "time", "input", "organic", "variety", "certification", "weather"]
    r = client.post(
        f"/api/v1/trace/lots/{lot_id}/disclosure", headers=lot["li"], json={"public": public}
    )
    assert r.status_code == 201, r.text
    shown = r.json()
    assert len(shown["manifest"]["events"]) == len(SEASON)
    assert shown["ledger_seq"] is not None
    client.post(f"/api/v1/trace/lots/{lot_id}/checks", headers=lot["li"])
    _checkpoint(client, lot["admin"])
    link = client.get(f"/api/v1/trace/lots/{lot_id}/units/1/code", headers=lot["admin"]).json()
    page = client.get(link["link"].replace("http://testserver", "") + "&lang=en")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-code="valid"' in html
    assert 'id="server-check" data-ok="true"' in html
    assert "rapeseed cake" in html and "Songzao 618" in html
    # The plot (its SGLN) was kept private: only its commitment is on the page.
    assert d.PLOT not in html and "6901234.00001.12" not in html
    assert 'class="hidden-field"' in html
    assert 'id="rainy-days">1<' in html  # the station saw rain on one of the season's days
    assert 'data-outcome="fail"' in html  # 20 June: claimed rain, no rain at the station
    # What the page's script checks, checked here the same way.
    embedded = re.search(r'id="evidence">(.*?)</script>', html, re.S)
    assert embedded is not None
    evidence = json.loads(embedded[1])
    for item in evidence["openings"]:
        entry = next(e for e in evidence["manifest"]["events"] if e["ref"] == item["ref"])
        for name, opened in item["fields"].items():
            assert (
                disclosure.commitment(opened["salt"], item["ref"], name, opened["value"])
                == entry["fields"][name]
            )
            assert name != "place"
    assert disclosure.manifest_digest(evidence["manifest"]) == evidence["digest"]
    assert json.loads(evidence["bundle"]["leaf"])["payload_sha256"] == evidence["digest"]
    verdict = verify_bundle(Bundle.from_json(evidence["bundle"]), ledger_keys(context).policy)
    assert verdict.ok, verdict.reason
    zh = client.get(link["link"].replace("http://testserver", "") + "&lang=zh").text
    assert "生长与加工记录" in zh and "插秧" in zh


def _guess_place(published: str, candidates: list[str]) -> list[str]:
    """The attack on a hidden plot: rebuild each season event with every candidate plot (all
    its other fields are opened or guessable) and look for its CBV event hash, or the SHA-256
    inside it (a ledger leaf's payload), anywhere in what was published."""
    found = []
    for place in candidates:
        for event in SEASON:
            guess = eventhash.event_hash({**event, "readPoint": {"id": place}}, context=d.CONTEXT)
            if guess in published or guess.split(";", 1)[1][:64] in published:
                found.append(place)
    return sorted(set(found))


def test_a_hidden_plot_cannot_be_guessed_by_hashing_candidate_events(
    client: Any, lot: Any, context: Any
) -> None:
    lot_id = lot["lot"]["id"]
    public = [f for f in disclosure.FIELDS if f != "place"]  # everything but the plot
    r = client.post(
        f"/api/v1/trace/lots/{lot_id}/disclosure", headers=lot["li"], json={"public": public}
    )
    assert r.status_code == 201, r.text
    _checkpoint(client, lot["admin"])
    link = client.get(f"/api/v1/trace/lots/{lot_id}/units/1/code", headers=lot["admin"]).json()
    html = client.get(link["link"].replace("http://testserver", "")).text
    assert 'id="server-check" data-ok="true"' in html  # the proof still verifies
    candidates = [f"urn:epc:id:sgln:6901234.00001.{n}" for n in range(1, 100)]
    # Before: the manifest named each event by its hash (and its ledger number, whose leaf
    # carries the same digest); with every other fact opened, hashing 99 plots finds ours.
    with context.unit(actor="test:attack") as uow:
        hashes = [
            str(e.event_hash) for e in disclosure.lot_events(uow.session, *_lot_rows(uow, lot_id))
        ]
    old_manifest = json.dumps({"events": [{"event": h} for h in hashes]})
    assert _guess_place(old_manifest, candidates) == [d.PLOT]
    # After: the page and the manifest (also as the farm's API returns it) name events by
    # salted references, so no candidate matches anything published.
    manifest = client.get(f"/api/v1/trace/lots/{lot_id}/disclosure", headers=lot["li"]).text
    assert _guess_place(html + manifest, candidates) == []
    # Nor does the ledger: each event's entry anchors sha256(anchor salt ‖ digest), so hashing
    # candidates and looking them up among every leaf's payload finds nothing either.
    with context.unit(actor="test:attack") as uow:
        payloads = " ".join(uow.session.scalars(select(LedgerEntry.payload_sha256)))
    assert _guess_place(payloads, candidates) == []
    assert not any(h in html + manifest for h in hashes)
    assert '"ledger_seq"' not in json.dumps(r.json()["manifest"])


def _lot_rows(uow: Any, lot_id: str) -> tuple[Any, Any]:
    row = uow.session.get(Lot, lot_id)
    return row, uow.session.get(Product, row.product_id)


def test_a_tampered_code_or_an_unknown_serial_says_so(client: Any, lot: Any) -> None:
    link = client.get(
        f"/api/v1/trace/lots/{lot['lot']['id']}/units/1/code", headers=lot["admin"]
    ).json()["link"]
    path = link.replace("http://testserver", "")
    tampered = client.get(path[:-3] + "AAA")
    assert 'data-code="invalid"' in tampered.text
    assert 'data-code="unsigned"' in client.get(path.split("?")[0]).text
    missing = client.get(f"/01/{GTIN}/10/JS26B/21/99999")
    assert missing.status_code == 404 and 'data-found="false"' in missing.text


def test_disclosure_is_the_farms_and_refuses_unknown_fields(client: Any, lot: Any) -> None:
    url = f"/api/v1/trace/lots/{lot['lot']['id']}/disclosure"
    assert client.get(url, headers=lot["li"]).status_code == 404  # nothing published yet
    bad = client.post(url, headers=lot["li"], json={"public": ["step", "salary"]})
    assert bad.status_code == 422 and "public" in bad.text
    assert client.post(url, headers=lot["wu"], json={"public": ["step"]}).status_code == 404
    assert client.post(url, headers=lot["li"], json={"public": ["step"]}).status_code == 201
    assert client.get(url, headers=lot["li"]).json()["public_fields"] == ["step"]
    assert client.get(url, headers=lot["wu"]).status_code == 404


# --- cross-validation ----------------------------------------------------------------------


def test_claims_are_cross_validated_against_the_sensors(client: Any, lot: Any) -> None:
    lot_id = lot["lot"]["id"]
    r = client.post(f"/api/v1/trace/lots/{lot_id}/checks", headers=lot["li"])
    assert r.status_code == 200, r.text
    found = {(c["code"], c["subject"]): c for c in r.json()}
    assert found[("rainy_day", "2026-06-10")]["outcome"] == "pass"
    rain = found[("rainy_day", "2026-06-20")]
    assert (rain["outcome"], rain["evidence"]["station_rainfall_mm"]) == ("fail", 0.0)
    assert found[("fertiliser_response", "2026-06-02")]["outcome"] == "pass"
    assert found[("organic", "rapeseed cake")]["outcome"] == "pass"
    assert found[("harvest_yield", "rice")]["outcome"] == "pass"  # 5 t on 0.667 ha
    counts = client.get(f"/api/v1/trace/farms/{lot['farm']['id']}/checks", headers=lot["li"])
    assert counts.json()["failed"] == 1
    alarms = client.get("/api/v1/alarms", headers=lot["admin"]).json()
    assert [a["alarm_type"] for a in alarms if a["alarm_type"].startswith("trace_check")] == [
        "trace_check_rainy_day"
    ]
    # The other farmer sees neither the lot's findings nor the farm's counts.
    assert client.get(f"/api/v1/trace/lots/{lot_id}/checks", headers=lot["wu"]).status_code == 404
    other = client.get(f"/api/v1/trace/farms/{lot['farm']['id']}/checks", headers=lot["wu"])
    assert other.status_code == 404


def test_the_judgements() -> None:
    day = datetime(2026, 6, 1, tzinfo=UTC).date()
    assert crosscheck.rainy_day(day, None).outcome == "warn"
    assert crosscheck.rainy_day(day, 0.4).outcome == "warn"
    assert crosscheck.fertiliser_response(day, [0.5], [0.5]).outcome == "warn"
    jumps = crosscheck.undeclared_inputs({day: 0.4, day + timedelta(days=1): 0.9}, [])
    assert [f.outcome for f in jumps] == ["fail"]
    assert crosscheck.undeclared_inputs({day: 0.4, day + timedelta(days=1): 0.9}, [day]) == []
    found = crosscheck.organic(True, [("e1", "urea", False)])
    assert [(f.outcome, f.evidence["event_id"]) for f in found] == [("fail", "e1")]
    assert crosscheck.organic(False, [("e1", "urea", False)]) == []
    assert crosscheck.harvest_yield("rice", 6670, 20_000).outcome == "fail"
    assert crosscheck.packing(1000, 900).outcome == "fail"


@given(mm=st.floats(min_value=0, max_value=500, allow_nan=False))
def test_a_rainy_day_fails_only_when_the_station_saw_no_rain(mm: float) -> None:
    outcome = crosscheck.rainy_day(date(2026, 6, 1), mm).outcome
    assert (outcome == "fail") == (mm == 0)
    assert (outcome == "pass") == (mm >= crosscheck.RAIN_DAY_MM)


# --- insurance ------------------------------------------------------------------------------


@given(
    cover=st.sampled_from(insurance.COVERS),
    a=st.integers(min_value=1, max_value=10**7),
    b=st.integers(min_value=1, max_value=10**7),
)
def test_the_premium_grows_with_volume_but_never_faster_than_the_top_rate(
    cover: str, a: int, b: int
) -> None:
    small, large = sorted((a, b))
    assert insurance.premium(cover, small) <= insurance.premium(cover, large)
    top = insurance.RATES[cover][0][1]
    assert insurance.premium(cover, large) <= (large * top).quantize(Decimal("0.01")) + Decimal(
        "0.01"
    )
    assert insurance.premium(cover, large) - insurance.premium(cover, small) <= (
        large - small
    ) * top + Decimal("0.01")


def _policy(client: Any, lot: Any, cover: str) -> dict[str, Any]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    r = client.post(
        "/api/v1/trace/policies",
        headers=lot["admin"],
        json={
            "product_id": lot["product"]["id"],
            "lot_id": lot["lot"]["id"],
            "cover": cover,
            "units": 20_000,
            "sum_insured": "50000.00",
            "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=365)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_an_authenticity_claim_from_a_consumer_report_is_settled_on_ledger_evidence(
    client: Any, lot: Any, clock: Any
) -> None:
    policy = _policy(client, lot, "authenticity")
    assert policy["premium"] == "360.00"  # 10,000 x 0.020 + 10,000 x 0.016
    shanghai, beijing = {"lat": 31.23, "lon": 121.47}, {"lat": 39.9, "lon": 116.4}
    client.post("/api/v1/trace/scans", json={"gtin": GTIN, "serial": "5", **shanghai})
    clock.advance(timedelta(hours=1))
    twin = client.post("/api/v1/trace/scans", json={"gtin": GTIN, "serial": "5", **beijing})
    assert "impossible_travel" in [f["code"] for f in twin.json()["findings"]]
    report = client.post(
        "/api/v1/trace/reports",
        json={"gtin": GTIN, "serial": "5", "description": "the bag's seal looks reglued"},
    )
    assert report.status_code == 201, report.text
    case = report.json()["case"]
    # An hour on, the morning's logins have expired: log in again.
    lot = {
        **lot,
        "admin": login(client, "admin", DEMO_PASSWORDS["admin"]).headers,
        "li": login(client, "farmer-li", "farmer-li-pass").headers,
    }
    claims = client.get("/api/v1/trace/claims", headers=lot["admin"]).json()
    assert isinstance(claims, list), claims
    assert [c["id"] for c in claims] == [case]
    assert (
        client.post(f"/api/v1/trace/claims/{case}/decision", headers=lot["li"]).status_code == 403
    )
    decided = client.post(f"/api/v1/trace/claims/{case}/decision", headers=lot["admin"])
    assert decided.status_code == 200, decided.text
    claim = decided.json()
    assert (claim["status"], claim["amount"]) == ("approved", "2000.00")
    decision = claim["decision"]
    assert decision["rules"] == insurance.RULES
    cited = decision["evidence"]
    events = [e for e in cited if e["kind"] == "epcis_event"]
    assert len(events) == len(SEASON) and all(e["ledger_seq"] is not None for e in events)
    assert [e["serial"] for e in cited if e["kind"] == "scan_anomaly"] == ["5", "5"]
    assert claim["decision_seq"] is not None
    again = client.post(f"/api/v1/trace/claims/{case}/decision", headers=lot["admin"])
    assert again.status_code == 409
    settled = client.post(f"/api/v1/trace/claims/{case}/settlement", headers=lot["admin"])
    assert settled.json()["status"] == "settled"


def test_a_food_safety_claim_without_a_contradiction_is_rejected_with_reasons(
    client: Any, lot: Any
) -> None:
    policy = _policy(client, lot, "food_safety")
    r = client.post(
        "/api/v1/trace/claims",
        headers=lot["admin"],
        json={"policy_id": policy["id"], "description": "a customer fell ill"},
    )
    assert r.status_code == 201, r.text
    claim = client.post(f"/api/v1/trace/claims/{r.json()['id']}/decision", headers=lot["admin"])
    body = claim.json()
    assert (body["status"], body["amount"]) == ("rejected", "0.00")
    assert body["decision"]["reasons"][-1].startswith("R2: no failed cross-validation")
    settle = client.post(f"/api/v1/trace/claims/{r.json()['id']}/settlement", headers=lot["admin"])
    assert settle.status_code == 409


def test_policies_and_claims_refuse_bad_input_and_other_roles(client: Any, lot: Any) -> None:
    base = {
        "product_id": lot["product"]["id"],
        "cover": "authenticity",
        "units": 10,
        "sum_insured": "100.00",
        "starts_on": "2026-12-01T00:00:00Z",
        "ends_on": "2026-11-01T00:00:00Z",
    }
    r = client.post("/api/v1/trace/policies", headers=lot["admin"], json=base)
    assert r.status_code == 422 and "ends_on" in r.text
    r = client.post("/api/v1/trace/policies", headers=lot["admin"], json={**base, "cover": "fire"})
    assert r.status_code == 422
    r = client.post("/api/v1/trace/policies", headers=lot["li"], json=base)
    assert r.status_code == 403
    assert client.get("/api/v1/trace/claims", headers=lot["li"]).status_code == 403
    none = client.post(
        "/api/v1/trace/reports", json={"gtin": GTIN, "serial": "1", "description": "odd"}
    )
    assert none.status_code == 404  # no authenticity cover in force yet
    bad = client.post(
        "/api/v1/trace/reports", json={"gtin": "123", "serial": "1", "description": "x"}
    )
    assert bad.status_code == 422


def test_secret_rotation_changes_the_brand_key() -> None:
    a = labels.brand_key(TEST_SECRET, "org-1")
    assert a.key_id == labels.brand_key(TEST_SECRET, "org-1").key_id
    assert a.key_id != labels.brand_key(TEST_SECRET + "x", "org-1").key_id
    assert a.key_id != labels.brand_key(TEST_SECRET, "org-2").key_id
