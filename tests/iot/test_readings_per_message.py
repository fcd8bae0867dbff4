"""Readings stored one row per message: paging by value, retries after a crash, the migration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Column, Float, MetaData, String, Table, func, insert, inspect, select

from anxin.core import migrate
from anxin.core.db import UTCDateTime
from anxin.core.events import InProcessBus
from anxin.iot import service
from anxin.iot.ingest import ParsedReading
from anxin.iot.models import Device, IngestedMessage, Reading
from anxin.iot.retention import ensure_partitions, list_partitions
from tests.conftest import START


def _store(context, device_id: str, parsed: list[ParsedReading]) -> list[int]:
    with context.unit(actor="test:store", bus=InProcessBus()) as uow:
        device = uow.session.get(Device, device_id)
        (outcome,) = service.store_batch(
            uow=uow, batches=[service.DeviceBatch(device, parsed, [])], now=START
        )
        return [outcome.accepted, outcome.duplicates]


def _mat_messages(n: int) -> list[ParsedReading]:
    return [
        ParsedReading(
            i,
            f"m-{i}",
            START - timedelta(minutes=n - i),
            {"heart_rate": 60.0 + i, "in_bed": i % 2 == 0, "respiration_rate": 14.0},
        )
        for i in range(n)
    ]


def test_pages_cut_inside_a_message_and_resume_where_they_stopped(
    client, context, demo_devices, as_user
):
    mat, _ = demo_devices["sleep_mat"]
    _store(context, mat, _mat_messages(4))
    url = f"/api/v1/devices/{mat}/readings"
    items, cursor, pages = [], None, 0
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=params, headers=as_user("butler")).json()
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3  # 12 values in pages of 5, 5 and 2
    expected = [
        (f"m-{i}", key) for i in range(4) for key in ("heart_rate", "in_bed", "respiration_rate")
    ]
    assert [(i["message_id"], i["key"]) for i in items] == expected
    assert [i["value"] for i in items if i["key"] == "in_bed"] == [True, False, True, False]
    only = client.get(url, params={"key": "heart_rate", "limit": 3}, headers=as_user("butler"))
    assert [i["value"] for i in only.json()["items"]] == [60.0, 61.0, 62.0]
    assert only.json()["next_cursor"] is not None


@pytest.mark.usefixtures("no_seeded_readings")
def test_a_batch_retried_after_a_crash_is_stored_exactly_once(context, db, demo_devices):
    mat, _ = demo_devices["sleep_mat"]
    messages = _mat_messages(6)
    # The process dies after storing half the batch, before its unit commits: nothing stays.
    with pytest.raises(RuntimeError), context.unit(actor="test", bus=InProcessBus()) as uow:
        device = uow.session.get(Device, mat)
        service.store_batch(
            uow=uow, batches=[service.DeviceBatch(device, messages[:3], [])], now=START
        )
        raise RuntimeError("crash")
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Reading)) == 0
        assert session.scalar(select(func.count()).select_from(IngestedMessage)) == 0
    # The broker redelivers the whole batch, then once more.
    assert _store(context, mat, messages) == [6, 0]
    assert _store(context, mat, messages) == [0, 6]
    with db.session_scope() as session:
        rows = session.execute(
            select(Reading.message_id, Reading.data).where(Reading.device_id == mat)
        ).all()
    assert sorted(m for m, _ in rows) == [f"m-{i}" for i in range(6)]
    assert all(len(data) == 3 for _, data in rows)


@pytest.mark.usefixtures("no_seeded_readings")
def test_migration_groups_narrow_rows_into_messages(database_url, context, db, demo_devices):
    mat, _ = demo_devices["sleep_mat"]
    radar, _ = demo_devices["mmwave_radar"]
    with db.session_scope() as session:  # PostgreSQL: day partitions the rebuild must keep
        ensure_partitions(session=session, now=START, ahead=1, behind=1)
        partitions = list_partitions(session)
    db.engine.dispose()
    migrate.downgrade(database_url, "iot_0004")
    t0 = START - timedelta(hours=1)
    narrow = [  # (device, ts, key, num, text, message id): the shape before iot_0005
        (mat, t0, "heart_rate", 61.0, None, "a"),
        (mat, t0, "in_bed", 1.0, None, "a"),
        (mat, t0 + timedelta(minutes=1), "in_bed", 0.0, None, "b"),
        (radar, t0, "fall", 1.0, None, "r"),
        (radar, t0, "presence", 0.0, None, "r"),
    ]
    # The old table as iot_0004 left it (UTCDateTime stores ts as the app always did).
    old = Table(
        "readings",
        MetaData(),
        Column("device_id", String),
        Column("ts", UTCDateTime()),
        Column("key", String),
        Column("num", Float),
        Column("text", String),
        Column("message_id", String),
    )
    names = ("device_id", "ts", "key", "num", "text", "message_id")
    with db.engine.begin() as conn:
        conn.execute(insert(old), [dict(zip(names, row, strict=True)) for row in narrow])
    db.engine.dispose()
    migrate.upgrade(database_url)
    db.engine.dispose()
    with db.session_scope() as session:
        rows = session.execute(
            select(Reading.device_id, Reading.message_id, Reading.data).order_by(Reading.id)
        ).all()
        assert [(d, m, data) for d, m, data in rows] == [
            (mat, "a", {"heart_rate": 61.0, "in_bed": True}),
            (mat, "b", {"in_bed": False}),
            (radar, "r", {"fall": True, "presence": False}),
        ]
        assert list_partitions(session) == partitions
        device = session.get(Device, mat)
        assert device is not None
        found = service.messages_between(
            session=session, device=device, start=t0, end=START, keys=["in_bed"]
        )
    assert found == [(t0, {"in_bed": True}), (t0 + timedelta(minutes=1), {"in_bed": False})]
    # New messages keep numbering after the converted ones.
    _store(context, mat, _mat_messages(1))
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Reading)) == 4


def test_claims_lose_their_foreign_key_and_keep_their_rows_both_ways(
    database_url, context, db, demo_devices
):
    """iot_0006: claims are kept across the change and its reversal; only the key goes."""
    mat, _ = demo_devices["sleep_mat"]
    assert _store(context, mat, _mat_messages(3)) == [3, 0]
    db.engine.dispose()

    def foreign_keys() -> list[str | None]:
        with db.engine.connect() as conn:
            found = [fk["name"] for fk in inspect(conn).get_foreign_keys("ingested_messages")]
        db.engine.dispose()
        return found

    assert foreign_keys() == []
    migrate.downgrade(database_url, "iot_0005")
    assert foreign_keys() == ["fk_ingested_messages_device_id_devices"]
    migrate.upgrade(database_url)
    assert foreign_keys() == []
    with db.session_scope() as session:
        claimed = session.scalars(
            select(IngestedMessage.message_id).where(IngestedMessage.device_id == mat)
        ).all()
    assert sorted(claimed) == ["m-0", "m-1", "m-2"]
    assert _store(context, mat, _mat_messages(3)) == [0, 3]  # still claimed: stored once
