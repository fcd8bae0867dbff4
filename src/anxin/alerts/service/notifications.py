"""The outbox as people read it: an alarm's notifications, the organisation's outbox and the
delivery attempts of a message (the care team only)."""

from __future__ import annotations

from datetime import datetime

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
from anxin.core.db import new_id, upsert_insert
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


def queue_message(
    *,
    session: Session,
    organisation_id: str,
    key: str,
    purpose: str,
    channel: Channel,
    recipient_role: str,
    recipient_name: str,
    recipient_user_id: str | None,
    address: str,
    subject: str,
    body: str,
    now: datetime,
) -> bool:
    """A message that is no alarm's step (a visit reminder) into the same outbox, sent by the
    same dispatcher with its retries and receipts. `key` (at most 80 characters) makes it
    idempotent: a second call with the same key, from any process, queues nothing. True when
    this call queued it."""
    if len(key) > 80:
        raise ValueError("an outbox key is at most 80 characters")
    stmt = (
        upsert_insert(session, Notification.__table__)
        .values(
            id=new_id(),
            organisation_id=organisation_id,
            purpose=purpose[:20],
            channel=channel,
            recipient_role=recipient_role[:40],
            recipient_name=recipient_name[:120],
            recipient_user_id=recipient_user_id,
            address=address[:500],
            subject=subject[:300],
            body=body,
            idempotency_key=key,
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Notification.__table__.c.id)
    )
    return session.execute(stmt).first() is not None
