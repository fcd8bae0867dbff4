"""The ledger inside a running process: its keys, and checkpoints and dedup merges on an
interval."""

from __future__ import annotations

from collections.abc import Callable

from anxin.core.context import AppContext
from anxin.core.domain import Worker
from anxin.core.unit import Slot
from anxin.core.workers import PeriodicWorker
from anxin.ledger import service
from anxin.ledger.config import LedgerKeys, LedgerSettings, load_keys

# The signing key and policy, loaded once per process (tests put their own).
KEYS: Slot[LedgerKeys] = Slot("ledger.keys")


def ledger_keys(context: AppContext) -> LedgerKeys:
    return context.setdefault(
        KEYS, lambda: load_keys(LedgerSettings(), environment=context.settings.environment)
    )


def checkpoint_now(context: AppContext) -> int:
    """Sign the current tree head in its own unit of work; returns its size."""
    keys = ledger_keys(context)
    with context.unit(actor="system:ledger") as uow:
        return service.publish_checkpoint(uow=uow, signer=keys.signer).size


def merge_fact_keys(context: AppContext) -> int:
    """Merge recent fact keys into the big index while ``merge_rows`` of them wait, each
    bounded merge in a short unit of work of its own; returns how many moved."""
    total = 0
    while True:
        with context.unit(actor="system:ledger") as uow:
            moved = service.merge_if_due(session=uow.session, now=uow.now())
        if not moved:
            return total
        total += moved


class LedgerWorker(PeriodicWorker):
    """Runs one of the ledger's jobs on the application every ``interval_s`` seconds."""

    def __init__(
        self, name: str, job: Callable[[AppContext], int], context: AppContext, interval_s: float
    ) -> None:
        super().__init__()
        self.name = name
        self.job = job
        self.context = context
        self.interval_s = interval_s

    def tick(self) -> int:
        return self.job(self.context)


def fact_merger(context: AppContext) -> Worker | None:
    """Keeps the recent dedup level small: appends leave their keys there, this moves them
    into the big fact-key index in sorted batches (docs/ledger.md, engineering notes)."""
    interval = LedgerSettings().merge_interval_s
    if interval <= 0 or context.settings.environment == "test":
        return None  # tests merge when they choose to
    return LedgerWorker("ledger-fact-merge", merge_fact_keys, context, interval)


def checkpointer(context: AppContext) -> Worker | None:
    """Batches appends into checkpoints every ``ANXIN_LEDGER_CHECKPOINT_INTERVAL_S`` seconds."""
    interval = LedgerSettings().checkpoint_interval_s
    if interval <= 0 or context.settings.environment == "test":
        return None  # tests sign checkpoints when they choose to
    return LedgerWorker("ledger-checkpoints", checkpoint_now, context, interval)
