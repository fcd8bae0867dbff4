"""The medication sweep: every half minute, doses whose time has come are reminded to the elder
(`service.remind_doses`), and doses unconfirmed past their grace period become missed and raise
an alarm at the elder's home (`service.sweep_doses`). Dose rows carry their
due time, so a restart loses nothing: the next tick finds what is overdue."""

from __future__ import annotations

from anxin.consult import service
from anxin.core.context import AppContext
from anxin.core.workers import PeriodicWorker

ACTOR = "system:medication-sweep"


class DoseSweeper(PeriodicWorker):
    name = "anxin-doses"
    interval_s = 30.0
    immediately = True

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context

    def tick(self) -> int:
        with self.context.unit(actor=ACTOR) as uow:
            now = uow.now()
            return service.remind_doses(uow=uow, now=now) + service.sweep_doses(uow=uow, now=now)


def build(context: AppContext) -> DoseSweeper:
    return DoseSweeper(context)
