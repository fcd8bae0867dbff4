"""`core.fast_insert` on both databases: the rows land as the ORM would store them, a taken
unique key is skipped and reported, and several calls in one transaction do not see each
other's rows (on PostgreSQL they share one temporary stage per table and column set)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, DateTime, MetaData, Numeric, String, Table, select

from anxin.core.db import Database
from anxin.core.fast_insert import insert_new_rows, insert_rows, update_rows

AT = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)


def _table(db: Database) -> Table:
    metadata = MetaData()
    table = Table(
        "fast_insert_probe",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("code", String(40), unique=True),
        Column("amount", Numeric(18, 2)),
        Column("at", DateTime(timezone=True)),
        Column("doc", JSON),
    )
    metadata.create_all(db.engine)
    return table


def _rows(db: Database, table: Table) -> dict[str, tuple[object, ...]]:
    with db.session_scope() as session:
        found = session.execute(select(table).order_by(table.c.id)).all()
    return {row.id: (row.code, row.amount, row.doc) for row in found}


COLUMNS = ("id", "code", "amount", "at", "doc")


def test_rows_are_stored_and_a_taken_key_is_skipped(db: Database) -> None:
    table = _table(db)
    with db.session_scope() as session:
        insert_rows(session, table, COLUMNS, [("a", "k1", Decimal("1.50"), AT, {"n": 1})])
        # Two calls in one transaction: the second must not re-insert the first's rows.
        first = insert_new_rows(
            session, table, COLUMNS,
            [("b", "k2", Decimal("2.00"), AT, {"n": 2}), ("c", "k1", Decimal("9"), AT, {})],
            unique="code", key="id",
        )  # fmt: skip
        second = insert_new_rows(
            session, table, COLUMNS, [("d", "k3", Decimal("3.25"), AT, ["x"])],
            unique="code", key="id",
        )  # fmt: skip
    assert first == {"b"}  # "c" wanted k1, which "a" holds
    assert second == {"d"}
    assert _rows(db, table) == {
        "a": ("k1", Decimal("1.50"), {"n": 1}),
        "b": ("k2", Decimal("2.00"), {"n": 2}),
        "d": ("k3", Decimal("3.25"), ["x"]),
    }


def test_updates_set_only_the_rows_named_and_twice_in_one_transaction(db: Database) -> None:
    table = _table(db)
    with db.session_scope() as session:
        insert_rows(
            session, table, COLUMNS,
            [(i, f"k{i}", Decimal("1"), AT, {}) for i in ("a", "b", "c")],
        )  # fmt: skip
    with db.session_scope() as session:
        update_rows(session, table, "id", ("amount", "doc"), [("a", Decimal("7.10"), {"v": 1})])
        update_rows(session, table, "id", ("amount", "doc"), [("b", Decimal("8.20"), {"v": 2})])
    assert _rows(db, table) == {
        "a": ("ka", Decimal("7.10"), {"v": 1}),
        "b": ("kb", Decimal("8.20"), {"v": 2}),
        "c": ("kc", Decimal("1.00"), {}),
    }


def test_a_rolled_back_transaction_leaves_nothing_behind(db: Database) -> None:
    table = _table(db)
    try:
        with db.session_scope() as session:
            insert_new_rows(
                session, table, COLUMNS, [("a", "k1", Decimal("1"), AT, {})],
                unique="code", key="id",
            )  # fmt: skip
            raise RuntimeError("the unit of work fails after the insert")
    except RuntimeError:
        pass
    with db.session_scope() as session:
        inserted = insert_new_rows(
            session, table, COLUMNS, [("b", "k1", Decimal("2"), AT, {})], unique="code", key="id"
        )
    assert inserted == {"b"}
    assert _rows(db, table) == {"b": ("k1", Decimal("2.00"), {})}
