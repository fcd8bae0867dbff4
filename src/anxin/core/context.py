"""What a running process shares: settings, database, clock, bus and the domains' wiring.

`AppContext.build` is the composition root's one constructor: it picks the clock and the bus,
subscribes every domain's handlers and collects their owner kinds. Every edge then opens its
work with `unit(actor=...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from anxin.core.clock import Clock, SystemClock
from anxin.core.config import Settings
from anxin.core.db import Database
from anxin.core.domain import Domain, Worker, check_unique
from anxin.core.events import EventBus, InProcessBus
from anxin.core.owners import OwnerKinds
from anxin.core.unit import SYSTEM_ACTOR, Slot, UnitOfWork, run_unit

T = TypeVar("T")


class AppContext:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        clock: Clock,
        bus: EventBus,
        domains: Sequence[Domain] = (),
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.bus = bus
        self.domains = list(domains)
        self.owners = OwnerKinds(kind for d in self.domains for kind in d.owner_kinds)
        self._slots: dict[Slot[Any], Any] = {}
        check_unique(self.domains)
        for domain in self.domains:
            for preparation in domain.preparers:
                bus.prepare(preparation.pattern, preparation.preparer)
            for subscription in domain.subscriptions:
                bus.subscribe(subscription.pattern, subscription.handler)

    @classmethod
    def build(
        cls, settings: Settings, *, domains: Sequence[Domain] = (), clock: Clock | None = None
    ) -> AppContext:
        """The process's context: the system clock unless one is given (tests), the in-process
        bus unless ``ANXIN_BUS_URL`` names NATS."""
        db = Database.from_settings(settings)
        bus: EventBus = InProcessBus()
        if settings.bus_url.startswith("nats://"):
            # JetStream: events go to an outbox in the transaction and are relayed after commit.
            from anxin.core.nats_bus import JetStreamBus

            bus = JetStreamBus(settings.bus_url, db)
        return cls(
            settings=settings,
            db=db,
            clock=clock or SystemClock(),
            bus=bus,
            domains=domains,
        )

    # -- units of work -------------------------------------------------------------------------
    def new_unit(self, *, actor: str = SYSTEM_ACTOR, bus: EventBus | None = None) -> UnitOfWork:
        """A unit of work on a new session; the caller commits or rolls back (see `unit`)."""
        return UnitOfWork(
            session=self.db.sessions(),
            clock=self.clock,
            bus=bus if bus is not None else self.bus,
            owners=self.owners,
            actor=actor,
        )

    @contextmanager
    def unit(
        self, *, actor: str = SYSTEM_ACTOR, bus: EventBus | None = None
    ) -> Iterator[UnitOfWork]:
        """One unit of work: commit when the block ends, roll back on any error. `bus`
        replaces the process's bus for this unit (an empty `InProcessBus` publishes nowhere)."""
        with run_unit(self.new_unit(actor=actor, bus=bus)) as uow:
            yield uow

    # -- process-wide services, typed ----------------------------------------------------------
    def get(self, slot: Slot[T]) -> T:
        """A process-wide service built once on first use (ledger keys, rate limiters)."""
        if slot not in self._slots:
            self._slots[slot] = slot.build()
        value: T = self._slots[slot]
        return value

    def setdefault(self, slot: Slot[T], build: Callable[[], T]) -> T:
        """`get`, building the value with `build` (which may read this context) when unset."""
        if slot not in self._slots:
            self._slots[slot] = build()
        value: T = self._slots[slot]
        return value

    def put(self, slot: Slot[T], value: T) -> None:
        self._slots[slot] = value

    # -- background work -----------------------------------------------------------------------
    def workers(self) -> list[Worker]:
        """Every domain's workers that the settings switch on, built (not yet started)."""
        if not self.settings.workers_enabled:
            return []
        built = (factory(self) for domain in self.domains for factory in domain.workers)
        return [worker for worker in built if worker is not None]
