"""The simulator: deterministic readings the API accepts, incidents that become alarms."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from anxin.alerts.models import Alarm
from anxin.app import create_app
from anxin.cli import app as cli
from anxin.core.clock import SystemClock
from anxin.core.config import get_settings
from anxin.demo.homes import (
    Incident,
    SimDevice,
    SimHousehold,
    Simulator,
    db_mode_setter,
    default_script,
    prepare_households,
)
from anxin.homecare.models import Household, HouseholdMode
from anxin.iot.rules import flows as iot_flows
from tests.conftest import make_settings


def test_the_default_script_falls_first_and_never_overlaps():
    script = default_script(3, 3600, seed=7)
    assert script[0] == Incident("fall", 0, 20.0, 90.0)
    for index in range(3):
        mine = [i for i in script if i.household == index]
        assert {i.kind for i in mine} >= {"fall", "intrusion", "silence"}
        assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(mine))
    assert default_script(3, 3600, seed=7) == script


def test_same_seed_same_readings(clock):
    def readings(seed: int) -> list[dict]:
        household = SimHousehold(0, "h", "hid", {"sleep_mat": SimDevice("mat-1", "sleep_mat", "t")})
        sim = Simulator([household], client=None, seed=seed, clock=clock)  # type: ignore[arg-type]
        device = household.devices["sleep_mat"]
        out = []
        for t in range(0, 3600 * 16, 900):
            device.seq += 1
            out.append(sim.values_for(household, device, float(t)))
        return out

    first = readings(3)
    assert first == readings(3)
    assert first != readings(4)
    in_bed = [r for r in first if r["in_bed"]]
    assert in_bed, "a 16-hour run from 10:00 reaches the night"
    assert all(55 <= r["heart_rate"] <= 75 and 12 <= r["respiration_rate"] <= 18 for r in in_bed)


def test_simulated_households_stream_and_incidents_become_alarms(
    context, client, demo, db, clock, tmp_path
):
    households = prepare_households(
        context=context,
        households=2,
        demo_token_file=tmp_path / "tokens.json",
        sim_token_file=tmp_path / "sim-tokens.json",
    )
    assert households[0].household_id == demo.household_id
    again = prepare_households(
        context=context,
        households=2,
        demo_token_file=tmp_path / "tokens.json",
        sim_token_file=tmp_path / "sim-tokens.json",
    )
    assert [h.household_id for h in again] == [h.household_id for h in households]
    assert again[1].devices["door_sensor"].token == households[1].devices["door_sensor"].token

    script = [
        Incident("fall", 0, 5.0, 90.0),
        Incident("intrusion", 1, 10.0, 45.0),
        Incident("silence", 1, 100.0, 330.0),
    ]
    sim = Simulator(
        households, client, seed=1, script=script, clock=clock, mode_setter=db_mode_setter(context)
    )

    def sweep(t: float) -> None:
        if int(t) % 5 == 0:
            with context.unit(actor="test:sweep") as uow:
                iot_flows.sweep(uow=uow, now=clock.now())

    stats = sim.run(450, realtime=False, tick_s=1.0, advance=clock.advance, on_tick=sweep)
    assert stats.failed == 0 and stats.rejected == 0, stats.rejections
    assert stats.accepted == stats.sent > 100
    with db.session_scope() as session:
        found = {
            (a.owner_id, a.alarm_type): a.severity.value for a in session.scalars(select(Alarm))
        }
        home = session.get(Household, households[1].household_id)
        assert home is not None and home.mode == HouseholdMode.HOME  # switched back
    assert found[(demo.household_id, "fall")] == "critical"  # lying still after the fall
    assert found[(households[1].household_id, "intrusion")] == "critical"
    assert found[(households[1].household_id, "device_offline")] == "major"
    assert (demo.household_id, "device_offline") not in found


@pytest.fixture
def real_clock_server(database_url):
    """uvicorn on a free port with the system clock (the CLI stamps readings with real time)."""
    import socket

    import uvicorn

    application = create_app(make_settings(database_url), clock=SystemClock())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", application
    server.should_exit = True
    thread.join(timeout=15)
    application.state.context.db.dispose()


def test_anxin_simulate_against_a_live_server(
    real_clock_server, database_url, monkeypatch, tmp_path
):
    url, application = real_clock_server
    monkeypatch.chdir(tmp_path)  # token files go to ./var
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ANXIN_SECRET_KEY", "cli-test-secret-key-long-enough-123456")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli,
            [
                "simulate",
                "--households",
                "2",
                "--speed",
                "30",
                "--duration",
                "4",
                "--first-fall",
                "1",
                "--quiet",
                "--url",
                url,
            ],
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "rejected 0, failed 0" in result.output
    assert "fall" in result.output
    assert (tmp_path / "var" / "sim-device-tokens.json").exists()
    with application.state.context.db.session_scope() as session:
        types = set(session.scalars(select(Alarm.alarm_type)))
    assert "fall" in types


def test_a_long_run_repeats_the_incidents():
    script = default_script(1, 24 * 3600, seed=1)
    falls = [i for i in script if i.kind == "fall"]
    assert len(falls) > 10 and script[-1].start_s < 24 * 3600
