"""The demo's lease: the Jiangsu machinery maker's ~3,000,000 yuan of machines, active, with
its rents paid so far, two trackers whose simulated running hours show on the contract, seen
by the lessor and the factory and by nobody else; seeding twice changes nothing."""

from __future__ import annotations

from anxin.demo.machines import history, shift_readings
from anxin.demo.seed import seed_demo


def test_demo_lease(client, demo, as_user, context, clock, tmp_path) -> None:
    cid = demo.leasing.contract_id
    lessor = as_user("lessor")
    lease = client.get(f"/api/v1/leasing/contracts/{cid}", headers=lessor).json()
    assert lease["cost"] == "3000000.00" and lease["stage"] == "active"
    assert lease["rents_paid"] >= 1 and len(lease["assets"]) == 2
    assert all(a["serial"] and a["device_id"] for a in lease["assets"])
    with context.unit(actor="system:demo") as uow:
        history(uow, cid, uow.now())  # what `anxin demo` adds: the trackers' last three days
    lease = client.get(f"/api/v1/leasing/contracts/{cid}", headers=lessor).json()
    assert all(a["running_hours"] > 100 for a in lease["assets"])
    assert not any(a["off_site"] for a in lease["assets"])
    assert (
        client.get(f"/api/v1/leasing/contracts/{cid}", headers=as_user("machinery")).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/leasing/contracts/{cid}", headers=as_user("lender")).status_code == 404
    )
    assert len(demo.leasing.tracker_tokens) == 2
    with context.unit(actor="test:again") as uow:
        again = seed_demo(uow=uow, token_file=tmp_path / "tokens.json")
    assert again.leasing.contract_id == cid


def test_the_simulator_runs_two_shifts_on_weekdays(clock) -> None:
    from datetime import timedelta

    start = clock.now()
    readings = shift_readings("d", 20.0, 0.0, start, start + timedelta(days=7), 1)
    assert len(readings) == 7 * 24 + 1
    hours = [r["values"]["running_hours"] for r in readings]
    assert hours == sorted(hours) and 40 < hours[-1] < 120  # ≤ 5 days × 12 h
    idle = [r for r in readings if not r["values"]["running"]]
    assert all(r["values"]["power_kw"] == 0.0 for r in idle)


def test_no_one_attaches_a_device_to_another_organisations_machine(client, demo, as_user):
    lease = client.get(
        f"/api/v1/leasing/contracts/{demo.leasing.contract_id}", headers=as_user("lessor")
    ).json()
    # the care organisation's admin may register devices, but not on the lessor's machine
    answer = client.post(
        "/api/v1/devices",
        json={
            "device_type": "machine_tracker",
            "name": "intruder",
            "owner_kind": "lease_asset",
            "owner_id": lease["assets"][0]["id"],
        },
        headers=as_user("admin"),
    )
    assert answer.status_code == 422 and answer.json()["fields"][0]["field"] == "owner_id"
