"""The ledger inside a running process: its keys, and checkpoints on an interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from anxin.core.context import AppContext
from anxin.ledger import service
from anxin.ledger.config import LedgerKeys, LedgerSettings, load_keys

log = logging.getLogger(__name__)

KEYS_EXTRA = "ledger.keys"


def ledger_keys(context: AppContext) -> LedgerKeys:
    """Load the signing key and policy once per process (tests may preset them)."""
    keys = context.extras.get(KEYS_EXTRA)
    if not isinstance(keys, LedgerKeys):
        keys = load_keys(LedgerSettings(), environment=context.settings.environment)
        context.extras[KEYS_EXTRA] = keys
    return keys


def checkpoint_now(context: AppContext) -> int:
    """Sign the current tree head in its own unit of work; returns its size."""
    keys = ledger_keys(context)
    with context.db.session_scope(actor="system:ledger") as session:
        session.info["clock"] = context.clock
        session.info["bus"] = context.bus
        cp = service.publish_checkpoint(
            session=session, signer=keys.signer, now=context.clock.now()
        )
        return cp.size


async def _every(context: AppContext, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(checkpoint_now, context)
        except Exception:  # a bad tick must not stop later ones; it is logged loudly
            log.exception("ledger: periodic checkpoint failed")


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Batch appends into checkpoints every ``ANXIN_LEDGER_CHECKPOINT_INTERVAL_S`` seconds."""
    context: AppContext = app.state.context
    interval = LedgerSettings().checkpoint_interval_s
    if interval <= 0 or context.settings.environment == "test":
        yield
        return
    task = asyncio.create_task(_every(context, interval))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
