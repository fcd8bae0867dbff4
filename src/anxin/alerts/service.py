"""Alarms and their escalations. Keyword-only; flush, never commit.

The contract other domains call (keep its shape):

    raise_alarm(*, session, organisation_id, owner_kind, owner_id, source_kind, source_id,
                alarm_type, severity: Severity, title, details, policy, recipients: list[Recipient],
                now, bus) -> Alarm
        One active alarm per (source_kind, source_id, alarm_type). A repeat updates it: count
        + 1, last_raised_at, severity raised to the worse of the two, details replaced; it
        publishes `alerts.alarm.updated` and starts nothing new. The first raise publishes
        `alerts.alarm.raised`, starts the escalation policy and writes the first step's
        notifications (the outbox) in the caller's transaction. An unknown or invalid policy
        never fails the raise: the built-in version (or "default") is used and the problem is
        written to the alarm's history.
    clear_alarm(*, session, source_kind, source_id, alarm_type, now, reason, bus) -> Alarm | None
        The source says the condition is gone: `cleared` is set (a separate axis from
        acknowledged/resolved), the alarm stops being the active one for de-duplication, and
        the escalation stops only if the policy says `stop_on_clear`.
    acknowledge(*, session, principal, alarm_id, note, now, bus) -> Alarm
    resolve(*, session, principal, alarm_id, note, now, bus) -> Alarm
        Both stop the escalation. 404 for an alarm the principal may not see; 403 for one it
        may see but not act on (a family may acknowledge, not resolve); 409 on a resolved alarm.

`Recipient` (anxin.alerts.schemas) and `Severity` (anxin.alerts.models) are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anxin.alerts import escalation as machine
from anxin.alerts.models import (
    Alarm,
    AlarmEvent,
    AlarmState,
    Channel,
    Escalation,
    EscalationPolicy,
    EscalationStatus,
    Notification,
    NotificationAttempt,
    NotificationStatus,
    Severity,
)
from anxin.alerts.policies import CATALOGUE, DEFAULT_POLICY
from anxin.alerts.schemas import Recipient
from anxin.core.access import visible_owner_ids
from anxin.core.errors import NotFound, PermissionDenied, RuleViolation
from anxin.core.events import Event, EventBus
from anxin.core.security import Principal, Role
from anxin.iot.metrics import ALARMS_RAISED

__all__ = [
    "Alarm",
    "AlarmState",
    "Recipient",
    "Severity",
    "acknowledge",
    "clear_alarm",
    "get_alarm",
    "list_alarms",
    "raise_alarm",
    "resolve",
]

SUBJECT = "alerts.alarm.{verb}"
SYSTEM_ACTOR = "system:alerts"
# Who may act on an alarm they can see. Families may acknowledge ("I am with mum"), not resolve.
NOT_RESOLVERS = frozenset({Role.FAMILY, Role.ELDER, Role.PUBLIC, Role.BUYER})
NOT_ACKERS = frozenset({Role.ELDER, Role.PUBLIC, Role.BUYER})
OUTBOX_ROLES = frozenset({Role.ADMIN, Role.BUTLER})
POLICY_ADMINS = frozenset({Role.ADMIN})
_CATALOGUE_BY_CODE = {str(doc["code"]): doc for doc in CATALOGUE}


def active_key(source_kind: str, source_id: str, alarm_type: str) -> str:
    return f"{source_kind}|{source_id}|{alarm_type}"


def _actor(session: Session, principal: Principal | None = None) -> str:
    if principal is not None:
        return principal.actor
    return str(session.info.get("actor", SYSTEM_ACTOR))


def _history(
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


def event_payload(alarm: Alarm, now: datetime) -> dict[str, Any]:
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


def _publish(
    session: Session, bus: EventBus | None, alarm: Alarm, verb: str, now: datetime
) -> None:
    if bus is None:
        return
    session.flush()
    bus.publish(
        session,
        Event(
            subject=SUBJECT.format(verb=verb), payload=event_payload(alarm, now), occurred_at=now
        ),
    )


# --- policies ------------------------------------------------------------------------------


def _store_definition(row: EscalationPolicy, definition: dict[str, Any]) -> None:
    row.definition = definition
    try:
        parsed = machine.parse_policy(definition, code=row.code)
    except machine.PolicyInvalid as exc:
        row.valid = False
        row.error = str(exc)[:4000]
        row.name = str(definition.get("name") or row.code)[:200]
        return
    row.valid = True
    row.error = None
    row.name = parsed.name[:200]


def sync_policies(*, session: Session, now: datetime) -> int:
    """Make the built-in policies present and current; policies an admin edited are kept."""
    for doc in CATALOGUE:
        code = str(doc["code"])
        row = session.get(EscalationPolicy, code)
        if row is None:
            row = EscalationPolicy(code=code, origin="builtin", updated_at=now)
            session.add(row)
        elif row.origin != "builtin" or row.definition == doc:
            continue
        _store_definition(row, dict(doc))
        row.updated_at = now
    session.flush()
    return len(CATALOGUE)


def list_policies(
    *, session: Session, principal: Principal, now: datetime
) -> list[EscalationPolicy]:
    if principal.role not in OUTBOX_ROLES:
        raise PermissionDenied(f"role {principal.role.value!r} may not see escalation policies")
    sync_policies(session=session, now=now)
    return list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.code)))


def put_policy(
    *, session: Session, principal: Principal, code: str, definition: dict[str, Any], now: datetime
) -> EscalationPolicy:
    """Create or replace a policy. An invalid one is stored with its reason, not refused, and
    alarms keep using the built-in version (or "default") until it is fixed."""
    if principal.role not in POLICY_ADMINS:
        raise PermissionDenied(f"role {principal.role.value!r} may not edit escalation policies")
    row = session.get(EscalationPolicy, code)
    if row is None:
        row = EscalationPolicy(code=code, updated_at=now)
        session.add(row)
    row.origin = "custom"
    _store_definition(row, {**definition, "code": code})
    row.updated_at = now
    session.flush()
    return row


def resolve_policy(
    *, session: Session, code: str, now: datetime
) -> tuple[machine.Policy, str | None]:
    """The policy to run for `code`, and a problem to record if it is not the one asked for."""
    row = session.get(EscalationPolicy, code)
    if row is None and code in _CATALOGUE_BY_CODE:
        sync_policies(session=session, now=now)
        row = session.get(EscalationPolicy, code)
    if row is not None and row.valid:
        try:
            return machine.parse_policy(row.definition, code=code), None
        except machine.PolicyInvalid as exc:  # edited in the database by hand
            problem = f"policy {code!r} is invalid: {exc}"
    elif row is not None:
        problem = f"policy {code!r} is invalid: {row.error}"
    else:
        problem = f"no escalation policy {code!r}"
    fallback = _CATALOGUE_BY_CODE.get(code) or _CATALOGUE_BY_CODE[DEFAULT_POLICY]
    return machine.parse_policy(fallback), problem + f"; using built-in {fallback['code']!r}"


# --- raising and clearing ------------------------------------------------------------------


def raise_alarm(
    *,
    session: Session,
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
    bus: EventBus | None,
) -> Alarm:
    """Raise (or repeat) an alarm; see the module docstring for the contract."""
    severity = Severity(severity)
    key = active_key(source_kind, source_id, alarm_type)
    existing = session.scalar(select(Alarm).where(Alarm.active_key == key))
    if existing is not None:
        return _repeat(session, existing, severity, title, details, now, bus)
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
        return _repeat(session, existing, severity, title, details, now, bus)
    actor = _actor(session)
    _history(session, alarm, "raised", now, actor=actor, data={"severity": severity.value})
    ALARMS_RAISED.labels(severity=severity.value, type=alarm_type).inc()
    _start_escalation(session, alarm, policy, recipients, now, actor)
    _publish(session, bus, alarm, "raised", now)
    return alarm


def _repeat(
    session: Session,
    alarm: Alarm,
    severity: Severity,
    title: str,
    details: dict[str, Any],
    now: datetime,
    bus: EventBus | None,
) -> Alarm:
    alarm.count += 1
    alarm.last_raised_at = now
    alarm.details = dict(details)
    data: dict[str, Any] = {"count": alarm.count}
    if severity.rank > alarm.severity.rank:
        data["severity"] = {"from": alarm.severity.value, "to": severity.value}
        alarm.severity = severity
        alarm.title = title[:300]
    _history(session, alarm, "repeated", now, actor=_actor(session), data=data)
    _publish(session, bus, alarm, "updated", now)
    return alarm


def _start_escalation(
    session: Session,
    alarm: Alarm,
    code: str,
    recipients: Sequence[Recipient],
    now: datetime,
    actor: str,
) -> Escalation:
    policy, problem = resolve_policy(session=session, code=code, now=now)
    if problem:
        _history(session, alarm, "policy_problem", now, actor=actor, note=problem)
    transition = machine.start(policy, now)
    esc = Escalation(
        alarm_id=alarm.id,
        policy_code=policy.code,
        policy=machine.policy_document(policy),
        recipients=[r.as_dict() for r in recipients],
        status=EscalationStatus.ACTIVE,
        step_index=-1,
        repeats_done=0,
        fired=0,
        next_at=now,
        overdue_flagged=0,
        started_at=now,
        updated_at=now,
    )
    session.add(esc)
    session.flush()
    apply_transition(session=session, alarm=alarm, esc=esc, transition=transition, now=now)
    return esc


def clear_alarm(
    *,
    session: Session,
    source_kind: str,
    source_id: str,
    alarm_type: str,
    now: datetime,
    reason: str,
    bus: EventBus | None,
) -> Alarm | None:
    """Clear the active alarm of this source and type, if there is one."""
    alarm = session.scalar(
        select(Alarm).where(Alarm.active_key == active_key(source_kind, source_id, alarm_type))
    )
    if alarm is None:
        return None
    alarm.cleared = True
    alarm.cleared_at = now
    alarm.active_key = None
    _history(session, alarm, "cleared", now, actor=_actor(session), note=reason)
    esc = escalation_of(session=session, alarm_id=alarm.id, lock=True)
    if esc is not None and esc.status == EscalationStatus.ACTIVE:
        policy = machine.parse_policy(esc.policy, code=esc.policy_code)
        if policy.stop_on_clear:
            _stop(session, alarm, esc, "cleared", now)
    _publish(session, bus, alarm, "cleared", now)
    return alarm


# --- visibility and actions ----------------------------------------------------------------


def _visible(session: Session, principal: Principal) -> ColumnElement[bool]:
    in_org = Alarm.organisation_id == principal.organisation_id
    if principal.role == Role.ADMIN:
        return in_org
    kinds = session.scalars(select(Alarm.owner_kind).where(in_org).distinct())
    allowed: list[ColumnElement[bool]] = []
    for kind in kinds:
        owners = visible_owner_ids(session, principal, kind)
        if owners is None:
            allowed.append(Alarm.owner_kind == kind)
        elif owners:
            allowed.append(and_(Alarm.owner_kind == kind, Alarm.owner_id.in_(list(owners))))
    return and_(in_org, or_(*allowed)) if allowed else false()


def get_alarm(*, session: Session, principal: Principal, alarm_id: str) -> Alarm:
    """An alarm the principal may see; 404 otherwise, so existence does not leak."""
    alarm = session.scalar(select(Alarm).where(Alarm.id == alarm_id, _visible(session, principal)))
    if alarm is None:
        raise NotFound(f"no alarm {alarm_id}")
    return alarm


def list_alarms(
    *,
    session: Session,
    principal: Principal,
    state: AlarmState | None = None,
    severity: Severity | None = None,
    active: bool | None = None,
    owner_kind: str | None = None,
    owner_id: str | None = None,
    limit: int = 100,
) -> list[Alarm]:
    stmt = select(Alarm).where(_visible(session, principal))
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
    return list(session.scalars(stmt))


def acknowledge(
    *,
    session: Session,
    principal: Principal,
    alarm_id: str,
    note: str | None,
    now: datetime,
    bus: EventBus | None,
) -> Alarm:
    alarm = get_alarm(session=session, principal=principal, alarm_id=alarm_id)
    if principal.role in NOT_ACKERS:
        raise PermissionDenied(f"role {principal.role.value!r} may not acknowledge alarms")
    if alarm.state == AlarmState.RESOLVED:
        raise RuleViolation(f"alarm {alarm_id} is resolved already")
    if alarm.state == AlarmState.ACKNOWLEDGED:
        if note:
            _history(session, alarm, "note", now, actor=principal.actor, note=note)
            session.flush()
        return alarm
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged_at = now
    alarm.acknowledged_by = principal.actor
    _history(session, alarm, "acknowledged", now, actor=principal.actor, note=note)
    esc = escalation_of(session=session, alarm_id=alarm.id, lock=True)
    if esc is not None:
        _stop(session, alarm, esc, "acknowledged", now)
    _publish(session, bus, alarm, "acknowledged", now)
    return alarm


def resolve(
    *,
    session: Session,
    principal: Principal,
    alarm_id: str,
    note: str | None,
    now: datetime,
    bus: EventBus | None,
) -> Alarm:
    alarm = get_alarm(session=session, principal=principal, alarm_id=alarm_id)
    if principal.role in NOT_RESOLVERS:
        raise PermissionDenied(f"role {principal.role.value!r} may not resolve alarms")
    if alarm.state == AlarmState.RESOLVED:
        raise RuleViolation(f"alarm {alarm_id} is resolved already")
    alarm.state = AlarmState.RESOLVED
    alarm.resolved_at = now
    alarm.resolved_by = principal.actor
    alarm.active_key = None
    _history(session, alarm, "resolved", now, actor=principal.actor, note=note)
    esc = escalation_of(session=session, alarm_id=alarm.id, lock=True)
    if esc is not None:
        _stop(session, alarm, esc, "resolved", now)
    _publish(session, bus, alarm, "resolved", now)
    return alarm


def history(*, session: Session, alarm: Alarm) -> list[AlarmEvent]:
    stmt = select(AlarmEvent).where(AlarmEvent.alarm_id == alarm.id).order_by(AlarmEvent.id)
    return list(session.scalars(stmt))


def escalation_of(*, session: Session, alarm_id: str, lock: bool = False) -> Escalation | None:
    """The alarm's escalation; `lock` re-reads it under a row lock (PostgreSQL) before a change,
    so an acknowledgement and a worker firing a step never overwrite each other."""
    stmt = select(Escalation).where(Escalation.alarm_id == alarm_id)
    if lock:
        stmt = stmt.execution_options(populate_existing=True)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
    return session.scalar(stmt)


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


# --- escalation steps ----------------------------------------------------------------------


def state_of(esc: Escalation) -> machine.State:
    status: machine.Status = esc.status.value
    return machine.State(
        status=status,
        step_index=esc.step_index,
        repeats_done=esc.repeats_done,
        fired=esc.fired,
        next_at=esc.next_at,
        stop_reason=esc.stop_reason,
    )


def _store_state(esc: Escalation, state: machine.State, now: datetime) -> None:
    esc.status = EscalationStatus(state.status)
    esc.step_index = state.step_index
    esc.repeats_done = state.repeats_done
    esc.fired = state.fired
    esc.next_at = state.next_at
    esc.stop_reason = state.stop_reason
    esc.updated_at = now


def _stop(session: Session, alarm: Alarm, esc: Escalation, reason: str, now: datetime) -> None:
    if esc.status != EscalationStatus.ACTIVE:
        return
    _store_state(esc, machine.stop(state_of(esc), reason), now)
    _history(session, alarm, "escalation_stopped", now, actor=SYSTEM_ACTOR, data={"reason": reason})


def apply_transition(
    *,
    session: Session,
    alarm: Alarm,
    esc: Escalation,
    transition: machine.Transition,
    now: datetime,
) -> list[Notification]:
    """Persist a state-machine transition and write the outbox rows of the step it fires."""
    _store_state(esc, transition.state, now)
    if transition.fire is None:
        if transition.reason == "exhausted":
            _history(session, alarm, "escalation_exhausted", now, actor=SYSTEM_ACTOR)
        session.flush()
        return []
    recipients = [Recipient.from_dict(r) for r in esc.recipients]
    made, skipped = _notifications_for(alarm, esc, transition.fire, recipients, now)
    session.add_all(made)
    _history(
        session,
        alarm,
        "escalation_step",
        now,
        actor=SYSTEM_ACTOR,
        data={
            "step": transition.state.step_index,
            "seq": transition.state.fired,
            "reason": transition.reason,
            "notifications": len(made),
            "skipped": skipped,
            "next_at": transition.state.next_at.isoformat() if transition.state.next_at else None,
        },
    )
    session.flush()
    return made


def _address(recipient: Recipient, channel: str) -> str | None:
    if channel in ("sms", "voice"):
        return recipient.phone
    if channel in ("push", "console"):
        return recipient.user_id
    if channel == "webhook":
        return recipient.webhook_url
    return None


def _texts(
    alarm: Alarm, recipient: Recipient, purpose: str, others: list[Recipient]
) -> tuple[str, str]:
    subject = f"[安心 {alarm.severity.value.upper()}] {alarm.title}"
    if purpose == "call_task":
        phones = ", ".join(f"{r.name} {r.phone}" for r in others if r.role == "elder" and r.phone)
        body = (
            f"请立即致电 Call now: {alarm.title}. {phones or ''} "
            f"— alarm {alarm.id[:8]}, 确认 acknowledge when you reach them."
        ).replace("  ", " ")
        return "📞 " + subject, body
    body = (
        f"{alarm.title}. 请尽快确认 Please acknowledge. "
        f"({alarm.alarm_type}, #{alarm.id[:8]}, {alarm.first_raised_at:%H:%M:%S} UTC)"
    )
    return subject, body


def _notifications_for(
    alarm: Alarm,
    esc: Escalation,
    step: machine.Step,
    recipients: list[Recipient],
    now: datetime,
) -> tuple[list[Notification], list[str]]:
    made: list[Notification] = []
    skipped: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for target in step.targets:
        for recipient in recipients:
            if recipient.role not in target.roles:
                continue
            for channel in target.channels:
                address = _address(recipient, channel)
                if not address:
                    skipped.append(f"{recipient.role} {recipient.name}: no address for {channel}")
                    continue
                dedup = (address, channel, target.purpose)
                if dedup in seen:
                    continue
                seen.add(dedup)
                subject, body = _texts(alarm, recipient, target.purpose, recipients)
                notification = Notification(
                    organisation_id=alarm.organisation_id,
                    alarm_id=alarm.id,
                    escalation_id=esc.id,
                    step_seq=esc.fired,
                    purpose=target.purpose,
                    channel=Channel(channel),
                    recipient_role=recipient.role,
                    recipient_name=recipient.name[:120],
                    recipient_user_id=recipient.user_id,
                    address=address[:500],
                    subject=subject[:300],
                    body=body,
                    status=NotificationStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
                notification.idempotency_key = _new_key()
                made.append(notification)
    return made, skipped


def _new_key() -> str:
    from anxin.core.db import new_id

    return "ntf-" + new_id()
