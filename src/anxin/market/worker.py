"""The quote-deadline sweep: every ten minutes, requests for quotes past their last day for
quotes close (`service.sweep_expired_rfqs`) and the quotes still waiting on them are declined.
The deadline is on the row, so a restart loses nothing and closes nothing twice."""

from __future__ import annotations

from datetime import datetime

from anxin.core.context import AppContext
from anxin.core.unit import UnitOfWork
from anxin.core.workers import UnitSweeper
from anxin.market import service


def _sweep(uow: UnitOfWork, now: datetime) -> int:
    return service.sweep_expired_rfqs(uow=uow, now=now)


def build(context: AppContext) -> UnitSweeper:
    return UnitSweeper(
        context, name="anxin-market-rfq-deadlines", actor="system:market-rfq-deadlines",
        interval_s=600.0, work=_sweep,
    )  # fmt: skip
