"""The unit of work: what one piece of work at an edge carries, typed.

Every edge opens one — an API or console request, a consumer batch, a worker tick, a CLI
command, a test — with `AppContext.unit(actor=...)`. It carries the session, the clock, the
bus, the actor, the owner kinds and any per-unit caches as typed attributes; services that need
more than the session receive it. Nothing of this travels in ``session.info``.

The flush and commit hooks of `core` (the audit trail, after-commit actions) get only the
session from SQLAlchemy, so the session knows its unit (`UnitSession.unit`); `unit_of` is for
those hooks alone (a test keeps it so).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from anxin.core.clock import Clock

if TYPE_CHECKING:
    from anxin.core.events import Event, EventBus
    from anxin.core.owners import OwnerKinds

log = logging.getLogger(__name__)

T = TypeVar("T")
SYSTEM_ACTOR = "system"


class UnitSession(Session):
    """A session that knows the unit of work it belongs to (None for a raw session)."""

    unit: UnitOfWork | None = None


class Slot(Generic[T]):
    """A typed key for a cache: ``uow.get(SLOT)`` builds the value once per unit of work (and
    ``context.get(SLOT)`` once per process) with `factory`; a slot without one must be set."""

    def __init__(self, name: str, factory: Callable[[], T] | None = None) -> None:
        self.name = name
        self.factory = factory

    def build(self) -> T:
        if self.factory is None:
            raise LookupError(f"{self.name} is not set")
        return self.factory()

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class UnitOfWork:
    """One unit of work: commit at the edge, roll back on any error."""

    def __init__(
        self,
        *,
        session: Session,
        clock: Clock,
        bus: EventBus,
        owners: OwnerKinds,
        actor: str = SYSTEM_ACTOR,
    ) -> None:
        self.session = session
        self.clock = clock
        self.bus = bus
        self.owners = owners
        self.actor = actor
        self._slots: dict[Slot[Any], Any] = {}
        self._after_commit: dict[Hashable, Callable[[], None]] = {}
        if isinstance(session, UnitSession):
            session.unit = self

    def now(self) -> datetime:
        return self.clock.now()

    # -- events ------------------------------------------------------------------------------
    def publish(self, event: Event) -> None:
        """Deliver `event` as part of this unit of work (see `core.events`)."""
        self.bus.publish(self, event)

    def publish_many(self, events: Sequence[Event]) -> None:
        self.bus.publish_many(self, events)

    # -- per-unit caches ---------------------------------------------------------------------
    def get(self, slot: Slot[T]) -> T:
        if slot not in self._slots:
            self._slots[slot] = slot.build()
        value: T = self._slots[slot]
        return value

    def put(self, slot: Slot[T], value: T) -> None:
        self._slots[slot] = value

    # -- after commit ------------------------------------------------------------------------
    def after_commit(self, action: Callable[[], None], *, key: Hashable | None = None) -> None:
        """Run `action` once this unit's transaction commits; drop it on rollback.

        Handlers run inside the transaction, so anything that leaves the process (a push to a
        browser, a publish to a broker) must wait until the work is durable. Actions with the
        same `key` run once per commit.
        """
        self._after_commit[key if key is not None else object()] = action

    def _committed(self) -> None:
        actions = list(self._after_commit.values())
        self._after_commit.clear()
        for action in actions:
            try:
                action()
            except Exception:  # one failing listener must not stop the others
                log.exception("after-commit action failed")

    def _rolled_back(self) -> None:
        self._after_commit.clear()
        self._slots.clear()

    # -- the edge ----------------------------------------------------------------------------
    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def unit_of(session: Session) -> UnitOfWork | None:
    """The unit a session belongs to; for core's flush and commit hooks only."""
    return session.unit if isinstance(session, UnitSession) else None


@sa_event.listens_for(UnitSession, "after_commit")
def _run_after_commit(session: Session) -> None:
    unit = unit_of(session)
    if unit is not None:
        unit._committed()


@sa_event.listens_for(UnitSession, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    unit = unit_of(session)
    if unit is not None:
        unit._rolled_back()


@contextmanager
def run_unit(unit: UnitOfWork) -> Iterator[UnitOfWork]:
    """Commit `unit` when the block ends, roll it back on any error, then close its session."""
    try:
        yield unit
        unit.commit()
    except BaseException:
        unit.rollback()
        raise
    finally:
        unit.session.close()
