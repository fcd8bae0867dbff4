"""What a running process shares: settings, database, clock and bus, built once at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from anxin.core.clock import Clock, SystemClock
from anxin.core.config import Settings
from anxin.core.db import Database
from anxin.core.events import EventBus, InProcessBus


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    bus: EventBus = field(default_factory=InProcessBus)
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> AppContext:
        db = Database.from_settings(settings)
        bus: EventBus = InProcessBus()
        if settings.bus_url.startswith("nats://"):
            # JetStream: events go to an outbox in the transaction and are relayed after commit.
            from anxin.core.nats_bus import JetStreamBus

            bus = JetStreamBus(settings.bus_url, db)
        return cls(settings=settings, db=db, clock=clock or SystemClock(), bus=bus)
