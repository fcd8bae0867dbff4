"""Verified visits over the API: institutions and their staff, check-in and check-out at the
home, the checks the caregiver sees at once, the confirmation, and settlement paying the good
visit and rejecting the short one with its reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from tests.ltc.conftest import FAR, HOME


def _visit(
    client: TestClient, clock: FrozenClock, carer: Callable[[], dict[str, str]], her: int,
    station: int, minutes: int, services: list[str], out: tuple[float, float] = HOME,
) -> dict[str, object]:  # fmt: skip
    """A visit of `minutes`; the caregiver logs in again at check-out (tokens are short)."""
    body = {"institution_id": station, "beneficiary_id": her, "caregiver": "cg-1",
            "lat": HOME[0], "lon": HOME[1]}  # fmt: skip
    started = client.post("/api/v1/ltc/visits", json=body, headers=carer())
    assert started.status_code == 201, started.text
    clock.advance(timedelta(minutes=minutes))
    ended = client.post(
        f"/api/v1/ltc/visits/{started.json()['id']}/check-out",
        json={"lat": out[0], "lon": out[1], "services": services}, headers=carer(),
    )  # fmt: skip
    assert ended.status_code == 200, ended.text
    result: dict[str, object] = ended.json()
    return result


def _checks(visit: dict[str, object]) -> set[str]:
    return {f["check"] for f in visit["findings"]}  # type: ignore[attr-defined]


def test_a_visit_checked_in_out_confirmed_and_paid_a_short_one_rejected(
    client: TestClient, clock: FrozenClock, scene: tuple[Callable[[str], dict[str, str]], int, int]
) -> None:
    headers, her, station = scene

    def carer() -> dict[str, str]:
        return headers("carer")

    good = _visit(client, clock, carer, her, station, 60, ["bath", "haircut"])
    assert _checks(good) == {"not_confirmed"}  # a flag until the family confirms
    confirmed = client.post(f"/api/v1/ltc/visits/{good['id']}/confirm", headers=carer()).json()
    assert confirmed["confirmed"] is True and confirmed["findings"] == []
    clock.advance(timedelta(hours=2))
    short = _visit(client, clock, carer, her, station, 12, ["massage"])
    client.post(f"/api/v1/ltc/visits/{short['id']}/confirm", headers=carer())
    assert _checks(short) == {"too_short", "not_confirmed"}
    clock.advance(timedelta(days=3))
    settled = client.post("/api/v1/ltc/settlements/2026-11", headers=headers("ltc-admin"))
    assert settled.status_code == 201, settled.text
    assert settled.json()["reconciled"] is True
    rejected = client.get(
        "/api/v1/ltc/settlements/2026-11/rejections", headers=headers("ltc-supervisor")
    ).json()
    assert [line["ref"] for line in rejected] == [short["id"]]
    assert "too_short: lasted 12 min, the minimum is 30 min" in rejected[0]["reason"]
    assert settled.json()["settlement"]["summary"]["fund_by_kind"]["visit"] == "67.50"


def test_checks_the_caregiver_sees_at_check_out(
    client: TestClient, clock: FrozenClock, scene: tuple[Callable[[str], dict[str, str]], int, int]
) -> None:
    headers, her, station = scene

    def carer() -> dict[str, str]:
        return headers("carer")

    far = _visit(client, clock, carer, her, station, 45, ["bath"], out=FAR)
    assert "outside_radius" in _checks(far)
    outside = _visit(client, clock, carer, her, station, 45, ["wound_care"])
    assert "service_not_entitled" in _checks(outside)
    nothing = _visit(client, clock, carer, her, station, 45, [])
    assert "no_service" in _checks(nothing)


def test_who_may_record_and_see_visits(
    client: TestClient, clock: FrozenClock, scene: tuple[Callable[[str], dict[str, str]], int, int]
) -> None:
    headers, her, station = scene
    body = {"institution_id": station, "beneficiary_id": her, "caregiver": "cg-1",
            "lat": HOME[0], "lon": HOME[1]}  # fmt: skip
    url = "/api/v1/ltc/visits"
    assert client.post(url, json=body, headers=headers("ltc-admin")).status_code == 403
    stranger = headers("stranger")
    refused = client.post(url, json=body, headers=stranger)
    assert refused.status_code == 422 and refused.json()["fields"][0]["field"] == "institution_id"
    carer = headers("carer")
    started = client.post(url, json=body, headers=carer)
    assert started.status_code == 201
    # One visit at a time per caregiver.
    assert client.post(url, json=body, headers=carer).status_code == 409
    visit_id = started.json()["id"]
    out = {"lat": HOME[0], "lon": HOME[1], "services": ["bath"]}
    check_out = f"{url}/{visit_id}/check-out"
    assert client.post(check_out, json=out, headers=stranger).status_code == 404
    bad = client.post(check_out, json={**out, "services": ["karaoke"]}, headers=carer)
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "services"
    assert client.post(check_out, json=out, headers=carer).status_code == 200
    assert client.post(check_out, json=out, headers=carer).status_code == 409
    assert [v["id"] for v in client.get(url, headers=headers("ltc-supervisor")).json()] == [
        visit_id
    ]
    assert [v["id"] for v in client.get(url, headers=carer).json()] == [visit_id]
    assert client.get(url, headers=stranger).json() == []
    assert client.get(url, headers=headers("other-admin")).json() == []
    nobody = client.post(url, json={**body, "beneficiary_id": her + 1000}, headers=carer)
    assert nobody.status_code == 422 and nobody.json()["fields"][0]["field"] == "beneficiary_id"


def test_institutions_are_registered_by_the_scheme(
    client: TestClient, scene: tuple[Callable[[str], dict[str, str]], int, int]
) -> None:
    headers, _, _ = scene
    url = "/api/v1/ltc/institutions"
    body = {"name": "另一护理站"}
    assert client.post(url, json=body, headers=headers("ltc-supervisor")).status_code == 403
    assert client.post(url, json=body, headers=headers("carer")).status_code == 403
    bad = client.post(url, json={**body, "provider_org_id": "nope"}, headers=headers("ltc-admin"))
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "provider_org_id"
    again = client.post(url, json={"name": "崇川护理站"}, headers=headers("ltc-admin"))
    assert again.status_code == 409
    names = [i["name"] for i in client.get(url, headers=headers("ltc-supervisor")).json()]
    assert names == ["崇川护理站"]
    assert client.get(url, headers=headers("other-admin")).json() == []


def test_the_supervisors_dashboard_shows_the_settled_month(
    client: TestClient, clock: FrozenClock, scene: tuple[Callable[[str], dict[str, str]], int, int]
) -> None:
    headers, her, station = scene

    def carer() -> dict[str, str]:
        return headers("carer")

    good = _visit(client, clock, carer, her, station, 60, ["bath"])
    client.post(f"/api/v1/ltc/visits/{good['id']}/confirm", headers=carer())
    _visit(client, clock, carer, her, station, 10, ["bath"])
    admin = headers("ltc-admin")
    contribution = {"month": "2026-11", "source": "employer", "amount": "1000.00",
                    "reference": "emp-2026-11"}  # fmt: skip
    assert client.post("/api/v1/ltc/contributions", json=contribution, headers=admin).is_success
    before = client.get("/api/v1/ltc/dashboard/2026-11", headers=headers("ltc-supervisor"))
    assert before.status_code == 200, before.text
    assert before.json()["settled"] is False and before.json()["visits"] == 2
    assert client.post("/api/v1/ltc/settlements/2026-11", headers=admin).status_code == 201
    board = client.get("/api/v1/ltc/dashboard/2026-11", headers=headers("ltc-supervisor")).json()
    assert board["insured"] == 1 and board["beneficiaries_by_grade"] == {"2": 1}
    assert (board["settled"], board["claim_lines"], board["rejected_lines"]) == (True, 3, 1)
    # Cash 210.00 and one bath, 60.00 less her 6.00: the fund pays 264.00 of 1000.00.
    assert (board["paid_in"], board["paid_out"], board["balance"]) == (
        "1000.00", "264.00", "736.00",
    )  # fmt: skip
    [station_row] = board["institutions"]
    assert (station_row["visits"], station_row["rejected"], station_row["rejection_rate"]) == (
        2, 1, 0.5,
    )  # fmt: skip
    csv_text = client.get(
        "/api/v1/ltc/dashboard/2026-11/institutions.csv", headers=headers("ltc-supervisor")
    ).text
    assert csv_text.splitlines() == [
        "institution_id,name,visits,settled_lines,rejected,rejection_rate",
        f"{station},崇川护理站,2,2,1,0.5",
    ]
    assert client.get("/api/v1/ltc/dashboard/2026-11", headers=carer()).status_code == 403
    other = client.get("/api/v1/ltc/dashboard/2026-11", headers=headers("other-admin")).json()
    assert other["visits"] == 0 and other["institutions"] == []
    bad = client.get("/api/v1/ltc/dashboard/2026-13", headers=admin)
    assert bad.status_code == 422
