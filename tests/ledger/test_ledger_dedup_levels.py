"""Repeats are found in both dedup levels: recent fact keys and the merged fact-key index."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from tests.property_budget import examples

from anxin.core import migrate
from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.ledger import merkle, runtime, service
from anxin.ledger.entry import fact_key64
from anxin.ledger.models import LedgerEntry, LedgerFactIndex, LedgerRecentFact, LedgerTree
from anxin.ledger.service import DedupTuning, NewEntry

HASHES = [f"{i:064x}" for i in range(1, 7)]
FACTS = [
    NewEntry(t, o, None, h) for t in ("t.x", "t.y") for o in ("org-1", "org-2") for h in HASHES
]


def _append(db: Database, clock: FrozenClock, facts: list[NewEntry]) -> list[int]:
    with db.session_scope() as session:
        return service.append_entries(session=session, entries=facts, now=clock.now())


def _merge(db: Database, clock: FrozenClock, limit: int) -> int:
    with db.session_scope() as session:
        return service.merge_recent_facts(session=session, limit=limit, now=clock.now())


def _levels(db: Database) -> tuple[int, int, int]:
    """(keys in the recent level, keys in the merged index, the merged boundary)."""
    with db.session_scope() as session:
        recent = session.execute(select(func.count()).select_from(LedgerRecentFact)).scalar_one()
        merged = session.execute(select(func.count()).select_from(LedgerFactIndex)).scalar_one()
        boundary = session.execute(select(LedgerTree.merged_size)).scalar_one()
    return int(recent), int(merged), int(boundary)


def test_a_repeat_is_found_in_the_recent_level_and_after_the_merge(
    db: Database, clock: FrozenClock
) -> None:
    first = _append(db, clock, FACTS[:4])
    assert _levels(db) == (4, 0, 0)
    assert _append(db, clock, [FACTS[2], FACTS[0]]) == [first[2], first[0]]  # recent level
    assert _merge(db, clock, limit=3) == 3  # the oldest three move, in key order
    assert _levels(db) == (1, 3, 3)
    # One repeat in each level, and a new fact, in one batch.
    again = _append(db, clock, [FACTS[3], FACTS[1], FACTS[4]])
    assert again == [first[3], first[1], 4]
    assert _merge(db, clock, limit=100) == 2
    assert _levels(db) == (0, 5, 5)
    assert _append(db, clock, FACTS[:5]) == [*first, 4]
    assert _merge(db, clock, limit=100) == 0


def test_a_colliding_key_in_the_merged_index_does_not_hide_a_new_fact(
    db: Database, clock: FrozenClock
) -> None:
    """The full fact decides: a merged entry sharing the 64-bit key is only a candidate."""
    (first,) = _append(db, clock, [FACTS[0]])
    _merge(db, clock, limit=10)
    other = FACTS[1]
    with db.session_scope() as session:  # force a collision with the fact about to come
        session.execute(
            text("UPDATE ledger_fact_index SET fact_key = :k WHERE seq = :s"),
            {"k": fact_key64(other.entry_type, other.organisation_id, HASHES[1]), "s": first},
        )
    assert _append(db, clock, [other, FACTS[0]]) == [1, first]


def test_recent_keys_survive_a_crash_before_the_merge_and_are_merged_later(
    database_url: str, db: Database, clock: FrozenClock
) -> None:
    seqs = _append(db, clock, FACTS[:6])
    with pytest.raises(RuntimeError), db.session_scope() as session:  # dies mid-merge
        service.merge_recent_facts(session=session, limit=4, now=clock.now())
        raise RuntimeError("process killed before the merge committed")
    db.dispose()  # a new process on the same database
    restarted = Database(database_url)
    try:
        assert _levels(restarted) == (6, 0, 0)
        assert _append(restarted, clock, FACTS[5::-1]) == seqs[::-1]
        assert _merge(restarted, clock, limit=4) == 4
        assert _merge(restarted, clock, limit=4) == 2
        assert _levels(restarted) == (0, 6, 6)
        assert _append(restarted, clock, FACTS[:7]) == [*seqs, 6]
    finally:
        restarted.dispose()


def test_the_merge_worker_empties_the_recent_level_in_bounded_merges(
    context: AppContext, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        service, "dedup_tuning", lambda: DedupTuning(merge_rows=4, sqlite_cache_mib=8)
    )
    _append(db, clock, FACTS[:3])
    assert runtime.merge_fact_keys(context) == 0  # below the threshold: nothing moves
    assert _levels(db) == (3, 0, 0)
    seqs = _append(db, clock, FACTS[3:10])
    worker = runtime.LedgerWorker("ledger-fact-merge", runtime.merge_fact_keys, context, 1.0)
    assert worker.tick() == 8  # two merges of four, each its own unit
    assert _levels(db) == (2, 8, 8)
    assert _append(db, clock, FACTS[9::-1]) == [*seqs[::-1], 2, 1, 0]
    assert runtime.fact_merger(context) is None  # tests merge when they choose to


def test_merge_if_due_waits_for_the_threshold(db: Database, clock: FrozenClock) -> None:
    _append(db, clock, FACTS[:5])
    with db.session_scope() as session:
        assert service.merge_if_due(session=session, now=clock.now(), threshold=6) == 0
        assert service.merge_if_due(session=session, now=clock.now(), threshold=5) == 5
    assert _levels(db) == (0, 5, 5)


def test_audit_finds_a_fact_key_missing_from_both_levels(db: Database, clock: FrozenClock) -> None:
    _append(db, clock, FACTS[:4])
    _merge(db, clock, limit=2)
    with db.session_scope() as session:
        assert service._dedup_level_problems(session, 4) == []
        session.execute(text("DELETE FROM ledger_recent_facts WHERE seq = 3"))
        problems = service._dedup_level_problems(session, 4)
    assert problems == ["ledger_recent_facts: 1 fact keys in [2, 2], entries 2..3 expected"]


def test_migration_0004_moves_keys_up_and_restores_the_old_index_down(
    database_url: str, db: Database, clock: FrozenClock
) -> None:
    seqs = _append(db, clock, FACTS[:8])
    _merge(db, clock, limit=3)  # three keys merged, five recent
    db.engine.dispose()
    migrate.downgrade(database_url, "ledger_0003")
    engine = sa.create_engine(database_url)
    try:
        inspector = sa.inspect(engine)
        assert "ledger_recent_facts" not in inspector.get_table_names()
        assert "ledger_fact_index" not in inspector.get_table_names()
        assert "merged_size" not in {c["name"] for c in inspector.get_columns("ledger_tree")}
        indexed = {tuple(i["column_names"]) for i in inspector.get_indexes("ledger_entries")}
        assert ("fact_key",) in indexed
        with engine.connect() as conn:
            keys = conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one()
        assert keys == 8
    finally:
        engine.dispose()
    migrate.upgrade(database_url)
    db.engine.dispose()
    assert _levels(db) == (0, 8, 8)  # every existing entry merged
    with db.session_scope() as session:
        rows = session.execute(select(LedgerFactIndex.seq, LedgerFactIndex.fact_key)).all()
        stored = dict(session.execute(select(LedgerEntry.seq, LedgerEntry.fact_key)).all())
    assert dict(rows) == stored
    assert _append(db, clock, FACTS[:9]) == [*seqs, 8]
    assert _levels(db) == (1, 8, 8)


# --- property: two levels answer exactly as one index would ------------------------------


def _wipe(db: Database) -> None:
    with db.session_scope() as session:
        for table in (
            "ledger_recent_facts",
            "ledger_fact_index",
            "ledger_nodes",
            "ledger_entries",
            "ledger_tree",
        ):
            session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names


Step = tuple[str, list[int]]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.lists(st.integers(0, len(FACTS) - 1), max_size=8)),
        st.tuples(st.just("merge"), st.lists(st.integers(1, 6), min_size=1, max_size=1)),
    ),
    max_size=12,
)


# The database fixture is shared by the examples: each one starts by emptying the ledger.
@settings(parent=examples(40), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_any_interleaving_of_appends_repeats_and_merges_matches_one_index(
    db: Database, clock: FrozenClock, plan: list[Step]
) -> None:
    """The reference is the one-level index: a fact's number is where it first appeared."""
    _wipe(db)
    first_seen: dict[int, int] = {}
    for op, args in plan:
        if op == "merge":
            _merge(db, clock, limit=args[0])
            continue
        got = _append(db, clock, [FACTS[i] for i in args])
        expected = [first_seen.setdefault(i, len(first_seen)) for i in args]
        assert got == expected
    log = sorted(first_seen, key=first_seen.__getitem__)
    with db.session_scope() as session:
        facts = session.execute(
            select(
                LedgerEntry.entry_type, LedgerEntry.organisation_id, LedgerEntry.payload_sha256
            ).order_by(LedgerEntry.seq)
        ).all()
        leaves = session.execute(select(LedgerEntry.leaf).order_by(LedgerEntry.seq)).scalars()
        acc = merkle.CompactRange()
        for leaf in leaves:
            acc.append(merkle.leaf_hash(bytes(leaf)))
        assert service.root_hash(session=session, size=len(log)) == acc.root()
        assert service._dedup_level_problems(session, len(log)) == []
    assert [tuple(f) for f in facts] == [
        (FACTS[i].entry_type, FACTS[i].organisation_id, FACTS[i].payload_sha256) for i in log
    ]
