"""The background engine: ticks `run_due` about every half second in its own units of work.

Started from the FastAPI lifespan when `ANXIN_ALERTS_WORKER` is on (default: on, except in
tests). Each tick commits the watchdog, receipts, escalation steps and the outbox claim first,
then sends each claimed message in its own short transaction, so a slow provider never holds
the claim transaction open and a crash mid-send is recovered by the lease (docs/alerts.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from anxin.alerts import flows
from anxin.alerts.providers import ProviderRegistry, build_providers
from anxin.core.context import AppContext

log = logging.getLogger(__name__)
ACTOR = "system:alerts-worker"


class AlertsWorker:
    def __init__(
        self,
        context: AppContext,
        *,
        providers: ProviderRegistry | None = None,
        tick_s: float | None = None,
    ) -> None:
        self.context = context
        self.providers = providers or build_providers(context.settings)
        self.config = flows.DeliveryConfig.from_settings(context.settings)
        self.tick_s = tick_s if tick_s is not None else context.settings.alerts_tick_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0
        self.last_error: str | None = None

    def tick(self) -> flows.TickReport:
        """One tick in its own units of work."""
        db = self.context.db
        report = flows.TickReport()
        with db.session_scope(actor=ACTOR) as session:
            session.info["clock"] = self.context.clock
            session.info["bus"] = self.context.bus
            now = self.context.clock.now()
            flows.prepare_tick(
                session=session,
                now=now,
                providers=self.providers,
                config=self.config,
                bus=self.context.bus,
                report=report,
            )
            claimed = flows.claim_due(session=session, now=now, config=self.config, report=report)
        for notification_id in claimed:
            with db.session_scope(actor=ACTOR) as session:
                session.info["clock"] = self.context.clock
                flows.send_claimed(
                    session=session,
                    notification_id=notification_id,
                    now=self.context.clock.now(),
                    providers=self.providers,
                    config=self.config,
                    report=report,
                )
        self.ticks += 1
        return report

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
                self.last_error = None
            except Exception as exc:  # keep ticking: the next tick retries the same work
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("alerts worker tick failed")
            self._stop.wait(self.tick_s)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="anxin-alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the worker with the app when the settings say so; stop it on shutdown."""
    context: AppContext = app.state.context
    worker: AlertsWorker | None = None
    if context.settings.alerts_worker_enabled:
        worker = AlertsWorker(context)
        context.extras["alerts_worker"] = worker
        worker.start()
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()
