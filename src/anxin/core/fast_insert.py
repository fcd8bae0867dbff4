"""Many rows into (or onto) one table at the driver level: psycopg `COPY` (straight in, or
into a temporary stage that one statement then reads) on PostgreSQL, the sqlite3 cursor's
`executemany` on SQLite, a Core `executemany` elsewhere.

SQLAlchemy's `executemany` spends more per row than the database does here (a parameter dict
per row, its type processing, psycopg's per-row pipeline). These functions take rows as tuples
in a fixed column order, convert each value with the column type's own bind processor for the
dialect (so the stored values are exactly what the ORM would store), and hand them to the
driver in one go. Nothing here is ORM-aware: callers expire what they change behind its back.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Dialect, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from anxin.core.db import upsert_insert

Row = Sequence[Any]
CHUNK = 1000  # keys per IN (...) list when reading back what an insert skipped


def _processors(
    table: Table, columns: Sequence[str], dialect: Dialect
) -> list[Callable[[Any], Any] | None]:
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]


def driver_values(
    table: Table, columns: Sequence[str], rows: Sequence[Row], dialect: Dialect
) -> list[tuple[Any, ...]]:
    """`rows` with every value as the driver receives it from SQLAlchemy for this column."""
    processors = _processors(table, columns, dialect)
    active = [(i, _remembering(fn)) for i, fn in enumerate(processors) if fn is not None]
    if not active:
        return [tuple(row) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for i, fn in active:
            values[i] = fn(values[i])
        out.append(tuple(values))
    return out


def _remembering(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`fn` converting each distinct scalar once: a batch repeats the same moment, enum and
    flag thousands of times. Equal values convert alike (an instant in any zone to the same UTC
    text, an enum and its value to the value); documents (dicts, lists) convert every time."""
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if isinstance(value, dict | list):
            return fn(value)
        try:
            return seen[value]
        except KeyError:
            seen[value] = converted = fn(value)
            return converted

    return convert


def _psycopg(session: Session) -> Any | None:
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        return connection.connection.driver_connection
    return None


def _sqlite(session: Session) -> Any | None:
    connection = session.connection()
    if connection.dialect.name == "sqlite" and connection.dialect.driver == "pysqlite":
        return connection.connection.driver_connection
    return None


def _staged(raw: Any, table: Table, columns: Sequence[str], values: Sequence[Row]) -> str:
    """PostgreSQL: `values` copied into a temporary table of `table`'s `columns` (no
    constraints), emptied first and at commit; returns its name. A statement reading it costs
    what `COPY` costs per row, where ``unnest`` over one array parameter per column made
    psycopg build every array in Python (a quarter of a 4,892-alarm raise's client time)."""
    names = ", ".join(columns)
    stage = f"_stage_{table.name}_{zlib.crc32(names.encode()):08x}"
    with raw.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608 - names from the table
            f"SELECT {names} FROM {table.name} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {stage}")  # an earlier call in this transaction filled it
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    return stage


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Row]
) -> None:
    """Insert `rows` (tuples in `columns` order) into `table`; columns left out take their
    server defaults (an autoincrement id numbers the rows in the order given)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    names = ", ".join(columns)
    raw = _psycopg(session)
    if raw is not None:
        values = driver_values(table, columns, rows, dialect)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        return
    raw = _sqlite(session)
    if raw is not None:
        values = driver_values(table, columns, rows, dialect)
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({_placeholders(len(columns))})"  # noqa: S608 - names from the table
        cursor = raw.cursor()
        try:
            cursor.executemany(statement, values)
        finally:
            cursor.close()
        return
    session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def insert_new_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Row],
    *,
    unique: str,
    key: str,
) -> set[Any]:
    """Insert `rows`, skipping any whose `unique` column value is taken (ON CONFLICT DO
    NOTHING); returns the `key` column values of the rows inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect
    names = ", ".join(columns)
    raw = _psycopg(session)
    if raw is not None:
        # The conflict clause rules out COPY into the table itself: COPY into a stage.
        stage = _staged(raw, table, columns, driver_values(table, columns, rows, dialect))
        with raw.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} "  # noqa: S608 - names from the table
                f"ON CONFLICT ({unique}) DO NOTHING RETURNING {key}"
            )
            return {found for (found,) in cursor.fetchall()}
    raw = _sqlite(session)
    keys = [row[list(columns).index(key)] for row in rows]
    if raw is not None:
        values = driver_values(table, columns, rows, dialect)
        statement = (
            f"INSERT INTO {table.name} ({names}) VALUES ({_placeholders(len(columns))}) "  # noqa: S608 - names from the table
            f"ON CONFLICT ({unique}) DO NOTHING"
        )
        cursor = raw.cursor()
        try:
            cursor.executemany(statement, values)
            inserted = cursor.rowcount
        finally:
            cursor.close()
        if inserted == len(rows):
            return set(keys)
        return _present(session, table, key, keys)
    stmt = (
        upsert_insert(session, table)
        .on_conflict_do_nothing(index_elements=[unique])
        .returning(table.c[key])
    )
    return set(session.scalars(stmt, [dict(zip(columns, row, strict=True)) for row in rows]))


def _present(session: Session, table: Table, key: str, keys: Sequence[Any]) -> set[Any]:
    """Which of `keys` the table holds (the ones an insert skipped are not there)."""
    column = table.c[key]
    found: set[Any] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(session.scalars(select(column).where(column.in_(keys[start : start + CHUNK]))))
    return found


def table_of(model: Any) -> Table:
    """A mapped class's table, typed."""
    return cast(Table, model.__table__)


def update_rows(
    session: Session, table: Table, key: str, columns: Sequence[str], rows: Sequence[Row]
) -> None:
    """Set `columns` on the rows whose `key` column holds each row's first value (rows are
    ``(key, *values)`` in `columns` order): one ``UPDATE … FROM`` a `COPY` stage on PostgreSQL, the
    sqlite3 cursor's executemany on SQLite."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    names = (key, *columns)
    values = driver_values(table, names, rows, dialect)
    sets = ", ".join(f"{name} = v.{name}" for name in columns)
    raw = _psycopg(session)
    if raw is not None:
        stage = _staged(raw, table, names, values)
        with raw.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table.name} AS t SET {sets} FROM {stage} AS v "  # noqa: S608 - names from the table
                f"WHERE t.{key} = v.{key}"
            )
        return
    raw = _sqlite(session)
    if raw is not None:
        assignments = ", ".join(f"{name} = ?" for name in columns)
        cursor = raw.cursor()
        try:
            cursor.executemany(
                f"UPDATE {table.name} SET {assignments} WHERE {key} = ?",  # noqa: S608 - names from the table
                [(*row[1:], row[0]) for row in values],
            )
        finally:
            cursor.close()
        return
    stmt = (
        update(table)
        .where(table.c[key] == bindparam("b_key"))
        .values({name: bindparam(name) for name in columns})
    )
    session.execute(
        stmt, [{"b_key": row[0], **dict(zip(columns, row[1:], strict=True))} for row in rows]
    )
