"""The reminder worker: once a minute, queue the reminders that are due (visits two hours
ahead, medicine at its time) in the alerts outbox, whose dispatcher sends them."""

from __future__ import annotations

from anxin.core.context import AppContext
from anxin.core.workers import PeriodicWorker
from anxin.services import service

ACTOR = "system:service-reminders"


class ReminderWorker(PeriodicWorker):
    name = "anxin-service-reminders"
    immediately = True
    interval_s = 60.0  # reminders are minutes-grained; the outbox key makes repeats harmless

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context

    def tick(self) -> int:
        with self.context.unit(actor=ACTOR) as uow:
            return service.send_reminders(uow=uow)


def build(context: AppContext) -> ReminderWorker:
    return ReminderWorker(context)
