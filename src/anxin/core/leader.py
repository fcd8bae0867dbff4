"""One process runs the domain workers, however many serve requests.

`anxin serve --workers N` starts N uvicorn processes on one database. Requests may go to any of
them, but the background workers (the alarm engine's escalations and outbox, the rule sweeper,
ledger checkpoints, retention…) must run in exactly one: two escalation engines would each fire
a step, two sweepers would race for the same timers. Each process asks for leadership at start;
the one that gets it runs the workers, the others ask again every `retry_s` seconds, so when the
leader dies another process takes over.

- PostgreSQL: a session-level advisory lock held on a connection of its own for as long as the
  process leads; the server releases it when that connection goes (a crash included).
- SQLite (a file): an exclusive `flock` on ``<database>.leader`` beside the file; the kernel
  releases it when the process exits. (One machine, as SQLite itself.)
- An in-memory database is private to its process: always the leader.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from anxin.core.config import Settings

log = logging.getLogger(__name__)

# pg_try_advisory_lock key: "anxin" + "lead" as 8 bytes, so it cannot clash with small keys.
ADVISORY_KEY = int.from_bytes(b"anxnlead", "big", signed=True)


class Leadership:
    """Try to become the leader (`try_acquire`); stay it until `release` or process exit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._file: Any = None
        self._connection: Any = None
        self._engine: Any = None
        self.held = False

    def try_acquire(self) -> bool:
        if self.held:
            return True
        url = self.settings.database_url
        if url.startswith("postgresql"):
            self.held = self._try_postgres(url)
        elif (path := self.settings.sqlite_path()) is not None:
            self.held = self._try_flock(path)
        else:
            self.held = True
        return self.held

    def _try_flock(self, path: Path) -> bool:
        handle = open(Path(f"{path}.leader"), "a+")  # noqa: SIM115 - held while leading
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def _try_postgres(self, url: str) -> bool:
        if self._engine is None:
            self._engine = create_engine(url, poolclass=NullPool)
        connection = self._engine.connect()
        try:
            got = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
                ).scalar()
            )
            connection.commit()  # the lock is the session's, not the transaction's
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self.held = False


class LeaderElection:
    """Runs `on_lead` once this process becomes the leader: at once if it can, else from a
    thread that asks again every `retry_s` seconds until it does or `stop` is called."""

    def __init__(
        self, leadership: Leadership, on_lead: Callable[[], None], *, retry_s: float = 5.0
    ) -> None:
        self.leadership = leadership
        self.on_lead = on_lead
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self.leadership.held

    def start(self) -> None:
        if self._ask():
            return
        self._thread = threading.Thread(target=self._wait, name="leader-election", daemon=True)
        self._thread.start()

    def _ask(self) -> bool:
        try:
            if not self.leadership.try_acquire():
                return False
        except Exception:  # the database is away: ask again later
            log.exception("leader election failed; retrying")
            return False
        log.info("this process (pid %s) leads: it runs the background workers", os.getpid())
        self.on_lead()
        return True

    def _wait(self) -> None:
        while not self._stop.wait(self.retry_s):
            if self._ask():
                return

    def stop(self) -> None:
        """Stop asking (the caller then stops the workers, then calls `release`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def release(self) -> None:
        self.leadership.release()
