"""The ledger inside a running process: its keys, and checkpoints on an interval."""

from __future__ import annotations

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


class Checkpointer(PeriodicWorker):
    """Batches appends into checkpoints every ``ANXIN_LEDGER_CHECKPOINT_INTERVAL_S`` seconds."""

    name = "ledger-checkpoints"

    def __init__(self, context: AppContext, interval_s: float) -> None:
        super().__init__()
        self.context = context
        self.interval_s = interval_s

    def tick(self) -> int:
        return checkpoint_now(self.context)


def checkpointer(context: AppContext) -> Worker | None:
    interval = LedgerSettings().checkpoint_interval_s
    if interval <= 0 or context.settings.environment == "test":
        return None  # tests sign checkpoints when they choose to
    return Checkpointer(context, interval)
