"""Alarms: raise (or repeat), clear, see, acknowledge and resolve."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anxin.alerts import escalation as machine
from anxin.alerts.metrics import ALARMS_RAISED
from anxin.alerts.models import Alarm, AlarmEvent, AlarmState, EscalationStatus, Severity
from anxin.alerts.schemas import Recipient
from anxin.alerts.service.common import (
    NOT_ACKERS,
    NOT_RESOLVERS,
    active_key,
    actor_of,
    add_history,
    publish_alarm,
)
from anxin.alerts.service.escalations import (
    escalation_of,
    plan_renotification,
    renotify,
    start_escalation,
    stop_escalation,
)
from anxin.core.errors import NotFound, PermissionDenied, RuleViolation
from anxin.core.security import Principal, Role
from anxin.core.unit import UnitOfWork


def raise_alarm(
    *,
    uow: UnitOfWork,
    organisation_id: str,
    owner_kind: str,
    owner_id: str,
    source_kind: str,
    source_id: str,
    alarm_type: str,
    severity: Severity,
    title: str,
    details: dict[str, Any],
    policy: str,
    recipients: list[Recipient],
    now: datetime,
) -> Alarm:
    """Raise (or repeat) an alarm; see the module docstring for the contract."""
    session = uow.session
    severity = Severity(severity)
    key = active_key(source_kind, source_id, alarm_type)
    existing = session.scalar(select(Alarm).where(Alarm.active_key == key))
    if existing is not None:
        return _repeat(uow, existing, severity, title, details, now)
    alarm = Alarm(
        organisation_id=organisation_id,
        owner_kind=owner_kind,
        owner_id=owner_id,
        source_kind=source_kind,
        source_id=source_id,
        alarm_type=alarm_type,
        active_key=key,
        severity=severity,
        state=AlarmState.RAISED,
        cleared=False,
        title=title[:300],
        details=dict(details),
        policy=policy,
        count=1,
        first_raised_at=now,
        last_raised_at=now,
    )
    try:
        with session.begin_nested():
            session.add(alarm)
            session.flush()
    except IntegrityError:
        # Another unit of work raised the same alarm a moment ago: this is a repeat of it.
        existing = session.scalar(select(Alarm).where(Alarm.active_key == key))
        if existing is None:
            raise
        return _repeat(uow, existing, severity, title, details, now)
    actor = actor_of(uow)
    add_history(session, alarm, "raised", now, actor=actor, data={"severity": severity.value})
    ALARMS_RAISED.labels(severity=severity.value, type=alarm_type).inc()
    start_escalation(session, alarm, policy, recipients, now, actor)
    publish_alarm(uow, alarm, "raised", now)
    return alarm


def _repeat(
    uow: UnitOfWork,
    alarm: Alarm,
    severity: Severity,
    title: str,
    details: dict[str, Any],
    now: datetime,
) -> Alarm:
    alarm.count += 1
    alarm.last_raised_at = now
    alarm.details = dict(details)
    data: dict[str, Any] = {"count": alarm.count}
    if severity.rank > alarm.severity.rank:
        data["severity"] = {"from": alarm.severity.value, "to": severity.value}
        alarm.severity = severity
        alarm.title = title[:300]
    # Once acknowledged, nobody is being told any more: the policy may say who hears of it.
    data["renotify"], esc, step = plan_renotification(uow.session, alarm, now)
    add_history(uow.session, alarm, "repeated", now, actor=actor_of(uow), data=data)
    if esc is not None and step is not None:
        renotify(uow.session, alarm, esc, step, now)
    publish_alarm(uow, alarm, "updated", now)
    return alarm


def active_alarm(
    *, session: Session, source_kind: str, source_id: str, alarm_type: str
) -> Alarm | None:
    """The open alarm of this source and type (the one a repeat would update), if any."""
    key = active_key(source_kind, source_id, alarm_type)
    return session.scalar(select(Alarm).where(Alarm.active_key == key))


def clear_alarm(
    *,
    uow: UnitOfWork,
    source_kind: str,
    source_id: str,
    alarm_type: str,
    now: datetime,
    reason: str,
    reason_code: str | None = None,
    reason_params: Mapping[str, str] | None = None,
) -> Alarm | None:
    """Clear the active alarm of this source and type, if there is one.

    `reason` is the English note the API returns; `reason_code` (with its params), when given,
    is what pages show through the labels (`clear_reason_<code>`), in the reader's language."""
    session = uow.session
    alarm = active_alarm(
        session=session, source_kind=source_kind, source_id=source_id, alarm_type=alarm_type
    )
    if alarm is None:
        return None
    alarm.cleared = True
    alarm.cleared_at = now
    alarm.active_key = None
    coded = {"reason_code": reason_code, "params": dict(reason_params or {})}
    data = coded if reason_code else None
    add_history(session, alarm, "cleared", now, actor=actor_of(uow), note=reason, data=data)
    esc = escalation_of(session=session, alarm_id=alarm.id, lock=True)
    if esc is not None and esc.status == EscalationStatus.ACTIVE:
        policy = machine.parse_policy(esc.policy, code=esc.policy_code)
        if policy.stop_on_clear:
            stop_escalation(session, alarm, esc, "cleared", now)
    publish_alarm(uow, alarm, "cleared", now)
    return alarm


def visible_alarms(uow: UnitOfWork, principal: Principal) -> ColumnElement[bool]:
    session = uow.session
    in_org = Alarm.organisation_id == principal.organisation_id
    if principal.role == Role.ADMIN:
        return in_org
    kinds = session.scalars(select(Alarm.owner_kind).where(in_org).distinct())
    allowed: list[ColumnElement[bool]] = []
    for kind in kinds:
        owners = uow.owners.visible_ids(session, principal, kind)
        if owners is None:
            allowed.append(Alarm.owner_kind == kind)
        elif owners:
            allowed.append(and_(Alarm.owner_kind == kind, Alarm.owner_id.in_(list(owners))))
    return and_(in_org, or_(*allowed)) if allowed else false()


def get_alarm(*, uow: UnitOfWork, principal: Principal, alarm_id: str) -> Alarm:
    """An alarm the principal may see; 404 otherwise, so existence does not leak."""
    alarm = uow.session.scalar(
        select(Alarm).where(Alarm.id == alarm_id, visible_alarms(uow, principal))
    )
    if alarm is None:
        raise NotFound(f"no alarm {alarm_id}")
    return alarm


def list_alarms(
    *,
    uow: UnitOfWork,
    principal: Principal,
    state: AlarmState | None = None,
    severity: Severity | None = None,
    active: bool | None = None,
    owner_kind: str | None = None,
    owner_id: str | None = None,
    raised_from: datetime | None = None,
    raised_before: datetime | None = None,
    limit: int = 100,
) -> list[Alarm]:
    stmt = select(Alarm).where(visible_alarms(uow, principal))
    if raised_from is not None:
        stmt = stmt.where(Alarm.first_raised_at >= raised_from)
    if raised_before is not None:
        stmt = stmt.where(Alarm.first_raised_at < raised_before)
    if state is not None:
        stmt = stmt.where(Alarm.state == state)
    if severity is not None:
        stmt = stmt.where(Alarm.severity == severity)
    if active is True:
        stmt = stmt.where(Alarm.state != AlarmState.RESOLVED)
    elif active is False:
        stmt = stmt.where(Alarm.state == AlarmState.RESOLVED)
    if owner_kind:
        stmt = stmt.where(Alarm.owner_kind == owner_kind)
    if owner_id:
        stmt = stmt.where(Alarm.owner_id == owner_id)
    stmt = stmt.order_by(Alarm.last_raised_at.desc(), Alarm.id).limit(limit)
    return list(uow.session.scalars(stmt))


def acknowledge(
    *, uow: UnitOfWork, principal: Principal, alarm_id: str, note: str | None, now: datetime
) -> Alarm:
    session = uow.session
    alarm = get_alarm(uow=uow, principal=principal, alarm_id=alarm_id)
    if principal.role in NOT_ACKERS:
        raise PermissionDenied(f"role {principal.role.value!r} may not acknowledge alarms")
    if alarm.state == AlarmState.RESOLVED:
        raise RuleViolation(f"alarm {alarm_id} is resolved already")
    if alarm.state == AlarmState.ACKNOWLEDGED:
        if note:
            add_history(session, alarm, "note", now, actor=principal.actor, note=note)
            session.flush()
        return alarm
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged_at = now
    alarm.acknowledged_by = principal.actor
    add_history(session, alarm, "acknowledged", now, actor=principal.actor, note=note)
    esc = escalation_of(session=session, alarm_id=alarm.id, lock=True)
    if esc is not None:
        stop_escalation(session, alarm, esc, "acknowledged", now)
    publish_alarm(uow, alarm, "acknowledged", now)
    return alarm


def resolve(
    *, uow: UnitOfWork, principal: Principal, alarm_id: str, note: str | None, now: datetime
) -> Alarm:
    session = uow.session
    alarm = get_alarm(uow=uow, principal=principal, alarm_id=alarm_id)
    if principal.role in NOT_RESOLVERS:
        raise PermissionDenied(f"role {principal.role.value!r} may not resolve alarms")
    if alarm.state == AlarmState.RESOLVED:
        raise RuleViolation(f"alarm {alarm_id} is resolved already")
    alarm.state = AlarmState.RESOLVED
    alarm.resolved_at = now
    alarm.resolved_by = principal.actor
    alarm.active_key = None
    add_history(session, alarm, "resolved", now, actor=principal.actor, note=note)
    esc = escalation_of(session=session, alarm_id=alarm.id, lock=True)
    if esc is not None:
        stop_escalation(session, alarm, esc, "resolved", now)
    publish_alarm(uow, alarm, "resolved", now)
    return alarm


def history(*, session: Session, alarm: Alarm) -> list[AlarmEvent]:
    stmt = select(AlarmEvent).where(AlarmEvent.alarm_id == alarm.id).order_by(AlarmEvent.id)
    return list(session.scalars(stmt))
