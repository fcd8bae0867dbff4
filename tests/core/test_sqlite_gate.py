"""SQLite writers pass a gate beside the file: held for exactly a write transaction."""

from __future__ import annotations

import fcntl
import multiprocessing as mp
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from anxin.core import sqlite_gate
from anxin.core.db import Database


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO t VALUES (1)", True),
        ("  update t SET x = 1", True),
        ("DELETE FROM t", True),
        ("REPLACE INTO t VALUES (1)", True),
        ("SAVEPOINT sa_savepoint_1", True),
        ("SELECT * FROM t", False),
        ("PRAGMA journal_mode=WAL", False),
        ("CREATE TABLE t (x)", False),
        ("RELEASE SAVEPOINT sa_savepoint_1", False),
    ],
)
def test_which_statements_open_a_write_transaction(statement, writes):
    assert sqlite_gate.opens_write_transaction(statement) is writes


def gate_is_taken(path: Path) -> bool:
    """Can another open file lock the gate of the database at `path` right now?"""
    return _locked(sqlite_gate.gate_path(str(path)))


@pytest.fixture
def gated(tmp_path: Path):
    path = tmp_path / "g.db"
    db = Database(f"sqlite:///{path}")
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER UNIQUE)"))
    yield db, path
    db.dispose()


def test_the_gate_is_held_from_the_first_write_to_commit_or_rollback(gated):
    db, path = gated
    with db.session_scope() as session:
        session.execute(text("SELECT count(*) FROM t")).scalar()
        assert not gate_is_taken(path)  # readers never take it
        session.execute(text("INSERT INTO t VALUES (1)"))
        assert gate_is_taken(path)
        session.execute(text("INSERT INTO t VALUES (2)"))
    assert not gate_is_taken(path)

    with pytest.raises(RuntimeError), db.session_scope() as session:
        session.execute(text("INSERT INTO t VALUES (3)"))
        assert gate_is_taken(path)
        raise RuntimeError("the unit of work fails")
    assert not gate_is_taken(path)

    with pytest.raises(OperationalError), db.session_scope() as session:
        session.execute(text("INSERT INTO no_such_table VALUES (1)"))  # fails before BEGIN
    assert not gate_is_taken(path)
    with db.session_scope() as session:
        assert session.execute(text("SELECT x FROM t ORDER BY x")).scalars().all() == [1, 2]


def _hold_write(path: str, started: mp.synchronize.Event, finish: mp.synchronize.Event) -> None:
    db = Database(f"sqlite:///{path}")
    with db.session_scope() as session:
        session.execute(text("INSERT INTO t VALUES (10)"))
        started.set()
        finish.wait(10)
    db.dispose()


def test_a_writer_in_another_process_holds_the_gate_until_it_commits(gated):
    db, path = gated
    ctx = mp.get_context("spawn")
    started, finish = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_write, args=(str(path), started, finish))
    child.start()
    try:
        assert started.wait(30)
        assert gate_is_taken(path)
        with db.session_scope() as session:  # reads go on beside the writer (WAL)
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        finish.set()
        child.join(30)
    assert child.exitcode == 0
    assert not gate_is_taken(path)
    with db.session_scope() as session:
        session.execute(text("INSERT INTO t VALUES (11)"))
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_writer_that_cannot_pass_in_time_gets_database_is_locked_and_writes_nothing(
    gated, monkeypatch
):
    db, path = gated
    fd = os.open(sqlite_gate.gate_path(str(path)), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # someone else is writing and does not finish
    try:
        with db.engine.connect() as conn:
            gate = conn.connection.dbapi_connection.gate  # type: ignore[union-attr]
            monkeypatch.setattr(gate, "timeout_s", 0.05)
            with pytest.raises(OperationalError, match="database is locked"):
                conn.execute(text("INSERT INTO t VALUES (5)"))
            conn.rollback()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    with db.session_scope() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_in_memory_databases_have_no_gate():
    db = Database("sqlite://")
    with db.engine.connect() as conn:
        assert not isinstance(conn.connection.dbapi_connection, sqlite_gate.GatedConnection)
        assert isinstance(conn.connection.dbapi_connection, sqlite3.Connection)
    db.dispose()


def _lock(path: Path, mode: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, mode)
    return fd


def _unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def test_an_interactive_writer_that_waits_says_so(tmp_path, monkeypatch):
    gate_file = tmp_path / "w"
    monkeypatch.setattr(sqlite_gate, "_bulk", False)
    holder = _lock(gate_file, fcntl.LOCK_EX)
    gate, waiter = _acquiring(gate_file)
    try:
        # While it waits, the waiting file is held shared: a bulk writer cannot lock it.
        assert _eventually(lambda: _locked(Path(f"{gate_file}-waiting")))
    finally:
        _unlock(holder)
        waiter.join(10)
    assert gate.held and not _locked(Path(f"{gate_file}-waiting"))
    gate.close()


@pytest.mark.parametrize("yield_s", [30.0, 0.05])
def test_a_bulk_writer_lets_a_waiting_interactive_writer_go_first_for_so_long(
    tmp_path, monkeypatch, yield_s
):
    gate_file = tmp_path / "w"
    monkeypatch.setattr(sqlite_gate, "_bulk", True)
    monkeypatch.setattr(sqlite_gate, "BULK_YIELD_S", yield_s)
    waiting = _lock(Path(f"{gate_file}-waiting"), fcntl.LOCK_SH)  # an API request waits
    gate, bulk = _acquiring(gate_file)
    try:
        bulk.join(0.5)
        if yield_s > 1:  # the gate is free, yet the bulk writer waits
            assert bulk.is_alive() and not gate.held
        else:  # it stops yielding after yield_s, though someone still waits
            assert not bulk.is_alive() and gate.held
    finally:
        _unlock(waiting)
    bulk.join(10)
    assert gate.held
    gate.close()


def _acquiring(gate_file: Path) -> tuple[sqlite_gate.WriterGate, threading.Thread]:
    """A gate acquiring in a thread of its own (the caller joins it)."""
    gate = sqlite_gate.WriterGate(gate_file, timeout_s=10)
    thread = threading.Thread(target=gate.acquire)
    thread.start()
    return gate, thread


def _locked(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _eventually(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False
