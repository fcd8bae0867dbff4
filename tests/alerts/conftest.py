"""Fixtures for the alerts tests: the demo household's recipients and an offline provider set."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts import flows, service
from anxin.alerts.models import Alarm, Notification, Severity
from anxin.alerts.providers import LocalProvider, ProviderRegistry
from anxin.alerts.schemas import Recipient
from anxin.core.clock import FrozenClock
from anxin.core.context import AppContext
from anxin.core.db import Database
from anxin.core.events import InProcessBus
from anxin.core.unit import UnitOfWork
from anxin.demo.seed import DemoInfo
from anxin.people.models import User

CHANNELS = ("sms", "voice", "push", "webhook", "console")


def local_registry(**kwargs: float) -> ProviderRegistry:
    provider = LocalProvider(**kwargs)  # type: ignore[arg-type]
    return ProviderRegistry(by_channel={c: provider for c in CHANNELS})


@contextmanager
def quiet_unit(context: AppContext, actor: str = "test") -> Iterator[UnitOfWork]:
    """A unit of work whose events go nowhere (a bus of its own with no subscribers)."""
    with context.unit(actor=actor, bus=InProcessBus()) as uow:
        yield uow


@pytest.fixture
def providers() -> ProviderRegistry:
    return local_registry(receipt_delay_s=2.0)


def demo_recipients(session: Session, demo: DemoInfo) -> list[Recipient]:
    users = {
        u.username: u
        for u in session.scalars(select(User).where(User.organisation_id == demo.organisation_id))
    }

    def person(role: str, username: str) -> Recipient:
        user = users[username]
        return Recipient(role=role, name=user.display_name, user_id=user.id, phone=user.phone)

    return [
        person("elder", "elder"),
        person("family", "son"),
        person("family", "daughter"),
        person("butler", "butler"),
        Recipient(
            role="emergency_contact", name="李伟 Li Wei", user_id=None, phone="+86 138 0000 1003"
        ),
        person("team_lead", "teamlead"),
    ]


@pytest.fixture
def raise_fall(context: AppContext, demo: DemoInfo, clock: FrozenClock) -> Callable[..., str]:
    """Raise (and commit) a fall alarm for the demo household; returns the alarm id."""

    def _raise(
        *,
        source_id: str = "radar-1",
        policy: str = "homecare_fall",
        alarm_type: str = "fall",
        severity: Severity = Severity.CRITICAL,
        owner_id: str | None = None,
    ) -> str:
        with quiet_unit(context) as uow:
            alarm = service.raise_alarm(
                uow=uow,
                organisation_id=demo.organisation_id,
                owner_kind="household",
                owner_id=owner_id or demo.household_id,
                source_kind="device",
                source_id=source_id,
                alarm_type=alarm_type,
                severity=severity,
                title="卫生间跌倒 Fall in the bathroom",
                details={"room": "bathroom"},
                policy=policy,
                recipients=demo_recipients(uow.session, demo),
                now=clock.now(),
            )
            return alarm.id

    return _raise


def tick(
    context: AppContext,
    clock: FrozenClock,
    providers: ProviderRegistry,
    *,
    advance_s: float = 0,
    config: flows.DeliveryConfig | None = None,
) -> flows.TickReport:
    if advance_s:
        clock.advance(timedelta(seconds=advance_s))
    # The tick's events (a watchdog alarm's) go nowhere.
    with quiet_unit(context, actor="test:tick") as uow:
        return flows.run_due(uow=uow, now=clock.now(), providers=providers, config=config)


def outbox(db: Database, alarm_id: str | None = None) -> list[Notification]:
    with db.session_scope() as session:
        stmt = select(Notification).order_by(Notification.created_at, Notification.id)
        if alarm_id:
            stmt = stmt.where(Notification.alarm_id == alarm_id)
        return list(session.scalars(stmt))


def sent_to(rows: list[Notification], channel: str) -> list[str]:
    return sorted(n.recipient_role for n in rows if n.channel.value == channel)


def load_alarm(db: Database, alarm_id: str) -> Alarm:
    with db.session_scope() as session:
        alarm = session.get(Alarm, alarm_id)
        assert alarm is not None
        return alarm
