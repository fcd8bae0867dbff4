"""Background workers start behind a start line: the server's first requests go before the
workers' first ticks, and those first ticks run one at a time (`core.workers.StartLine`).

No test waits for the line's delay: either it is 0 or the test stops the workers first.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anxin.app import create_app
from anxin.core import sqlite_gate
from anxin.core.clock import FrozenClock
from anxin.core.config import Settings
from anxin.core.context import AppContext
from anxin.core.workers import PeriodicWorker, StartLine
from tests.conftest import DEMO_PASSWORDS, login

WAIT_S = 30.0  # a bound on waits for another thread, never a timing


class _BlockedCondition(threading.Condition):
    """A condition that reports each thread that blocks on it."""

    def __init__(self, blocked: queue.Queue[str]) -> None:
        super().__init__()
        self.blocked = blocked

    def wait(self, timeout: float | None = None) -> bool:
        self.blocked.put(threading.current_thread().name)
        return super().wait(timeout)


class ObservedLine(StartLine):
    """A start line that tells the test which worker waits on it."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(delay_s)
        self.blocked: queue.Queue[str] = queue.Queue()
        self._changed = _BlockedCondition(self.blocked)


class HeldWorker(PeriodicWorker):
    """Its tick says it has begun, then holds until the test lets it go."""

    immediately = True
    interval_s = 3600.0

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.entered = threading.Event()
        self.release = threading.Event()

    def tick(self) -> None:
        self.entered.set()
        assert self.release.wait(WAIT_S)


@pytest.fixture
def held() -> Any:
    workers: list[HeldWorker] = []

    def make(name: str) -> HeldWorker:
        worker = HeldWorker(name)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.release.set()
        worker.stop()


def test_first_ticks_behind_a_start_line_run_one_at_a_time_in_arrival_order(held):
    line = ObservedLine(0)
    first, second, third = held("first"), held("second"), held("third")
    first.start(line)
    assert first.entered.wait(WAIT_S)
    second.start(line)
    assert line.blocked.get(timeout=WAIT_S) == "second"  # it waits for the first tick's end
    third.start(line)
    assert line.blocked.get(timeout=WAIT_S) == "third"
    assert not second.entered.is_set() and not third.entered.is_set()
    first.release.set()
    assert second.entered.wait(WAIT_S)
    assert not third.entered.is_set()  # behind the second, which came first
    second.release.set()
    assert third.entered.wait(WAIT_S)
    third.release.set()
    for worker in (first, second, third):
        worker.stop()
        assert worker.ticks == 1


def test_a_worker_stopped_before_the_line_opens_never_ticks(held):
    line = ObservedLine(3600)
    worker = held("waiting")
    worker.start(line)
    assert line.blocked.get(timeout=WAIT_S) == "waiting"
    worker.stop()  # wakes it: it need not wait out the hour
    assert not worker.running
    assert worker.ticks == 0 and not worker.entered.is_set()
    assert line.waiting == 0


def test_a_worker_started_without_a_line_ticks_at_once(held):
    worker = held("alone")
    worker.start()
    assert worker.entered.wait(WAIT_S)


# --- in the app's lifespan, with every domain's real workers ---------------------------------


@dataclass(frozen=True)
class Tick:
    worker: str
    started: float
    ended: float


class TickLog:
    """Every tick of the workers the lifespan builds; `all_ticked` is set once each worker that
    ticks at start has ended a tick."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.begun: list[str] = []  # the worker of each tick, when it begins
        self.ticks: list[Tick] = []
        self.immediate: set[str] = set()
        self.all_ticked = threading.Event()
        self._lock = threading.Lock()
        build = AppContext.workers

        def workers(context: AppContext) -> list[Any]:
            built = build(context)
            for worker in built:
                if isinstance(worker, PeriodicWorker):
                    worker.tick = self._recording(worker, worker.tick)
                    if worker.immediately:
                        self.immediate.add(worker.name)
            return built

        monkeypatch.setattr(AppContext, "workers", workers)

    def _recording(
        self, worker: PeriodicWorker, tick: Callable[[], object]
    ) -> Callable[[], object]:
        def run() -> object:
            self.begun.append(worker.name)
            started = time.monotonic()
            try:
                return tick()
            finally:
                self._add(Tick(worker.name, started, time.monotonic()))

        return run

    def _add(self, tick: Tick) -> None:
        with self._lock:
            self.ticks.append(tick)
            if self.immediate <= {t.worker for t in self.ticks}:
                self.all_ticked.set()

    def first_ticks(self) -> list[Tick]:
        """Each worker's first tick, in the order they started."""
        first: dict[str, Tick] = {}
        for tick in sorted(self.ticks, key=lambda t: t.started):
            first.setdefault(tick.worker, tick)
        return list(first.values())


def _count_gate_acquisitions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The thread of each SQLite writer-gate acquisition from now on."""
    taken: list[str] = []
    acquire = sqlite_gate.WriterGate.acquire

    def counted(gate: sqlite_gate.WriterGate) -> None:
        acquire(gate)
        taken.append(threading.current_thread().name)

    monkeypatch.setattr(sqlite_gate.WriterGate, "acquire", counted)
    return taken


def _serving(settings: Settings, clock: FrozenClock, delay_s: float) -> Any:
    update = {"workers": True, "workers_start_delay_s": delay_s}
    return create_app(settings.model_copy(update=update), clock=clock)


def test_the_first_request_after_start_is_not_behind_the_workers_first_ticks(
    settings, clock, demo, monkeypatch
):
    log = TickLog(monkeypatch)
    gate = _count_gate_acquisitions(monkeypatch)
    app = _serving(settings, clock, delay_s=600)
    try:
        with TestClient(app) as client:
            workers = [w for w in app.state.workers if isinstance(w, PeriodicWorker)]
            assert len(log.immediate) >= 5  # alerts, consult, leasing, ltc, market, services
            login(client, "butler", DEMO_PASSWORDS["butler"])
            assert log.begun == [] and gate == []  # no worker has ticked, none took the gate
        assert not any(w.running for w in workers)  # stopped while waiting for the line
    finally:
        app.state.context.db.dispose()


def test_the_workers_first_ticks_do_not_overlap(settings, clock, demo, monkeypatch):
    log = TickLog(monkeypatch)
    app = _serving(settings, clock, delay_s=0)
    try:
        with TestClient(app):
            assert log.all_ticked.wait(WAIT_S)
        first = log.first_ticks()
        assert log.immediate <= {t.worker for t in first}
        for earlier, later in itertools.pairwise(first):
            assert earlier.ended <= later.started, (earlier, later)
    finally:
        app.state.context.db.dispose()
