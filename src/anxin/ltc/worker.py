"""The missed-visit sweep: every minute, planned visits not checked in within the grace period
raise one alarm to their institution (`plan_service.sweep_missed`). Plans carry their time and
whether they were alarmed, so a restart loses nothing and repeats nothing."""

from __future__ import annotations

from datetime import datetime

from anxin.core.context import AppContext
from anxin.core.unit import UnitOfWork
from anxin.core.workers import UnitSweeper
from anxin.ltc import plan_service


def _sweep(uow: UnitOfWork, now: datetime) -> int:
    return plan_service.sweep_missed(uow=uow, now=now)


def build(context: AppContext) -> UnitSweeper:
    return UnitSweeper(
        context, name="anxin-ltc-missed-visits", actor="system:ltc-missed-visits",
        interval_s=60.0, work=_sweep,
    )  # fmt: skip
