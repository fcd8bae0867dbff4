"""An alarm's escalation as rows: the state machine's transitions stored, and the outbox
rows (notifications) of each step it fires."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anxin.alerts import escalation as machine
from anxin.alerts.models import (
    SEVERITY_NAMES,
    Alarm,
    AlarmEvent,
    Channel,
    Escalation,
    EscalationStatus,
    Notification,
    NotificationStatus,
)
from anxin.alerts.schemas import Recipient
from anxin.alerts.service.common import SYSTEM_ACTOR, add_history
from anxin.alerts.service.escalation_policies import resolve_policy
from anxin.core.clock import to_local
from anxin.core.db import new_id

if TYPE_CHECKING:
    from anxin.alerts.service.bulk import NewAlarm


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


RENOTIFIED = "renotified"  # the history action of a repeat that notified people again


def plan_renotification(
    session: Session, alarm: Alarm, now: datetime
) -> tuple[machine.RepeatDecision, Escalation | None, machine.Step | None]:
    """What a repeat of `alarm` does (see `escalation.renotify`): a step to send only when
    the escalation no longer notifies anyone (acknowledged or exhausted), its policy has an
    `on_repeat` rule and the last renotification is not too recent."""
    esc = escalation_of(session=session, alarm_id=alarm.id, lock=True)
    if esc is None:
        return "no_rule", None, None
    policy = machine.parse_policy(esc.policy, code=esc.policy_code)
    last = session.scalar(
        select(func.max(AlarmEvent.at)).where(
            AlarmEvent.alarm_id == alarm.id, AlarmEvent.action == RENOTIFIED
        )
    )
    decision, step = machine.renotify(policy, state_of(esc), now, last)
    return decision, esc, step


def renotify(
    session: Session, alarm: Alarm, esc: Escalation, step: machine.Step, now: datetime
) -> list[Notification]:
    """One round of messages about the alarm's latest repeat (its count), in the outbox now;
    its history entry is also what the next repeat's rate limit reads."""
    recipients = [Recipient.from_dict(r) for r in esc.recipients]
    # No step number: a renotification is no step of the escalation, whose state stays as is.
    rows, skipped = notification_rows(
        alarm, esc.id, None, step, recipients, now, repeat=alarm.count
    )
    made = [Notification(**row) for row in rows]
    session.add_all(made)
    add_history(
        session,
        alarm,
        RENOTIFIED,
        now,
        actor=SYSTEM_ACTOR,
        data={"count": alarm.count, "notifications": len(made), "skipped": skipped},
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
    alarm: Alarm | NewAlarm,
    recipient: Recipient,
    purpose: str,
    others: list[Recipient],
    repeat: int | None = None,
) -> tuple[str, str]:
    """What a person reads in an SMS, a call script or a push. Users carry no language, so
    messages are in Chinese (the demo's and the customers' language): the severity in words,
    times on the Shanghai clock, no identifiers."""
    severity = SEVERITY_NAMES[alarm.severity][0]
    ref = f"#{alarm.id[:8]}"
    subject = f"[安心 {severity}] {alarm.title}"
    if repeat is not None:
        # The alarm was acknowledged and it happened again: say so first, and how often.
        subject = f"[安心 {severity}] 再次发生 ×{repeat}: {alarm.title}"
        body = (
            f"{alarm.title} 再次发生(第{repeat}次,{_clock(alarm.last_raised_at)}),"
            f"请立即查看。({ref})"
        )
        return subject, body
    if purpose == "call_task":
        phones = ", ".join(f"{r.name} {r.phone}" for r in others if r.role == "elder" and r.phone)
        body = (
            f"请立即致电:{alarm.title}。{phones + '。' if phones else ''}联系上后请确认告警 {ref}。"
        )
        return "📞 " + subject, body
    body = f"{alarm.title}({_clock(alarm.first_raised_at)})。请尽快确认。({ref})"
    return subject, body


def _clock(moment: datetime) -> str:
    """A moment as the reader's wall clock shows it (Beijing time)."""
    return f"{to_local(moment):%m-%d %H:%M} 北京时间"


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
    alarm: Alarm | NewAlarm,
    escalation_id: str,
    step_seq: int | None,
    step: machine.Step,
    recipients: list[Recipient],
    now: datetime,
    *,
    repeat: int | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The outbox rows of one step, as column values (`raise_alarms` inserts them as they are);
    `repeat` (the alarm's count) words them as a renotification of a repeat."""
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
                subject, body = _texts(alarm, recipient, target.purpose, recipients, repeat)
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
