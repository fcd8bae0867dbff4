"""Readings partitioned by time on PostgreSQL, partitions made ahead, retention; SQLite deletes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from anxin.cli import app as cli
from anxin.core.config import get_settings
from anxin.core.events import InProcessBus
from anxin.iot.ingest import ParsedReading
from anxin.iot.models import Device, IngestedMessage, Reading
from anxin.iot.retention import apply_retention, ensure_partitions, list_partitions
from anxin.iot.service import DeviceBatch, store_batch
from tests.conftest import START


def store(context, device_id: str, days_ago: list[int], now=START) -> None:
    # Storage only: an empty bus tells no rule engine.
    with context.unit(actor="test:store", bus=InProcessBus()) as uow:
        device = uow.session.get(Device, device_id)
        parsed = [
            ParsedReading(i, f"m-{d}-{i}-{now:%H}", now - timedelta(days=d), {"motion": True})
            for i, d in enumerate(days_ago)
        ]
        store_batch(uow=uow, batches=[DeviceBatch(device, parsed, [])], now=now)


def where_rows_live(db) -> dict[str, int]:
    with db.session_scope() as session:
        rows = session.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM readings GROUP BY 1")
        )
        return {name.split(".")[-1]: n for name, n in rows}


@pytest.mark.pg
@pytest.mark.usefixtures("no_seeded_readings")
def test_partitions_ahead_move_default_rows_and_retention_drops_old(context, db, demo_devices):
    radar, _ = demo_devices["mmwave_radar"]
    # Before any partition exists, everything lands in the DEFAULT partition.
    store(context, radar, [0, 1, 3, 40])
    assert where_rows_live(db) == {"readings_default": 4}

    with db.session_scope() as session:
        created = ensure_partitions(session=session, now=START, ahead=2, interval="day", behind=3)
    assert created == [
        "readings_p20261126",
        "readings_p20261127",
        "readings_p20261128",
        "readings_p20261129",
        "readings_p20261130",
        "readings_p20261201",
    ]
    # Rows already in the default partition moved into their day.
    assert where_rows_live(db) == {
        "readings_p20261129": 1,
        "readings_p20261128": 1,
        "readings_p20261126": 1,
        "readings_default": 1,  # 40 days old: before the first partition
    }
    with db.session_scope() as session:  # idempotent
        assert ensure_partitions(session=session, now=START, ahead=2, interval="day") == []
        # A month partition that overlaps existing days is skipped, not an error.
        assert (
            ensure_partitions(session=session, now=START, ahead=0, interval="month", behind=0) == []
        )

    store(context, radar, [0], now=START + timedelta(hours=1))  # written straight into its day
    with db.session_scope() as session:
        result = apply_retention(session=session, now=START, days=2)
    assert result.dropped_partitions == ["readings_p20261126"]
    assert result.deleted_readings == 1  # the 40-day-old row in the default partition
    with db.session_scope() as session:
        assert "readings_p20261126" not in list_partitions(session)
        assert session.scalar(select(func.count()).select_from(Reading)) == 3


@pytest.mark.pg
def test_month_partitions(db):
    with db.session_scope() as session:
        created = ensure_partitions(session=session, now=START, ahead=2, interval="month", behind=1)
    assert created == [
        "readings_p202610",
        "readings_p202611",
        "readings_p202612",
        "readings_p202701",
    ]


@pytest.mark.usefixtures("no_seeded_readings")
def test_retention_deletes_rows_and_claims(context, db, demo_devices):
    radar, _ = demo_devices["mmwave_radar"]
    store(context, radar, [0, 1, 5, 9])
    with db.session_scope() as session:
        result = apply_retention(session=session, now=START, days=3)
        assert result.deleted_readings == 2
        assert session.scalar(select(func.count()).select_from(Reading)) == 2
        # Claims are dated by receipt (all now), so none is old enough yet.
        assert session.scalar(select(func.count()).select_from(IngestedMessage)) == 4


@pytest.mark.usefixtures("no_seeded_readings")
def test_cli_partitions_and_retention(monkeypatch, database_url, demo_devices, db):
    monkeypatch.setenv("ANXIN_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        made = runner.invoke(cli, ["iot", "partitions", "--ahead", "2"])
        assert made.exit_code == 0, made.output
        listed = json.loads(made.output)
        assert len(listed["created"]) == (4 if db.engine.dialect.name == "postgresql" else 0)
        kept = runner.invoke(cli, ["iot", "retention", "--days", "30"])
        assert kept.exit_code == 0, kept.output
        assert json.loads(kept.output)["deleted_readings"] == 0
        assert runner.invoke(cli, ["iot", "retention", "--days", "0"]).exit_code != 0
    finally:
        get_settings.cache_clear()


@pytest.mark.pg
def test_workers_making_partitions_at_once_do_not_collide(db):
    """Consumers start together and each ensures partitions; none may die of the race."""
    import threading

    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    made: list[list[str]] = []

    def worker() -> None:
        try:
            with db.session_scope() as session:
                barrier.wait()
                made.append(ensure_partitions(session=session, now=START, ahead=3, interval="day"))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(len(names) for names in made) == [0, 0, 0, 5]
