"""`anxin simulate --warehouse` against a live server: the night window posts the removal,
and the day plan asks for a release before each truck loaded from pledged bays."""

from __future__ import annotations

import httpx
from tests.conftest import DEMO_PASSWORDS, START, make_settings

from anxin.collateral.cranesim import simulate_day
from anxin.core.clock import FrozenClock
from anxin.demo.warehouse import DAY, NIGHT, batches, iter_lines, run_warehouse, truck_loads
from anxin.domains import build_context


def test_batches_keep_every_reading_once_in_arrival_order():
    sim = simulate_day(3, START.timestamp())
    plan = batches(sim, window=NIGHT, shift=-100.0, batch_s=30.0)
    arrivals = [b.arrival for b in plan]
    assert arrivals == sorted(arrivals)
    ids = [r["message_id"] for b in plan for r in b.readings]
    lo, hi = sim.start + NIGHT[0], sim.start + NIGHT[1]
    expected = sum(
        int(((c.weights.t >= lo) & (c.weights.t < hi)).sum())
        + int(((c.positions.t >= lo) & (c.positions.t < hi)).sum())
        for c in sim.cranes.values()
    )
    assert len(ids) == expected  # duplicates resent by the network keep their message id
    assert all(len(b.readings) > 0 for b in plan)


def test_truck_loads_cover_the_authorised_outbound_lifts_from_pledged_bays():
    sim = simulate_day(3, START.timestamp())
    pledged = {f"B{i:02d}" for i in range(1, 9)}
    loads = truck_loads(sim, pledged, DAY)
    wanted = sum(
        x.net_kg
        for x in sim.truth
        if x.authorised and x.direction.value == "outbound" and x.pick_zone in pledged
    )
    assert loads and sum(kg for _, kg in loads) >= wanted
    assert truck_loads(sim, pledged, NIGHT) == []  # nobody releases the night removal


def test_the_night_window_against_a_live_server_raises_the_removal_alarms(
    live_server, database_url, tmp_path
):
    lines: list[str] = []
    # The simulator is its own process with its own context, as `anxin simulate` builds it.
    context = build_context(make_settings(database_url), clock=FrozenClock(START))
    try:
        stats = run_warehouse(
            context,
            url=live_server.url,
            speed=0,
            window="night",
            progress=lines.append,
            token_file=tmp_path / "sim-crane-tokens.json",
            now=START,
        )
    finally:
        context.db.dispose()
    assert stats.failed == 0 and stats.accepted == stats.sent - stats.duplicates > 10_000
    assert stats.releases == 0 and any("replaying" in line for line in lines)
    assert "readings sent" in next(iter_lines(stats))
    token = httpx.post(
        f"{live_server.url}/api/v1/auth/token",
        data={"username": "bank", "password": DEMO_PASSWORDS["bank"]},
    ).json()["access_token"]
    alarms = httpx.get(
        f"{live_server.url}/api/v1/alarms",
        params={"active": True},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert sum(a["alarm_type"] == "unauthorised_removal" for a in alarms) == 3
