"""The collateral domain through its real paths: telemetry over HTTP → iot → the crane flow →
lifts → stock movements → pledge re-valuation → alarms to the bank."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import START

from anxin.alerts.models import Alarm
from anxin.collateral import service
from anxin.collateral.cranesim import Simulation, simulate_day
from anxin.collateral.models import CraneState, Movement, PledgeRow, ReleaseOrder
from anxin.demo.warehouse import NIGHT, batches, post_batch

SEED = 20261129


@lru_cache(maxsize=1)
def _day() -> Simulation:
    return simulate_day(SEED, START.timestamp() - 86400 - 2 * 3600)


def _tokens(tmp_path: Any) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((tmp_path / "demo-crane-tokens.json").read_text())
    return data


def _night(client: Any, tmp_path: Any, *, crane: str | None = None) -> int:
    sim = _day()
    shift = START.timestamp() - (sim.start + NIGHT[1])
    plan = batches(sim, window=NIGHT, shift=shift, batch_s=30.0)
    tokens = _tokens(tmp_path)
    sent = 0
    for batch in plan:
        if crane and batch.crane != crane:
            continue
        result = post_batch(client, tokens[batch.crane][batch.device_type], batch)
        assert result["rejected"] == 0, result
        sent += len(batch.readings)
    return sent


def _night_truth() -> list[Any]:
    sim = _day()
    return [x for x in sim.truth if not x.authorised]


def _alarms(db: Any, alarm_type: str) -> list[Alarm]:
    with db.session_scope() as session:
        rows = list(session.scalars(select(Alarm).where(Alarm.alarm_type == alarm_type)))
        session.expunge_all()
        return rows


def test_demo_pledge_is_valued_exactly(demo, db):
    with db.session_scope() as session:
        pledge = session.get(PledgeRow, demo.collateral.pledge_id)
        assert pledge is not None
        assert pledge.quantity_kg == 12_000_000
        # 12,000 t × 3,650 = 43,800,000.00; LTV = 30,000,000 / 43,800,000 = 0.684931… → 0.6849
        assert pledge.market_value == Decimal("43800000.00")
        assert pledge.lending_value == Decimal("32850000.00")  # haircut 25 %
        assert pledge.ltv == Decimal("0.6849")
        assert pledge.status == "ok"


def test_night_removal_becomes_movements_and_alarms_the_bank(client, demo, db, tmp_path):
    truth = _night_truth()
    assert len(truth) == 3
    _night(client, tmp_path)
    with db.session_scope() as session:
        moves = list(
            session.scalars(
                select(Movement).where(Movement.kind == "lift").order_by(Movement.occurred_at)
            )
        )
        outbound = [m for m in moves if m.direction == "outbound"]
        assert len(outbound) == 3
        for move, true in zip(outbound, truth, strict=True):
            assert move.details["from"] == true.pick_zone
            assert move.details["to"] == "TRUCK-B"
            assert move.authorised is False
            assert move.pledge_id == demo.collateral.pledge_id
            assert abs(move.quantity_kg - true.net_kg) <= 0.01 * true.net_kg
        pledge = session.get(PledgeRow, demo.collateral.pledge_id)
        assert pledge is not None
        assert pledge.quantity_kg == 12_000_000 - sum(m.quantity_kg for m in outbound)
        state = session.get(CraneState, demo.collateral.crane_ids["C2"])
        assert state is not None and len(state.alarmed) >= 3
    raised = _alarms(db, "unauthorised_removal")
    assert len(raised) == 3
    assert {a.organisation_id for a in raised} == {demo.collateral.bank_org_id}
    assert all(a.owner_kind == "pledge" and a.owner_id == demo.collateral.pledge_id for a in raised)
    assert all(a.count == 1 for a in raised)  # peek raised it; the final lift did not again


def test_replaying_the_same_readings_changes_nothing(client, demo, db, tmp_path):
    _night(client, tmp_path)
    with db.session_scope() as session:
        before = session.scalar(select(func.count()).select_from(Movement))
        qty = session.get(PledgeRow, demo.collateral.pledge_id).quantity_kg  # type: ignore[union-attr]
    _night(client, tmp_path)  # every message id is known: iot stores nothing, no event
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Movement)) == before
        assert session.get(PledgeRow, demo.collateral.pledge_id).quantity_kg == qty  # type: ignore[union-attr]


def test_an_approved_release_covers_the_lifts_and_raises_nothing(
    client, demo, db, tmp_path, as_user
):
    total = sum(x.net_kg for x in _night_truth())
    ask = {"quantity_t": f"{(total * 1.02 + 100) / 1000:.3f}", "note": "truck B"}
    pledge_id = demo.collateral.pledge_id
    r = client.post(
        f"/api/v1/collateral/pledges/{pledge_id}/releases", json=ask, headers=as_user("warehouse")
    )
    assert r.status_code == 201, r.text
    release_id = r.json()["id"]
    # The operator cannot approve its own request; the bank's officer can.
    r = client.post(
        f"/api/v1/collateral/releases/{release_id}/approve", json={}, headers=as_user("warehouse")
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/collateral/releases/{release_id}/approve", json={}, headers=as_user("bank")
    )
    assert r.status_code == 200, r.text
    _night(client, tmp_path)
    assert _alarms(db, "unauthorised_removal") == []
    assert _alarms(db, "release_exceeded") == []
    with db.session_scope() as session:
        release = session.get(ReleaseOrder, release_id)
        assert release is not None
        assert abs(release.consumed_kg - total) <= 0.01 * total
        moves = list(session.scalars(select(Movement).where(Movement.direction == "outbound")))
        assert len(moves) == 3 and all(m.authorised and m.release_id == release_id for m in moves)


def test_detector_state_survives_a_restart(client, demo, db, tmp_path, app, settings, clock):
    """Half the night through one app, the rest through a freshly created one."""
    from fastapi.testclient import TestClient

    from anxin.app import create_app

    sim = _day()
    shift = START.timestamp() - (sim.start + NIGHT[1])
    plan = [b for b in batches(sim, window=NIGHT, shift=shift, batch_s=30.0)]
    tokens = _tokens(tmp_path)
    half = len(plan) // 2
    for batch in plan[:half]:
        post_batch(client, tokens[batch.crane][batch.device_type], batch)
    second = create_app(settings, clock=clock)
    try:
        with TestClient(second) as other:
            for batch in plan[half:]:
                post_batch(other, tokens[batch.crane][batch.device_type], batch)
    finally:
        second.state.context.db.dispose()
    with db.session_scope() as session:
        outbound = session.scalar(
            select(func.count()).select_from(Movement).where(Movement.direction == "outbound")
        )
        assert outbound == 3


def test_one_bank_cannot_see_another_banks_pledge(client, demo, context, clock):
    from tests.conftest import login

    from anxin.people import service as people
    from anxin.people.models import OrganisationKind
    from anxin.people.schemas import UserCreate

    with context.unit(actor="test:seed") as uow:
        other = people.create_organisation(
            session=uow.session,
            name="江海银行 Jianghai Bank",
            kind=OrganisationKind.BANK,
            now=clock.now(),
        )
        people.create_user(
            session=uow.session,
            organisation_id=other.id,
            data=UserCreate(
                username="bank2",
                display_name="Other bank",
                role="scf_officer",
                password="other-bank-pass-1",
            ),
            now=clock.now(),
        )
    headers = login(client, "bank2", "other-bank-pass-1").headers
    pledge_id = demo.collateral.pledge_id
    assert client.get("/api/v1/collateral/pledges", headers=headers).json() == []
    for path in (
        f"/api/v1/collateral/pledges/{pledge_id}",
        f"/api/v1/collateral/pledges/{pledge_id}/movements",
        f"/api/v1/collateral/pledges/{pledge_id}/releases",
        f"/api/v1/collateral/warehouses/{demo.collateral.warehouse_id}/stock",
    ):
        assert client.get(path, headers=headers).status_code == 404, path
    r = client.post(
        f"/api/v1/collateral/pledges/{pledge_id}/releases",
        json={"quantity_t": "1.000"},
        headers=headers,
    )
    assert r.status_code == 404
    r = client.post(f"/api/v1/collateral/pledges/{pledge_id}/close", headers=headers)
    assert r.status_code == 404


@pytest.mark.parametrize("who", ["bank", "warehouse"])
def test_the_lender_and_the_operator_see_the_pledge(client, demo, as_user, who):
    r = client.get(f"/api/v1/collateral/pledges/{demo.collateral.pledge_id}", headers=as_user(who))
    assert r.status_code == 200
    body = r.json()
    assert body["loan_amount"] == "30000000.00"
    assert len(body["receipts"]) == 8


def test_stock_is_not_shown_to_a_family(client, demo, as_user):
    r = client.get(
        f"/api/v1/collateral/warehouses/{demo.collateral.warehouse_id}/stock",
        headers=as_user("son"),
    )
    assert r.status_code == 404


def test_live_stock_per_bay_commodity_and_owner(client, demo, as_user):
    rows = client.get(
        f"/api/v1/collateral/warehouses/{demo.collateral.warehouse_id}/stock",
        headers=as_user("warehouse"),
    ).json()
    assert len(rows) == 16
    rebar = [r for r in rows if r["commodity"] == "rebar"]
    assert {r["zone"] for r in rebar} == {f"B{i:02d}" for i in range(1, 9)}
    assert all(r["quantity_t"] == "1500.000" and r["pledge_id"] for r in rebar)
    # The bank sees only the stock it holds in pledge.
    bank_rows = client.get(
        f"/api/v1/collateral/warehouses/{demo.collateral.warehouse_id}/stock",
        headers=as_user("bank"),
    ).json()
    assert {r["zone"] for r in bank_rows} == {f"B{i:02d}" for i in range(1, 9)}


def test_service_books_each_lift_once(demo, context, clock):
    from anxin.collateral.lifts import Direction, Lift
    from anxin.core.events import InProcessBus

    with context.unit(actor="test:lifts", bus=InProcessBus()) as uow:
        crane = uow.session.get(service.Crane, demo.collateral.crane_ids["C1"])
        assert crane is not None
        lift = Lift(
            "lift-x",
            "C1",
            START.timestamp() - 100,
            START.timestamp() - 60,
            5004.0,
            1850.0,
            20,
            12.0,
            (20, 5),
            (5, 5),
            "A01",
            "QUAY",
            Direction.OUTBOUND,
        )
        first = service.apply_lift(uow=uow, crane=crane, lift=lift, now=clock.now())
        again = service.apply_lift(uow=uow, crane=crane, lift=lift, now=clock.now())
        assert first.movement is not None and first.movement.quantity_kg == 5000
        assert again.duplicate and again.movement is None


def test_one_device_running_minutes_ahead_of_the_other_still_places_every_lift(
    client, demo, db, tmp_path
):
    """Each device posts its own batches: here the scale runs five minutes ahead of the
    positioner. Lifts wait for both streams (the watermark), so none is booked unplaced."""
    sim = _day()
    shift = START.timestamp() - (sim.start + NIGHT[1])
    plan = batches(sim, window=NIGHT, shift=shift, batch_s=300.0)
    tokens = _tokens(tmp_path)
    scale = [b for b in plan if b.device_type == "crane_hook_scale"]
    fixes = [b for b in plan if b.device_type == "crane_positioner"]
    order = []
    for i in range(max(len(scale), len(fixes))):
        order += scale[i : i + 1] + fixes[i : i + 1]
    for batch in order:
        post_batch(client, tokens[batch.crane][batch.device_type], batch)
    with db.session_scope() as session:
        moves = list(session.scalars(select(Movement).where(Movement.kind == "lift")))
        assert sorted(m.direction for m in moves) == ["outbound"] * 3
        assert all(m.details["from"] and m.details["to"] == "TRUCK-B" for m in moves)
    assert len(_alarms(db, "unauthorised_removal")) == 3


def test_the_watermark_follows_the_slower_device_within_ten_minutes():
    from anxin.collateral.flows import MAX_SKEW_MS, watermark

    assert watermark(None, None) == 0
    assert watermark(1_000_000, 990_000) == 990_000
    assert watermark(1_000_000, None) == 1_000_000 - MAX_SKEW_MS
    assert watermark(2_000_000, 1_000) == 2_000_000 - MAX_SKEW_MS


def test_a_load_shown_at_the_gate_then_set_down_inside_clears_its_alarm(client, demo, db, tmp_path):
    """Peek alarms while the load hangs over the truck gate; the crane then carries it back
    to another bay, so the final lift is an internal move and the alarm is cleared."""
    from anxin.demo.warehouse import Batch

    t0 = START.timestamp() - 3600
    tare, load = 1240.0, 6240.0

    def kg(t: float) -> float:
        return load if 30 <= t < 150 else tare

    def place(t: float) -> tuple[float, float]:
        if t < 40:
            return (27.0, 27.0)  # B01
        if t < 100:
            return (27.0 + (193.0 - 27.0) * (t - 40) / 60, 27.0)
        if t < 120:
            return (193.0, 27.0)  # over TRUCK-B
        if t < 140:
            return (193.0 - (193.0 - 46.0) * (t - 120) / 20, 27.0)
        return (46.0, 27.0)  # B02

    def rows(kind: str, lo: float, hi: float, hz: float) -> list[dict[str, Any]]:
        out = []
        for i in range(int(lo * hz), int(hi * hz)):
            t = i / hz
            values: dict[str, Any] = (
                {"weight_kg": kg(t), "stable": True}
                if kind == "scale"
                else {"x_m": place(t)[0], "y_m": place(t)[1]}
            )
            ts = datetime.fromtimestamp(t0 + t, tz=UTC).isoformat()
            out.append({"message_id": f"{kind}-{i}", "ts": ts, "values": values})
        return out

    tokens = _tokens(tmp_path)["C2"]

    def post(kind: str, lo: float, hi: float, hz: float) -> None:
        device = "crane_hook_scale" if kind == "scale" else "crane_positioner"
        post_batch(client, tokens[device], Batch(0.0, "C2", device, rows(kind, lo, hi, hz)))

    post("pos", 0, 115, 1.0)
    post("scale", 0, 115, 5.0)
    (alarm,) = _alarms(db, "unauthorised_removal")
    assert not alarm.cleared and alarm.details["provisional"] is True
    post("pos", 115, 300, 1.0)
    post("scale", 115, 300, 5.0)
    (alarm,) = _alarms(db, "unauthorised_removal")
    assert alarm.cleared
    with db.session_scope() as session:
        (move,) = session.scalars(select(Movement).where(Movement.kind == "lift"))
        assert (move.direction, move.details["from"], move.details["to"]) == (
            "internal",
            "B01",
            "B02",
        )
        assert move.quantity_kg == 5000


def test_seeding_the_demo_twice_changes_nothing(demo, db, context, tmp_path):
    from anxin.collateral.models import Crane, Receipt, StockPosition
    from anxin.demo.seed import seed_demo

    tables = (PledgeRow, Receipt, StockPosition, Crane, Movement, Alarm)

    def counts() -> list[int]:
        with db.session_scope() as session:
            return [session.scalar(select(func.count()).select_from(t)) or 0 for t in tables]

    before = counts()
    tokens = (tmp_path / "demo-crane-tokens.json").read_text()
    with context.unit(actor="test:seed") as uow:
        again = seed_demo(uow=uow, token_file=tmp_path / "tokens.json")
    assert counts() == before
    assert again.collateral.pledge_id == demo.collateral.pledge_id
    assert (tmp_path / "demo-crane-tokens.json").read_text() == tokens
