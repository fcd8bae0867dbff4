"""The missed-visit sweep: every minute, planned visits not checked in within the grace period
raise one alarm to their institution (`plan_service.sweep_missed`). Plans carry their time and
whether they were alarmed, so a restart loses nothing and repeats nothing."""

from __future__ import annotations

from anxin.core.context import AppContext
from anxin.core.workers import PeriodicWorker
from anxin.ltc import plan_service

ACTOR = "system:ltc-missed-visits"


class MissedVisitSweeper(PeriodicWorker):
    name = "anxin-ltc-missed-visits"
    interval_s = 60.0
    immediately = True

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context

    def tick(self) -> int:
        with self.context.unit(actor=ACTOR) as uow:
            return plan_service.sweep_missed(uow=uow, now=uow.now())


def build(context: AppContext) -> MissedVisitSweeper:
    return MissedVisitSweeper(context)
