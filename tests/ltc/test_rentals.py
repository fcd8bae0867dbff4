"""Equipment depots and rentals over the API: stock, delivery, return, the settled month that
nothing may reach into, and the monthly charge split between the fund and the beneficiary."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Scene = tuple[Callable[[str], dict[str, str]], int, int]


def test_a_nursing_bed_delivered_charged_and_returned(client: TestClient, scene: Scene) -> None:
    headers, her, _ = scene
    admin = headers("ltc-admin")
    depot = client.post(
        "/api/v1/ltc/depots", json={"name": "崇川仓库", "nursing_beds": 1, "wheelchairs": 0},
        headers=admin,
    )  # fmt: skip
    assert depot.status_code == 201, depot.text
    bed = {"depot_id": depot.json()["id"], "beneficiary_id": her, "item": "nursing_bed",
           "monthly_rent": "90.00", "start": "2026-11-16"}  # fmt: skip
    rented = client.post("/api/v1/ltc/rentals", json=bed, headers=admin)
    assert rented.status_code == 201, rented.text
    # The depot had one bed: it is out now, and there is no wheelchair at all.
    assert client.post("/api/v1/ltc/rentals", json=bed, headers=admin).status_code == 409
    chair = client.post("/api/v1/ltc/rentals", json={**bed, "item": "wheelchair"}, headers=admin)
    assert chair.status_code == 409
    [stock] = client.get("/api/v1/ltc/depots", headers=headers("ltc-supervisor")).json()
    assert (stock["nursing_beds"], stock["beds_out"]) == (1, 1)
    settled = client.post("/api/v1/ltc/settlements/2026-11", headers=admin).json()
    # 15 of 30 days at 90.00 is 45.00: the fund pays 80 %, 36.00.
    assert settled["settlement"]["summary"]["fund_by_kind"]["rental"] == "36.00"
    url = f"/api/v1/ltc/rentals/{rented.json()['id']}/return"
    into_settled = client.post(url, json={"end": "2026-11-20"}, headers=admin)
    assert into_settled.status_code == 422
    assert into_settled.json()["fields"][0]["field"] == "end"
    back = client.post(url, json={"end": "2026-12-10"}, headers=admin)
    assert back.status_code == 200 and back.json()["end"] == "2026-12-10"
    assert client.post(url, json={"end": "2026-12-11"}, headers=admin).status_code == 409


def test_rentals_refuse_bad_input_and_other_roles(client: TestClient, scene: Scene) -> None:
    headers, her, _ = scene
    admin = headers("ltc-admin")
    depot = client.post(
        "/api/v1/ltc/depots", json={"name": "仓库", "nursing_beds": 2, "wheelchairs": 2},
        headers=admin,
    ).json()  # fmt: skip
    good = {"depot_id": depot["id"], "beneficiary_id": her, "item": "wheelchair",
            "monthly_rent": "30.00", "start": "2026-11-20"}  # fmt: skip
    for change, field in [
        ({"beneficiary_id": her + 99}, "beneficiary_id"),
        ({"depot_id": depot["id"] + 99}, "depot_id"),
        ({"start": "2026-05-01"}, "start"),  # before she was entitled
        ({"item": "sofa"}, "item"),
        ({"monthly_rent": "-1"}, "monthly_rent"),
    ]:
        response = client.post("/api/v1/ltc/rentals", json={**good, **change}, headers=admin)
        assert response.status_code == 422, (change, response.text)
        assert field in response.text
    for who in ("ltc-supervisor", "carer"):
        refused = client.post("/api/v1/ltc/rentals", json=good, headers=headers(who))
        assert refused.status_code == 403
    assert client.post("/api/v1/ltc/rentals", json=good, headers=admin).status_code == 201
    assert client.get("/api/v1/ltc/rentals", headers=headers("other-admin")).json() == []
    assert client.get("/api/v1/ltc/depots", headers=headers("other-admin")).json() == []
    other = client.post(
        "/api/v1/ltc/rentals/1/return", json={"end": "2027-01-01"}, headers=headers("other-admin")
    )
    assert other.status_code == 404
    again = client.post(
        "/api/v1/ltc/depots", json={"name": "仓库", "nursing_beds": 0, "wheelchairs": 0},
        headers=admin,
    )  # fmt: skip
    assert again.status_code == 409
