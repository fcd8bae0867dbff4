"""Background workers: a daemon thread that ticks on an interval until the process stops it.

Domains declare worker factories in their setup (`core.domain.Domain.workers`); the app's
lifespan starts and stops each. A tick that fails is logged and the next one runs (it retries
the same work: every worker's work lives in rows, not in memory).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anxin.core.context import AppContext
    from anxin.core.unit import UnitOfWork

log = logging.getLogger(__name__)


class PeriodicWorker:
    """Subclasses set `name` and `interval_s` and implement `tick`; `immediately` ticks once at
    start instead of waiting an interval first."""

    name = "worker"
    interval_s = 1.0
    immediately = False

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.last_error: str | None = None

    def tick(self) -> object:
        raise NotImplementedError

    def _run(self) -> None:
        if not self.immediately and self._stop.wait(self.interval_s):
            return
        while not self._stop.is_set():
            try:
                self.tick()
                self.ticks += 1
                self.last_error = None
            except Exception as exc:  # keep ticking: the next tick retries the same work
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s: tick failed", self.name)
            self._stop.wait(self.interval_s)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
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
