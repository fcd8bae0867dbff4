"""Consumer scans through the public route: first scan, counts, and each counterfeit sign
raising the brand's alarm with its evidence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import DEMO_PASSWORDS, login
from tests.trace import documents as d
from tests.trace.test_trace_api import farm  # noqa: F401 - the fixture

GTIN = "06901234123456"  # indicator 0, company 6901234, item 12345, check digit 6
SOUTH_OF_36N = {  # the sales region: Beijing lies outside it
    "type": "Polygon",
    "coordinates": [[[100, 20], [123, 20], [123, 36], [100, 36], [100, 20]]],
}
SHANGHAI = {"lat": 31.23, "lon": 121.47}
BEIJING = {"lat": 39.9, "lon": 116.4}


@pytest.fixture
def bags(client: Any, farm: Any) -> dict[str, Any]:  # noqa: F811
    admin = farm["admin"]
    product = client.post(
        "/api/v1/trace/products",
        headers=admin,
        json={
            "gtin": GTIN,
            "name_zh": "金山大米",
            "name_en": "Jinshan rice",
            "sales_region": SOUTH_OF_36N,
        },
    )
    assert product.status_code == 201, product.text
    lot = client.post(
        "/api/v1/trace/lots",
        headers=admin,
        json={"product_id": product.json()["id"], "farm_id": farm["farm"]["id"], "code": "JS2026A"},
    )
    assert lot.status_code == 201, lot.text
    issued = client.post(
        f"/api/v1/trace/lots/{lot.json()['id']}/units", headers=admin, json={"count": 5}
    )
    assert issued.status_code == 201, issued.text
    assert (issued.json()["first_serial"], issued.json()["last_serial"]) == ("1", "5")
    unprinted = client.post(
        f"/api/v1/trace/lots/{lot.json()['id']}/units",
        headers=admin,
        json={"count": 1, "printed": False},
    )
    assert unprinted.json()["first_serial"] == "6"
    return {**farm, "lot": lot.json(), "product": product.json()}


def _scan(client: Any, serial: str, where: dict[str, float] | None = None) -> dict[str, Any]:
    r = client.post("/api/v1/trace/scans", json={"gtin": GTIN, "serial": serial, **(where or {})})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _alarms(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/api/v1/alarms", headers=headers)
    assert r.status_code == 200, r.text
    return [a for a in r.json() if a["alarm_type"].startswith("trace_")]


def test_a_genuine_bag_scanned_twice_in_one_city(client: Any, bags: Any, clock: Any) -> None:
    first = _scan(client, "1", SHANGHAI)
    assert (first["verdict"], first["first_scan"], first["scan_count"]) == ("genuine", True, 1)
    assert (first["product"], first["lot"]) == ("Jinshan rice", "JS2026A")
    clock.advance(timedelta(minutes=10))
    again = _scan(client, "1", {"lat": 31.3, "lon": 121.5})
    assert (again["verdict"], again["first_scan"], again["scan_count"]) == ("genuine", False, 2)
    assert _alarms(client, bags["admin"]) == []


def test_a_second_scan_far_away_an_hour_later_raises_the_brands_alarm(
    client: Any, bags: Any, clock: Any
) -> None:
    _scan(client, "2", SHANGHAI)
    clock.advance(timedelta(hours=1))
    second = _scan(client, "2", {"lat": 30.0, "lon": 109.5})  # 1,200 km west
    assert second["verdict"] == "suspect"
    assert [f["code"] for f in second["findings"]] == ["impossible_travel"]
    admin = login(client, "admin", DEMO_PASSWORDS["admin"]).headers  # an hour on: a new token
    alarms = _alarms(client, admin)
    assert [a["alarm_type"] for a in alarms] == ["trace_impossible_travel"]
    detail = client.get(f"/api/v1/alarms/{alarms[0]['id']}", headers=admin).json()
    evidence = detail["details"]["evidence"]
    assert 1150 < evidence["distance_km"] < 1250
    assert evidence["hours"] == 1.0
    assert (evidence["first"]["lat"], evidence["first"]["lon"]) == (31.2, 121.5)  # coarse
    # The farmer of the farm sees the alarm of their lot; another farmer does not.
    assert len(_alarms(client, login(client, "farmer-li", "farmer-li-pass").headers)) == 1
    assert _alarms(client, login(client, "farmer-wu", "farmer-wu-pass").headers) == []


def test_unknown_and_never_printed_serials(client: Any, bags: Any) -> None:
    unknown = _scan(client, "999999", SHANGHAI)
    assert unknown["verdict"] == "suspect"
    assert [f["code"] for f in unknown["findings"]] == ["unknown_serial"]
    assert unknown["lot"] is None
    unprinted = _scan(client, "6", SHANGHAI)
    assert [f["code"] for f in unprinted["findings"]] == ["never_printed"]
    types = sorted(a["alarm_type"] for a in _alarms(client, bags["admin"]))
    assert types == ["trace_never_printed", "trace_unknown_serial"]
    other = client.post("/api/v1/trace/scans", json={"gtin": "06901234999990", "serial": "1"})
    assert other.json()["verdict"] == "unknown"  # not our product: nobody to alarm


def test_outside_the_sales_region(client: Any, bags: Any) -> None:
    found = _scan(client, "3", BEIJING)
    assert [f["code"] for f in found["findings"]] == ["outside_sales_region"]


def test_scanned_after_the_package_was_consumed(client: Any, bags: Any, clock: Any) -> None:
    assert _scan(client, "4", SHANGHAI)["verdict"] == "genuine"
    used = {
        "type": "ObjectEvent",
        "eventTime": (clock.now() + timedelta(minutes=1)).isoformat(),
        "eventTimeZoneOffset": "+08:00",
        "action": "DELETE",
        "epcList": ["urn:epc:id:sgtin:6901234.012345.4"],
        "bizStep": "decommissioning",
        "disposition": "destroyed",
        "bizLocation": {"id": d.FARM},
    }
    r = client.post("/epcis/events", headers=bags["admin"], json=used)
    assert r.status_code == 201, r.text
    clock.advance(timedelta(hours=2))
    after = _scan(client, "4", SHANGHAI)
    assert [f["code"] for f in after["findings"]] == ["consumed"]


def test_scan_input_is_checked(client: Any, bags: Any) -> None:
    r = client.post("/api/v1/trace/scans", json={"gtin": "123", "serial": "1"})
    assert r.status_code == 422
    r = client.post("/api/v1/trace/scans", json={"gtin": GTIN, "serial": "1", "lat": 91, "lon": 0})
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "lat"


def test_products_and_units_are_the_brands(client: Any, bags: Any) -> None:
    li = bags["li"]
    bad = client.post(
        "/api/v1/trace/products",
        headers=bags["admin"],
        json={"gtin": "06901234123451", "name_zh": "x", "name_en": "x"},
    )
    assert bad.status_code == 422
    assert bad.json()["fields"][0]["field"] == "gtin"
    assert (
        client.post(
            f"/api/v1/trace/lots/{bags['lot']['id']}/units", headers=li, json={"count": 1}
        ).status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/trace/lots/{bags['lot']['id']}", headers=bags["wu"]).status_code == 404
    )


def test_a_scan_without_a_place_does_not_hide_where_the_bag_was_last_seen(
    client: Any, bags: Any, clock: Any
) -> None:
    _scan(client, "2", SHANGHAI)
    _scan(client, "2")  # the public page's own scan: no location
    clock.advance(timedelta(hours=1))
    far = _scan(client, "2", BEIJING)
    assert "impossible_travel" in [f["code"] for f in far["findings"]]
    assert far["scan_count"] == 3
