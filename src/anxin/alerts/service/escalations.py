"""An alarm's escalation as rows: the state machine's transitions stored, and the outbox
rows (notifications) of each step it fires."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.alerts import escalation as machine
from anxin.alerts.models import (
    Alarm,
    Channel,
    Escalation,
    EscalationStatus,
    Notification,
    NotificationStatus,
)
from anxin.alerts.schemas import Recipient
from anxin.alerts.service.common import SYSTEM_ACTOR, add_history
from anxin.alerts.service.escalation_policies import resolve_policy
from anxin.core.db import new_id


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


def state_columns(state: machine.State, now: datetime) -> dict[str, Any]:
    """The escalation row's columns that hold `state`."""
    return {
        "status": EscalationStatus(state.status),
        "step_index": state.step_index,
        "repeats_done": state.repeats_done,
        "fired": state.fired,
        "next_at": state.next_at,
        "stop_reason": state.stop_reason,
        "updated_at": now,
    }


def store_state(esc: Escalation, state: machine.State, now: datetime) -> None:
    for key, value in state_columns(state, now).items():
        setattr(esc, key, value)


def stop_escalation(
    session: Session, alarm: Alarm, esc: Escalation, reason: str, now: datetime
) -> None:
    if esc.status != EscalationStatus.ACTIVE:
        return
    store_state(esc, machine.stop(state_of(esc), reason), now)
    add_history(
        session, alarm, "escalation_stopped", now, actor=SYSTEM_ACTOR, data={"reason": reason}
    )


def apply_transition(
    *,
    session: Session,
    alarm: Alarm,
    esc: Escalation,
    transition: machine.Transition,
    now: datetime,
) -> list[Notification]:
    """Persist a state-machine transition and write the outbox rows of the step it fires."""
    store_state(esc, transition.state, now)
    if transition.fire is None:
        if transition.reason == "exhausted":
            add_history(session, alarm, "escalation_exhausted", now, actor=SYSTEM_ACTOR)
        session.flush()
        return []
    recipients = [Recipient.from_dict(r) for r in esc.recipients]
    made, skipped = notifications_for(alarm, esc, transition.fire, recipients, now)
    session.add_all(made)
    add_history(
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


def escalation_of(*, session: Session, alarm_id: str, lock: bool = False) -> Escalation | None:
    """The alarm's escalation; `lock` re-reads it under a row lock (PostgreSQL) before a change,
    so an acknowledgement and a worker firing a step never overwrite each other."""
    stmt = select(Escalation).where(Escalation.alarm_id == alarm_id)
    if lock:
        stmt = stmt.execution_options(populate_existing=True)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
    return session.scalar(stmt)


def start_escalation(
    session: Session,
    alarm: Alarm,
    code: str,
    recipients: Sequence[Recipient],
    now: datetime,
    actor: str,
) -> Escalation:
    policy, problem = resolve_policy(session=session, code=code, now=now)
    if problem:
        add_history(session, alarm, "policy_problem", now, actor=actor, note=problem)
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


def notifications_for(
    alarm: Alarm,
    esc: Escalation,
    step: machine.Step,
    recipients: list[Recipient],
    now: datetime,
) -> tuple[list[Notification], list[str]]:
    rows, skipped = notification_rows(alarm, esc.id, esc.fired, step, recipients, now)
    return [Notification(**row) for row in rows], skipped


def notification_rows(
    alarm: Alarm,
    escalation_id: str,
    step_seq: int,
    step: machine.Step,
    recipients: list[Recipient],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The outbox rows of one step, as column values (`raise_alarms` inserts them as they are)."""
    made: list[dict[str, Any]] = []
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
                made.append(
                    {
                        "id": new_id(),
                        "organisation_id": alarm.organisation_id,
                        "alarm_id": alarm.id,
                        "escalation_id": escalation_id,
                        "step_seq": step_seq,
                        "purpose": target.purpose,
                        "channel": Channel(channel),
                        "provider": None,
                        "recipient_role": recipient.role,
                        "recipient_name": recipient.name[:120],
                        "recipient_user_id": recipient.user_id,
                        "address": address[:500],
                        "subject": subject[:300],
                        "body": body,
                        "idempotency_key": _new_key(),
                        "status": NotificationStatus.PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    return made, skipped


def _new_key() -> str:
    return "ntf-" + new_id()
