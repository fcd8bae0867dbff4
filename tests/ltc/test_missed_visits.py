"""Planned visits and the missed-visit alarm: a plan not checked in within the grace period
raises one alarm to its institution, once however often the sweep runs; checking in late
clears it; a visit checked in on time raises nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.ltc import plan_service, worker
from tests.ltc.conftest import HOME

Scene = tuple[Callable[[str], dict[str, str]], int, int]


def _plan(client: TestClient, scene: Scene, clock: FrozenClock, minutes: int) -> dict[str, object]:
    headers, her, station = scene
    carer = headers("carer")
    me = client.get(f"/api/v1/ltc/institutions/{station}/caregivers", headers=carer).json()[0]
    at = clock.now() + timedelta(minutes=minutes)
    made = client.post(
        "/api/v1/ltc/plans",
        json={"institution_id": station, "beneficiary_id": her, "caregiver_id": me["id"],
              "planned_at": at.isoformat(), "services": ["bath", "massage"]},
        headers=carer,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    result: dict[str, object] = made.json()
    return result


def _sweep(context: AppContext) -> int:
    with context.unit(actor="test:sweep") as uow:
        return plan_service.sweep_missed(uow=uow, now=uow.now())


def _alarms(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    found = client.get("/api/v1/alarms", params={"owner_kind": "ltc_institution"}, headers=headers)
    assert found.status_code == 200, found.text
    result: list[dict[str, object]] = found.json()
    return result


def test_a_missed_visit_alarms_the_institution_once_and_a_late_check_in_clears_it(
    client: TestClient, clock: FrozenClock, context: AppContext, scene: Scene
) -> None:
    headers, her, station = scene
    plan = _plan(client, scene, clock, 60)
    clock.advance(timedelta(minutes=60 + 29))
    assert _sweep(context) == 0  # within the grace period
    clock.advance(timedelta(minutes=2))
    assert worker.build(context).tick() == 1  # the app's worker runs the same sweep
    assert _sweep(context) == 0  # once only
    clock.advance(timedelta(minutes=10))
    assert _sweep(context) == 0
    alarms = _alarms(client, headers("carer"))
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["alarm_type"] == "missed_visit" and alarm["owner_id"] == str(station)
    assert alarm["count"] == 1 and alarm["cleared"] is False
    assert "王秀兰" in str(alarm["title"])
    assert _alarms(client, headers("stranger")) == []  # another provider sees nothing
    listed = client.get("/api/v1/ltc/plans", headers=headers("carer")).json()
    assert [p["id"] for p in listed] == [plan["id"]] and listed[0]["alarmed_at"] is not None
    body = {"institution_id": station, "beneficiary_id": her, "plan_id": plan["id"],
            "lat": HOME[0], "lon": HOME[1]}  # fmt: skip
    late = client.post("/api/v1/ltc/visits", json=body, headers=headers("carer"))
    assert late.status_code == 201, late.text
    assert _alarms(client, headers("carer"))[0]["cleared"] is True
    again = client.post("/api/v1/ltc/visits", json=body, headers=headers("carer"))
    assert again.status_code == 409  # the caregiver is still in the late visit


def test_a_visit_checked_in_on_time_raises_nothing(
    client: TestClient, clock: FrozenClock, context: AppContext, scene: Scene
) -> None:
    headers, her, station = scene
    plan = _plan(client, scene, clock, 15)
    clock.advance(timedelta(minutes=20))
    body = {"institution_id": station, "beneficiary_id": her, "plan_id": plan["id"],
            "lat": HOME[0], "lon": HOME[1]}  # fmt: skip
    assert client.post("/api/v1/ltc/visits", json=body, headers=headers("carer")).status_code == 201
    clock.advance(timedelta(hours=3))
    assert _sweep(context) == 0
    assert _alarms(client, headers("carer")) == []


def test_bad_plans_are_refused_with_the_field(
    client: TestClient, clock: FrozenClock, scene: Scene
) -> None:
    headers, her, station = scene
    carer = headers("carer")
    me = client.get(f"/api/v1/ltc/institutions/{station}/caregivers", headers=carer).json()[0]
    at = (clock.now() + timedelta(hours=2)).isoformat()
    good: dict[str, object] = {"institution_id": station, "beneficiary_id": her,
                               "caregiver_id": me["id"], "planned_at": at,
                               "services": ["bath"]}  # fmt: skip
    cases: list[tuple[dict[str, object], str]] = [
        ({"services": ["wound_care"]}, "services"),
        ({"services": []}, "services"),
        ({"caregiver_id": me["id"] + 100}, "caregiver_id"),
        ({"beneficiary_id": her + 100}, "beneficiary_id"),
        ({"planned_at": (clock.now() - timedelta(days=1)).isoformat()}, "planned_at"),
        ({"planned_at": "2300-01-01T00:00:00+08:00"}, "planned_at"),
    ]
    for change, field in cases:
        bad = client.post("/api/v1/ltc/plans", json={**good, **change}, headers=carer)
        assert bad.status_code == 422, (change, bad.text)
        assert bad.json()["fields"][0]["field"] == field, bad.text
    assert (
        client.post("/api/v1/ltc/plans", json=good, headers=headers("stranger")).status_code == 404
    )
    assert (
        client.post("/api/v1/ltc/plans", json=good, headers=headers("ltc-supervisor")).status_code
        == 403
    )
    assert (
        client.get("/api/v1/ltc/plans", params={"day": "3000-01-01"}, headers=carer).status_code
        == 422
    )
