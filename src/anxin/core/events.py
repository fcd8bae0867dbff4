"""The event bus interface and its in-process default.

Handlers run inside the publisher's unit of work (same session), so a reading, the alarm it
raises and the notifications queued for it commit together or not at all. A distributed bus
(NATS JetStream) implements the same `EventBus` protocol by writing events to an outbox in
that same transaction and relaying them after commit; consumers then run handlers in their
own unit of work.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from anxin.core.unit import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    subject: str
    payload: dict[str, Any]
    occurred_at: datetime
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


Handler = Callable[["UnitOfWork", Event], None]
# Told about a whole batch before its events are delivered one by one, so a subscriber can
# load what all of them need in one query instead of one per event.
Preparer = Callable[["UnitOfWork", Sequence[Event]], None]


class EventBus(Protocol):
    def publish(self, uow: UnitOfWork, event: Event) -> None:
        """Deliver `event` as part of the unit of work `uow`."""

    def publish_many(self, uow: UnitOfWork, events: Sequence[Event]) -> None:
        """Deliver `events` in order, in the same unit of work (a batch from one ingest)."""

    def subscribe(self, pattern: str, handler: Handler) -> None:
        """Call `handler` for every event whose subject matches the NATS-style `pattern`."""

    def prepare(self, pattern: str, preparer: Preparer) -> None:
        """Call `preparer` with the matching events of each `publish_many` before delivery."""


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcards: `*` matches one token, `>` matches one or more trailing tokens."""
    want = pattern.split(".")
    have = subject.split(".")
    for index, part in enumerate(want):
        if part == ">":
            return len(have) > index
        if index >= len(have):
            return False
        if part not in ("*", have[index]):
            return False
    return len(want) == len(have)


MAX_ROUTES = 4096


class InProcessBus:
    """Synchronous delivery in the caller's session: the embedded default."""

    def __init__(self) -> None:
        self._subscriptions: list[tuple[str, Handler]] = []
        self._preparers: list[tuple[str, Preparer]] = []
        # Handlers per subject, in subscription order: matching every pattern against every
        # event cost more than the telemetry handler's own work on a single-reading message.
        self._routes: dict[str, tuple[Handler, ...]] = {}

    def subscribe(self, pattern: str, handler: Handler) -> None:
        self._subscriptions.append((pattern, handler))
        self._routes = {}

    def prepare(self, pattern: str, preparer: Preparer) -> None:
        self._preparers.append((pattern, preparer))

    def _handlers(self, subject: str) -> tuple[Handler, ...]:
        handlers = self._routes.get(subject)
        if handlers is None:
            handlers = tuple(h for p, h in self._subscriptions if subject_matches(p, subject))
            if len(self._routes) >= MAX_ROUTES:  # subjects are a small vocabulary; stay bounded
                self._routes = {}
            self._routes[subject] = handlers
        return handlers

    def publish(self, uow: UnitOfWork, event: Event) -> None:
        for handler in self._handlers(event.subject):
            # A failing handler fails the unit of work: nothing half-done is committed.
            handler(uow, event)

    def publish_many(self, uow: UnitOfWork, events: Sequence[Event]) -> None:
        for pattern, preparer in list(self._preparers):
            matching = [e for e in events if subject_matches(pattern, e.subject)]
            if matching:
                preparer(uow, matching)
        for event in events:
            self.publish(uow, event)

    def subscriptions(self) -> list[str]:
        return [pattern for pattern, _ in self._subscriptions]
