"""Repeats are found by a 64-bit fact key; the full fact decides, and the migration fills it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from anxin.core import migrate
from anxin.core.clock import FrozenClock
from anxin.core.db import Database
from anxin.ledger import service
from anxin.ledger.entry import fact_key64
from anxin.ledger.models import LedgerEntry
from anxin.ledger.service import NewEntry

HASH_A = "a" * 64
HASH_B = "b" * 64


def test_two_facts_sharing_a_key_are_both_appended_and_each_repeat_finds_its_own(
    db: Database, clock: FrozenClock
) -> None:
    with db.session_scope() as session:
        first, second = service.append_entries(
            session=session,
            entries=[
                NewEntry("t.x", "org-1", None, HASH_A),
                NewEntry("t.x", "org-1", None, HASH_B),
            ],
            now=clock.now(),
        )
        # Force a 64-bit collision: the second fact now carries the first one's key.
        session.execute(
            text("UPDATE ledger_entries SET fact_key = :k WHERE seq = :s"),
            {"k": fact_key64("t.x", "org-1", HASH_A), "s": second},
        )
        session.execute(
            text("UPDATE ledger_recent_facts SET fact_key = :k WHERE seq = :s"),
            {"k": fact_key64("t.x", "org-1", HASH_A), "s": second},
        )
    with db.session_scope() as session:
        again = service.append_entries(
            session=session,
            entries=[
                NewEntry("t.x", "org-1", None, HASH_B),
                NewEntry("t.x", "org-1", None, HASH_A),
                NewEntry("t.x", "org-2", None, HASH_A),  # another organisation: a new fact
            ],
            now=clock.now(),
        )
    assert again[:2] == [second, first]
    assert again[2] == second + 1


def test_the_migration_gives_existing_entries_their_key_and_repeats_still_dedup(
    database_url: str, db: Database, clock: FrozenClock
) -> None:
    with db.session_scope() as session:
        seqs = service.append_entries(
            session=session,
            entries=[NewEntry("t.x", "org-1", {"n": i}) for i in range(3)],
            now=clock.now(),
        )
    db.engine.dispose()
    migrate.downgrade(database_url, "ledger_0002")
    db.engine.dispose()
    migrate.upgrade(database_url)
    db.engine.dispose()
    with db.session_scope() as session:
        rows = session.execute(
            select(
                LedgerEntry.entry_type,
                LedgerEntry.organisation_id,
                LedgerEntry.payload_sha256,
                LedgerEntry.fact_key,
            ).order_by(LedgerEntry.seq)
        ).all()
        assert [k for *_, k in rows] == [fact_key64(t, o, p) for t, o, p, _ in rows]
        again = service.append_entries(
            session=session,
            entries=[NewEntry("t.x", "org-1", {"n": i}) for i in range(3)],
            now=clock.now(),
        )
    assert again == seqs


def test_the_migration_keys_thousands_of_entries_in_sql_as_python_would(
    database_url: str, db: Database, clock: FrozenClock
) -> None:
    """The key is computed by the database (PostgreSQL) or one SQL function (SQLite), range by
    range: every row must get exactly the key the application computes, non-ASCII included."""
    db.engine.dispose()
    migrate.downgrade(database_url, "ledger_0002")
    db.engine.dispose()
    types = ["t.x", "温度.读数", "collateral.lift"]
    orgs = ["org-1", "安信-二", "o" * 128]
    rows: list[dict[str, Any]] = [
        {
            # Sparse numbers, so that the UPDATE runs over several ranges (50,000 each).
            "seq": 1 + i * 37,
            "entry_type": types[i % 3],
            "organisation_id": orgs[(i // 3) % 3],
            "submitted_at": clock.now(),
            "payload_sha256": f"{i:064x}",
            "leaf": b"{}",
        }
        for i in range(3000)
    ]
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries"))
        conn.execute(
            text(
                "INSERT INTO ledger_entries (seq, entry_type, organisation_id, submitted_at, "
                "payload_sha256, leaf) VALUES (:seq, :entry_type, :organisation_id, "
                ":submitted_at, :payload_sha256, :leaf)"
            ),
            rows,
        )
    db.engine.dispose()
    migrate.upgrade(database_url)
    db.engine.dispose()
    with db.session_scope() as session:
        stored = dict(session.execute(select(LedgerEntry.seq, LedgerEntry.fact_key)).tuples().all())
    assert len(stored) == 3000
    assert stored == {
        r["seq"]: fact_key64(r["entry_type"], r["organisation_id"], r["payload_sha256"])
        for r in rows
    }
    assert len(set(stored.values())) == 3000
