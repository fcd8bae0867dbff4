"""A consumer batch is committed in bounded units of work, and a failure part-way loses nothing."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from anxin.iot import pipeline
from anxin.iot.ingest import ParsedReading
from anxin.iot.models import Reading
from anxin.iot.pipeline import BatchIngestor, DeviceSnapshot, RawMessage, split_units
from anxin.iot.service import DeviceBatch
from tests.conftest import START


def _batch(device: int, readings: int) -> DeviceBatch:
    snapshot = DeviceSnapshot(f"d{device}", "sleep_mat", "org", "household", "h", "x")
    parsed = [ParsedReading(i, f"m{i}", START, {"heart_rate": 60}) for i in range(readings)]
    return DeviceBatch(snapshot, parsed, [])


@given(st.lists(st.integers(0, 30), max_size=40), st.integers(1, 50))
def test_units_keep_order_and_stay_under_the_bound(sizes: list[int], bound: int) -> None:
    batches = [_batch(i, n) for i, n in enumerate(sizes)]
    units = split_units(batches, bound)
    assert units and [b for unit in units for b in unit] == batches
    for unit in units:
        total = sum(len(b.parsed) for b in unit)
        # Over the bound only when one device alone brings more (its readings stay together).
        assert total <= bound or len(unit) == 1
    for left, right in itertools.pairwise(units):
        # A unit is closed only when the next device would not fit.
        assert sum(len(b.parsed) for b in left) + len(right[0].parsed) > bound


QUIET = {
    "mmwave_radar": {"motion": True},
    "sleep_mat": {"heart_rate": 60},
    "door_sensor": {"battery_pct": 90},
}


def _messages(demo_devices, clock, tag: str) -> list[RawMessage]:
    out = []
    for device_type in ("mmwave_radar", "sleep_mat", "door_sensor"):
        device_id, token = demo_devices[device_type]
        readings = [
            {
                "message_id": f"{tag}-{device_type}-{k}",
                "ts": (clock.now() - timedelta(seconds=k)).isoformat(),
                "values": QUIET[device_type],
            }
            for k in range(2)
        ]
        out.append(
            RawMessage(device_id, json.dumps({"token": token, "readings": readings}).encode())
        )
    return out


def _stored(db) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Reading)) or 0)


@pytest.mark.usefixtures("no_seeded_readings")
def test_a_batch_commits_in_units_of_the_bound(context, db, demo_devices, clock):
    commits: list[int] = []

    def count(_conn) -> None:
        commits.append(1)

    sa_event.listen(db.engine, "commit", count)
    ingestor = BatchIngestor(context=context, transport="t", publish=False, unit_readings=4)
    try:
        result = ingestor.process(_messages(demo_devices, clock, "u"))
    finally:
        sa_event.remove(db.engine, "commit", count)
    assert result.accepted == 6 and _stored(db) == 6
    assert len(commits) == 2  # 2 + 2 readings fit in 4; the third device starts a new unit


class Killed(BaseException):
    """The process dies (SIGKILL, power loss): nothing in it gets to handle that."""


@pytest.mark.usefixtures("no_seeded_readings")
def test_a_unit_that_fails_leaves_the_batch_to_redelivery_which_stores_once(
    context, db, demo_devices, clock, monkeypatch
):
    ingestor = BatchIngestor(context=context, transport="t", publish=False, unit_readings=2)
    real = pipeline.store_batch
    calls = {"n": 0}

    def fail_second_unit(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed("the consumer dies mid-batch")
        return real(**kwargs)

    monkeypatch.setattr(pipeline, "store_batch", fail_second_unit)
    messages = _messages(demo_devices, clock, "f")
    with pytest.raises(Killed):
        ingestor.process(messages)  # nothing is acknowledged: the broker will redeliver
    assert _stored(db) == 2  # the first unit committed

    monkeypatch.setattr(pipeline, "store_batch", real)
    again = ingestor.process(messages)  # the redelivered batch
    assert again.accepted == 4 and again.duplicates == 2
    assert _stored(db) == 6
