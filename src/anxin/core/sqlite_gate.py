"""One writer at a time on a SQLite file, handed over without SQLite's coarse retry sleeps.

SQLite lets one connection write at a time. A connection that finds the write lock taken runs
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries, so a writer
waiting behind a 20 ms unit of work gets the lock only at 33 ms, and behind a 30 ms one at 53
ms. With an ingest consumer and the API writing side by side that step pattern was most of a
fall alarm's latency (docs/performance.md, "Alarm latency").

The gate is an advisory lock (`flock`) on a file beside the database, taken by a connection
before the statement that opens its write transaction (the driver's implicit ``BEGIN`` comes
with the first INSERT, UPDATE, DELETE or REPLACE) and released when that transaction commits
or rolls back. Every anxin process on the file goes through it, so SQLite's own lock is free
by the time a gated writer asks for it. Waiters poll the gate at most 1 ms apart; a writer that
waits longer than the busy timeout gets SQLite's own "database is locked" error, which the
callers already retry. Writers outside anxin (the sqlite3 shell) still meet SQLite's busy
handler, as before. Readers never touch the gate (WAL lets them read beside the writer).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Statements that open a transaction meant for writing: the driver's implicit BEGIN comes with
# the first four; SAVEPOINT outside a transaction starts one (a nested unit of work).
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")
MAX_POLL_S = 0.001


def opens_write_transaction(statement: str) -> bool:
    return statement.lstrip()[:9].upper().startswith(WRITE_VERBS)


# Set in ingest consumer processes (`bulk_writer_process`): their units of work wait while an
# interactive writer (an API request, the alarm worker) is waiting, up to BULK_YIELD_S.
_bulk = False
BULK_YIELD_S = 0.5


def bulk_writer_process() -> None:
    """Mark this process's writers as bulk: they let waiting interactive writers go first."""
    global _bulk
    _bulk = True


class WriterGate:
    """The gate of one connection: its own open files, so that threads exclude each other too
    (`flock` locks belong to an open file, not to a process).

    Beside the gate file, a *waiting* file: an interactive writer that finds the gate taken
    holds it shared while it waits; a bulk writer takes the gate only when it can lock that
    file exclusively (nobody waiting) or after BULK_YIELD_S.
    """

    def __init__(self, path: Path, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._waiting_fd = os.open(f"{path}-waiting", os.O_RDWR | os.O_CREAT, 0o600)
        self.held = False

    def acquire(self) -> None:
        if _bulk:
            self._acquire_bulk()
        elif not self._try(fcntl.LOCK_EX):
            fcntl.flock(self._waiting_fd, fcntl.LOCK_SH)
            try:
                self._poll(lambda: self._try(fcntl.LOCK_EX))
            finally:
                fcntl.flock(self._waiting_fd, fcntl.LOCK_UN)
        self.held = True

    def _acquire_bulk(self) -> None:
        yield_until = time.monotonic() + BULK_YIELD_S

        def nobody_waiting_and_free() -> bool:
            if time.monotonic() < yield_until:
                if not self._try(fcntl.LOCK_EX, self._waiting_fd):
                    return False
                fcntl.flock(self._waiting_fd, fcntl.LOCK_UN)
            return self._try(fcntl.LOCK_EX)

        self._poll(nobody_waiting_and_free)

    def _try(self, mode: int, fd: int | None = None) -> bool:
        try:
            fcntl.flock(self._fd if fd is None else fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _poll(self, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout_s
        pause = 0.0001
        while not ready():
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked")
            time.sleep(pause)
            pause = min(pause * 2, MAX_POLL_S)

    def release(self) -> None:
        if self.held:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.held = False

    def close(self) -> None:
        self.release()
        os.close(self._fd)
        os.close(self._waiting_fd)


class GatedCursor(sqlite3.Cursor):
    """Takes the connection's gate before a statement that opens a write transaction; an error
    raised here surfaces as the driver's own, so callers' retries treat it alike."""

    connection: GatedConnection

    def execute(self, sql: str, parameters: Any = (), /) -> GatedCursor:
        return self._through_gate(super().execute, sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> GatedCursor:
        return self._through_gate(super().executemany, sql, parameters)

    def _through_gate(
        self, run: Callable[[str, Any], Any], sql: str, parameters: Any
    ) -> GatedCursor:
        self.connection.before_statement(sql)
        try:
            run(sql, parameters)
        except BaseException:
            self.connection.release_if_done()
            raise
        return self


class GatedConnection(sqlite3.Connection):
    """A sqlite3 connection whose writers pass the gate; released when the transaction ends."""

    gate: WriterGate | None = None

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or GatedCursor)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_if_done()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_if_done()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.gate is not None:
                self.gate.close()
                self.gate = None

    def before_statement(self, statement: str) -> None:
        gate = self.gate
        if (
            gate is not None
            and not gate.held
            and not self.in_transaction
            and opens_write_transaction(statement)
        ):
            gate.acquire()

    def release_if_done(self) -> None:
        if self.gate is not None and not self.in_transaction:
            self.gate.release()


def gate_path(database: str) -> Path:
    return Path(f"{database}-writer")


def install(connection: Any, database: str, timeout_s: float) -> None:
    """Give a new `GatedConnection` its gate (called from the engine's connect event)."""
    if isinstance(connection, GatedConnection):
        connection.gate = WriterGate(gate_path(database), timeout_s)
