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
from typing import Any, Protocol

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    subject: str
    payload: dict[str, Any]
    occurred_at: datetime
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


Handler = Callable[[Session, Event], None]
# Told about a whole batch before its events are delivered one by one, so a subscriber can
# load what all of them need in one query instead of one per event.
Preparer = Callable[[Session, Sequence[Event]], None]


class EventBus(Protocol):
    def publish(self, session: Session, event: Event) -> None:
        """Deliver `event` as part of the unit of work that `session` belongs to."""

    def publish_many(self, session: Session, events: Sequence[Event]) -> None:
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


class InProcessBus:
    """Synchronous delivery in the caller's session: the embedded default."""

    def __init__(self) -> None:
        self._subscriptions: list[tuple[str, Handler]] = []
        self._preparers: list[tuple[str, Preparer]] = []

    def subscribe(self, pattern: str, handler: Handler) -> None:
        self._subscriptions.append((pattern, handler))

    def prepare(self, pattern: str, preparer: Preparer) -> None:
        self._preparers.append((pattern, preparer))

    def publish(self, session: Session, event: Event) -> None:
        for pattern, handler in list(self._subscriptions):
            if subject_matches(pattern, event.subject):
                # A failing handler fails the unit of work: nothing half-done is committed.
                handler(session, event)

    def publish_many(self, session: Session, events: Sequence[Event]) -> None:
        for pattern, preparer in list(self._preparers):
            matching = [e for e in events if subject_matches(pattern, e.subject)]
            if matching:
                preparer(session, matching)
        for event in events:
            self.publish(session, event)

    def subscriptions(self) -> list[str]:
        return [pattern for pattern, _ in self._subscriptions]


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once the session's transaction commits; drop it if it rolls back.

    Handlers run inside the transaction, so anything that leaves the process (a push to a
    browser, a publish to a broker) must wait until the work is durable.
    """
    session.info.setdefault("after_commit", []).append(action)


@sa_event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    actions: list[Callable[[], None]] = session.info.pop("after_commit", [])
    for action in actions:
        try:
            action()
        except Exception:  # one failing listener must not stop the others
            log.exception("after-commit action failed")


@sa_event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop("after_commit", None)
