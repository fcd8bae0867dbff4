"""Background workers: a daemon thread that ticks on an interval until the process stops it.

Domains declare worker factories in their setup (`core.domain.Domain.workers`); the app's
lifespan starts and stops each. A tick that fails is logged and the next one runs (it retries
the same work: every worker's work lives in rows, not in memory).

The lifespan starts them behind one `StartLine`: a worker's first tick is its most expensive
(statements compiled for the first time, whatever piled up while the process was down), and
seven of them starting at once shared the GIL, the CPU and SQLite's writer gate with the
server's first requests (docs/performance.md, "Alarm latency"). A later first tick loses
nothing: the work waits in its rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anxin.core.context import AppContext
    from anxin.core.unit import UnitOfWork

log = logging.getLogger(__name__)


class StartLine:
    """Holds the first ticks of the workers started behind it: none before `delay_s` after the
    line is made (the server answers its first requests meanwhile), then one at a time in the
    order the workers came, so that requests share the process with one cold tick, not with
    all of them."""

    def __init__(self, delay_s: float) -> None:
        self._opens_at = time.monotonic() + delay_s
        self._changed = threading.Condition()
        self._queue: deque[object] = deque()
        self._busy = False

    @property
    def waiting(self) -> int:
        """Workers waiting for their first tick's turn."""
        return len(self._queue)

    def wait_turn(self, stopped: threading.Event) -> bool:
        """Wait until this worker's first tick may run; False if `stopped` was set first."""
        me = object()
        with self._changed:
            self._queue.append(me)
            try:
                while not stopped.is_set():
                    until_open = self._opens_at - time.monotonic()
                    if until_open <= 0 and not self._busy and self._queue[0] is me:
                        self._busy = True
                        return True
                    self._changed.wait(until_open if until_open > 0 else None)
                return False
            finally:
                self._queue.remove(me)
                self._changed.notify_all()  # whoever is first in line now looks again

    def done(self) -> None:
        """The first tick that had the turn is over: the next waiting worker's may run."""
        with self._changed:
            self._busy = False
            self._changed.notify_all()

    def wake(self) -> None:
        """Let waiting workers look at their stop flags again."""
        with self._changed:
            self._changed.notify_all()


class PeriodicWorker:
    """Subclasses set `name` and `interval_s` and implement `tick`; `immediately` ticks once at
    start instead of waiting an interval first. Started behind a `StartLine`, the first tick
    also waits for its turn there."""

    name = "worker"
    interval_s = 1.0
    immediately = False

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._line: StartLine | None = None
        self.ticks = 0
        self.last_error: str | None = None

    def tick(self) -> object:
        raise NotImplementedError

    def _run(self) -> None:
        if not self.immediately and self._stop.wait(self.interval_s):
            return
        if not self._first_tick():
            return
        while not self._stop.wait(self.interval_s):
            self._tick_once()

    def _first_tick(self) -> bool:
        """Tick once, after waiting for the turn on the start line if there is one; False if
        stopped while waiting."""
        line = self._line
        if line is None:
            self._tick_once()
            return True
        if not line.wait_turn(self._stop):
            return False
        try:
            self._tick_once()
        finally:
            line.done()
        return True

    def _tick_once(self) -> None:
        try:
            self.tick()
            self.ticks += 1
            self.last_error = None
        except Exception as exc:  # keep ticking: the next tick retries the same work
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("%s: tick failed", self.name)

    def start(self, line: StartLine | None = None) -> None:
        """Run in a thread of its own; behind `line`, the first tick waits for its turn."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._line = line
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._line is not None:
            self._line.wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class UnitSweeper(PeriodicWorker):
    """A worker whose tick is one sweep in its own unit of work, as `actor` (`work(uow, now)`
    returns how many rows it handled): the shape of every "find what is overdue" worker."""

    def __init__(
        self,
        context: AppContext,
        *,
        name: str,
        actor: str,
        interval_s: float,
        work: Callable[[UnitOfWork, datetime], int],
    ) -> None:
        super().__init__()
        self.context, self.name, self.actor = context, name, actor
        self.interval_s, self.immediately, self.work = interval_s, True, work

    def tick(self) -> int:
        with self.context.unit(actor=self.actor) as uow:
            return self.work(uow, uow.now())
