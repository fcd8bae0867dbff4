"""What the alerts service modules share: roles, keys, history rows and alarm events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from anxin.alerts.models import Alarm, AlarmEvent
from anxin.core.events import Event
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork

if TYPE_CHECKING:
    from anxin.alerts.service.bulk import NewAlarm

SUBJECT = "alerts.alarm.{verb}"

SYSTEM_ACTOR = "system:alerts"

NOT_RESOLVERS = frozenset({Role.FAMILY, Role.ELDER, Role.PUBLIC, Role.BUYER})

NOT_ACKERS = frozenset({Role.ELDER, Role.PUBLIC, Role.BUYER})

OUTBOX_ROLES = frozenset({Role.ADMIN, Role.BUTLER})

POLICY_ADMINS = frozenset({Role.ADMIN})


def active_key(source_kind: str, source_id: str, alarm_type: str) -> str:
    return f"{source_kind}|{source_id}|{alarm_type}"


def actor_of(uow: UnitOfWork, principal: Principal | None = None) -> str:
    return principal.actor if principal is not None else uow.actor


def add_history(
    session: Session,
    alarm: Alarm,
    action: str,
    now: datetime,
    *,
    actor: str,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        AlarmEvent(
            alarm_id=alarm.id, at=now, actor=actor, action=action, note=note, data=data or {}
        )
    )


def event_payload(alarm: Alarm | NewAlarm, now: datetime) -> dict[str, Any]:
    return {
        "alarm_id": alarm.id,
        "organisation_id": alarm.organisation_id,
        "owner_kind": alarm.owner_kind,
        "owner_id": alarm.owner_id,
        "source_kind": alarm.source_kind,
        "source_id": alarm.source_id,
        "alarm_type": alarm.alarm_type,
        "severity": alarm.severity.value,
        "state": alarm.state.value,
        "cleared": alarm.cleared,
        "count": alarm.count,
        "title": alarm.title,
        "at": now.isoformat(),
    }


def publish_alarm(uow: UnitOfWork, alarm: Alarm, verb: str, now: datetime) -> None:
    uow.session.flush()
    uow.publish(
        Event(subject=SUBJECT.format(verb=verb), payload=event_payload(alarm, now), occurred_at=now)
    )
