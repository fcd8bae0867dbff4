"""SQLAlchemy 2 engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    MetaData,
    Numeric,
    String,
    create_engine,
    event,
    make_url,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from anxin.core import sqlite_gate
from anxin.core.clock import ensure_utc
from anxin.core.config import Settings
from anxin.core.unit import UnitSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware.

    SQLite has no time zones and hands back naive values; this keeps both databases alike.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = ensure_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            from datetime import UTC

            return value.replace(tzinfo=UTC)
        return ensure_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        Decimal: Numeric(18, 2),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        list[str]: JSON(),
    }


def new_id() -> str:
    """Primary keys are UUID4 strings: unguessable, portable, safe to show."""
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """`count` UUID4 strings from one read of the random source (`new_id` makes a `UUID`
    object and reads it once per id: for a batch of thousands, that is most of the cost)."""
    pool = os.urandom(16 * count).hex()
    out = []
    for start in range(0, 32 * count, 32):
        h = pool[start : start + 32]
        # Version 4 and the RFC 4122 variant, as uuid.uuid4 sets them.
        variant = "89ab"[int(h[16], 16) & 3]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return out


ID = String(36)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


SQLITE_BUSY_TIMEOUT_S = 30


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
    if not in_memory:
        connect_args["factory"] = sqlite_gate.GatedConnection
    engine = create_engine(
        url,
        echo=echo,
        connect_args=connect_args,
        poolclass=StaticPool if in_memory else None,
    )
    database = make_url(url).database or ""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Writers queue at a gate beside the file instead of SQLite's stepped retry sleeps.
        sqlite_gate.install(dbapi_conn, database, SQLITE_BUSY_TIMEOUT_S)
        # WAL lets readers run beside the one writer; FKs are off by default in SQLite.
        cursor = dbapi_conn.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    return engine


class Database:
    """An engine and its session factory; one per process (or per test)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, class_=UnitSession, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        return cls(settings.database_url, echo=settings.database_echo)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A raw session outside any unit of work, for reads and for tables nobody audits
        (commit on success, roll back on any error). Business changes go through
        `AppContext.unit`, which knows the clock, the bus and the actor."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def upsert_insert(session: Session, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on both SQLite and PostgreSQL."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise NotImplementedError(f"no upsert for dialect {name}")


def insert_unnest(
    session: Session,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    suffix: str = "",
) -> Any:
    """PostgreSQL: insert `rows` in one statement over one array per column (`unnest`).

    `columns` are (name, SQL type) pairs; `suffix` follows the SELECT (``ON CONFLICT …``,
    ``RETURNING …``). Parameters stay a handful of arrays whatever the row count, so there is
    no per-row SQL text to build, parse or plan (a multi-row VALUES costs more to compile in
    SQLAlchemy than to run).
    """
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"CAST(:c{i} AS {kind}[])" for i, (_, kind) in enumerate(columns))
    params = {f"c{i}": [row[i] for row in rows] for i in range(len(columns))}
    return session.execute(
        sql_text(
            # Names and types come from the calling code, never from input.
            f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) AS t({names}) {suffix}"  # noqa: S608
        ),
        params,
    )
