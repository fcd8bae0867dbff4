"""The outbox as people read it: an alarm's notifications, the organisation's outbox and the
delivery attempts of a message (the care team only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts.models import (
    Alarm,
    Channel,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from anxin.alerts.service.common import OUTBOX_ROLES
from anxin.core.errors import NotFound, PermissionDenied
from anxin.core.security import Principal


def notifications_of(*, session: Session, alarm: Alarm) -> list[Notification]:
    stmt = (
        select(Notification)
        .where(Notification.alarm_id == alarm.id)
        .order_by(Notification.created_at, Notification.step_seq, Notification.id)
    )
    return list(session.scalars(stmt))


def may_see_outbox(principal: Principal) -> bool:
    return principal.role in OUTBOX_ROLES


def list_notifications(
    *,
    session: Session,
    principal: Principal,
    status: NotificationStatus | None = None,
    channel: Channel | None = None,
    alarm_id: str | None = None,
    limit: int = 100,
) -> list[Notification]:
    if not may_see_outbox(principal):
        raise PermissionDenied(f"role {principal.role.value!r} may not see the outbox")
    stmt = select(Notification).where(Notification.organisation_id == principal.organisation_id)
    if status is not None:
        stmt = stmt.where(Notification.status == status)
    if channel is not None:
        stmt = stmt.where(Notification.channel == channel)
    if alarm_id:
        stmt = stmt.where(Notification.alarm_id == alarm_id)
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id).limit(limit)
    return list(session.scalars(stmt))


def get_notification(
    *, session: Session, principal: Principal, notification_id: str
) -> Notification:
    notification = session.get(Notification, notification_id)
    if (
        notification is None
        or notification.organisation_id != principal.organisation_id
        or not may_see_outbox(principal)
    ):
        raise NotFound(f"no notification {notification_id}")
    return notification


def attempts_of(
    *, session: Session, principal: Principal, notification_id: str
) -> list[NotificationAttempt]:
    notification = get_notification(
        session=session, principal=principal, notification_id=notification_id
    )
    stmt = (
        select(NotificationAttempt)
        .where(NotificationAttempt.notification_id == notification.id)
        .order_by(NotificationAttempt.attempt_no)
    )
    return list(session.scalars(stmt))
