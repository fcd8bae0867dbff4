"""The background engine: ticks `run_due` about every half second in its own units of work.

Started by the app's lifespan with every domain's workers when `ANXIN_WORKERS` is on
(default: on, except in tests). Each tick commits the watchdog, receipts, escalation steps and
the outbox claim first, then sends each claimed message in its own short transaction, so a
slow provider never holds the claim transaction open and a crash mid-send is recovered by the
lease (docs/alerts.md).
"""

from __future__ import annotations

from anxin.alerts import flows
from anxin.alerts.providers import ProviderRegistry, build_providers
from anxin.core.context import AppContext
from anxin.core.workers import PeriodicWorker

ACTOR = "system:alerts-worker"


class AlertsWorker(PeriodicWorker):
    name = "anxin-alerts"
    immediately = True

    def __init__(
        self,
        context: AppContext,
        *,
        providers: ProviderRegistry | None = None,
        tick_s: float | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        self.providers = providers or build_providers(context.settings)
        self.config = flows.DeliveryConfig.from_settings(context.settings)
        self.interval_s = tick_s if tick_s is not None else context.settings.alerts_tick_s

    def tick(self) -> flows.TickReport:
        """One tick in its own units of work."""
        report = flows.TickReport()
        with self.context.unit(actor=ACTOR) as uow:
            now = uow.now()
            flows.prepare_tick(
                uow=uow, now=now, providers=self.providers, config=self.config, report=report
            )
            claimed = flows.claim_due(
                session=uow.session, now=now, config=self.config, report=report
            )
        for notification_id in claimed:
            with self.context.unit(actor=ACTOR) as uow:
                flows.send_claimed(
                    session=uow.session,
                    notification_id=notification_id,
                    now=self.context.clock.now(),
                    providers=self.providers,
                    config=self.config,
                    report=report,
                )
        return report


def build(context: AppContext) -> AlertsWorker:
    """The worker the app's lifespan runs (`alerts.setup`)."""
    return AlertsWorker(context)
