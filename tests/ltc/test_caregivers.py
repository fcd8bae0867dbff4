"""Caregivers of care institutions: who registers them, which logins may be theirs, and a
visit naming a caregiver by id, by code or by the caregiver's own login."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.ltc.conftest import HOME

Scene = tuple[Callable[[str], dict[str, str]], int, int]


def _url(station: int) -> str:
    return f"/api/v1/ltc/institutions/{station}/caregivers"


def test_the_scheme_and_the_institution_register_caregivers_others_do_not(
    client: TestClient, scene: Scene
) -> None:
    headers, _, station = scene
    body = {"code": "cg-2", "name": "周护士", "qualification": "nurse", "areas": ["港闸区"]}
    assert (
        client.post(_url(station), json=body, headers=headers("ltc-supervisor")).status_code == 403
    )
    assert client.post(_url(station), json=body, headers=headers("stranger")).status_code == 404
    assert client.post(_url(station), json=body, headers=headers("other-admin")).status_code == 404
    made = client.post(_url(station), json=body, headers=headers("carer"))
    assert made.status_code == 201, made.text
    assert made.json()["institution_id"] == station and made.json()["active"] is True
    assert client.post(_url(station), json=body, headers=headers("ltc-admin")).status_code == 409
    codes = [c["code"] for c in client.get(_url(station), headers=headers("ltc-supervisor")).json()]
    assert codes == ["cg-1", "cg-2"]
    assert client.get(_url(station), headers=headers("stranger")).status_code == 404
    assert client.get(_url(station + 999), headers=headers("ltc-admin")).status_code == 404


def test_bad_caregivers_are_refused_with_the_field(client: TestClient, scene: Scene) -> None:
    headers, _, station = scene
    admin = headers("ltc-admin")
    base: dict[str, object] = {"code": "cg-3", "name": "赵", "qualification": "nurse"}
    changes: list[tuple[dict[str, object], str]] = [
        ({"qualification": "wizard"}, "qualification"),
        ({"code": ""}, "code"),
        ({"areas": [""]}, "areas.0"),
    ]
    for change, field in changes:
        bad = client.post(_url(station), json={**base, **change}, headers=admin)
        assert bad.status_code == 422, bad.text
        assert bad.json()["fields"][0]["field"] == field
    # A login of another provider, or one already a caregiver, is not theirs to take.
    stranger_id = client.get("/api/v1/me", headers=headers("stranger")).json()["id"]
    foreign = client.post(_url(station), json={**base, "user_id": stranger_id}, headers=admin)
    assert foreign.status_code == 422 and foreign.json()["fields"][0]["field"] == "user_id"


def test_a_visit_names_its_caregiver(client: TestClient, scene: Scene) -> None:
    headers, her, station = scene
    carer = headers("carer")
    other = client.post(
        _url(station), json={"code": "cg-9", "name": "钱", "qualification": "care_worker"},
        headers=carer,
    ).json()  # fmt: skip
    body = {"institution_id": station, "beneficiary_id": her, "lat": HOME[0], "lon": HOME[1]}
    # Without a name the caller's own caregiver record is used.
    mine = client.post("/api/v1/ltc/visits", json=body, headers=carer)
    assert mine.status_code == 201, mine.text
    assert mine.json()["caregiver"] == "cg-1" and mine.json()["caregiver_id"] is not None
    by_id = client.post(
        "/api/v1/ltc/visits", json={**body, "caregiver_id": other["id"]}, headers=carer
    )
    assert by_id.status_code == 201 and by_id.json()["caregiver"] == "cg-9"
    unknown = client.post("/api/v1/ltc/visits", json={**body, "caregiver": "cg-404"}, headers=carer)
    assert unknown.status_code == 422 and unknown.json()["fields"][0]["field"] == "caregiver"
