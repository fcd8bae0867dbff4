"""The ledger domain's setup: the API, the operators' commands, periodic checkpoints and
merges of the recent dedup level."""

from __future__ import annotations

from anxin.core.domain import Command, Domain
from anxin.ledger import commands, runtime, views


def setup() -> Domain:
    return Domain(
        name="ledger",
        routers=[views.router],
        commands=[Command("ledger", commands.app)],
        workers=[runtime.checkpointer, runtime.fact_merger],
    )
