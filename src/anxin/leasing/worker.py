"""The arrears sweep as a background worker: every hour, each rent found overdue raises one
reminder to the lessor through the alerts engine (cleared when paid), and machines idle while
their lease is in arrears are flagged (`flows.sweep`). Reminders are keyed by rent and the
contract remembers the last rent reminded, so a restart or a second tick repeats nothing."""

from __future__ import annotations

from anxin.core.context import AppContext
from anxin.core.workers import PeriodicWorker
from anxin.leasing import flows

ACTOR = "system:leasing-arrears"


class ArrearsSweeper(PeriodicWorker):
    name = "anxin-leasing-arrears"
    immediately = True
    # rents fall due on days; an hour finds a late rent on its first morning at the latest
    interval_s = 3600.0

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context

    def tick(self) -> int:
        with self.context.unit(actor=ACTOR) as uow:
            return flows.sweep(uow)


def build(context: AppContext) -> ArrearsSweeper:
    return ArrearsSweeper(context)
