"""The engine loop: escalations, the watchdog, the outbox dispatcher and delivery receipts.

`run_due` does one tick in the caller's unit of work; tests call it with a FrozenClock, the
worker (`anxin.alerts.worker`) calls it about every half second. The dispatcher is split in
two (`claim_due`, then `send_claimed` per message) so the worker can commit the claim before
talking to a provider: a process that dies mid-send leaves a claimed row whose lease runs out,
and the next dispatcher sends it again *with the same idempotency key*.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from anxin.alerts import escalation as machine
from anxin.alerts import service
from anxin.alerts.models import (
    Alarm,
    Escalation,
    EscalationStatus,
    Notification,
    NotificationAttempt,
    NotificationStatus,
    Severity,
)
from anxin.alerts.policies import WATCHDOG_POLICY
from anxin.alerts.providers import OutboundMessage, ProviderRegistry, Receipt, SendResult
from anxin.alerts.schemas import Recipient
from anxin.core.config import Settings
from anxin.core.unit import UnitOfWork

log = logging.getLogger(__name__)

WATCHDOG_SOURCE = "alerts"
WATCHDOG_TYPE = "escalation_overdue"
WATCHDOG_ROLES = frozenset({"butler", "team_lead", "admin"})
UNDELIVERED = (NotificationStatus.FAILED, NotificationStatus.UNDELIVERED)


@dataclass(frozen=True)
class DeliveryConfig:
    max_attempts: int = 5
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    lease_s: float = 60.0
    watchdog_grace_s: float = 30.0
    default_receipt_timeout_s: int = 120
    batch: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        return cls(
            max_attempts=settings.notify_max_attempts,
            backoff_base_s=settings.notify_backoff_base_s,
            backoff_max_s=settings.notify_backoff_max_s,
            lease_s=settings.notify_lease_s,
            watchdog_grace_s=settings.alerts_watchdog_grace_s,
        )


@dataclass
class TickReport:
    watchdog_alarms: int = 0
    steps_fired: int = 0
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    delivered: int = 0
    undelivered: int = 0
    errors: list[str] = field(default_factory=list)


def run_due(
    *,
    uow: UnitOfWork,
    now: datetime,
    providers: ProviderRegistry,
    config: DeliveryConfig | None = None,
    rng: random.Random | None = None,
) -> TickReport:
    """One tick in one unit of work: watchdog, receipts and timeouts, due escalation steps,
    then the outbox (the worker sends each claimed message in a unit of its own)."""
    config = config or DeliveryConfig()
    report = TickReport()
    prepare_tick(uow=uow, now=now, providers=providers, config=config, report=report)
    for notification_id in claim_due(session=uow.session, now=now, config=config, report=report):
        send_claimed(
            session=uow.session,
            notification_id=notification_id,
            now=now,
            providers=providers,
            config=config,
            rng=rng,
            report=report,
        )
    return report


def prepare_tick(
    *,
    uow: UnitOfWork,
    now: datetime,
    providers: ProviderRegistry,
    config: DeliveryConfig,
    report: TickReport,
) -> None:
    """Everything of a tick except talking to providers for sends."""
    watchdog(uow=uow, now=now, config=config, report=report)
    collect_receipts(session=uow.session, now=now, providers=providers, report=report)
    advance_escalations(session=uow.session, now=now, report=report)


# --- watchdog ------------------------------------------------------------------------------


def watchdog(*, uow: UnitOfWork, now: datetime, config: DeliveryConfig, report: TickReport) -> None:
    """Raise an alarm for every escalation whose next step is overdue (the engine was down)."""
    session = uow.session
    cutoff = now - timedelta(seconds=config.watchdog_grace_s)
    rows = session.execute(
        select(Escalation, Alarm)
        .join(Alarm, Alarm.id == Escalation.alarm_id)
        .where(
            Escalation.status == EscalationStatus.ACTIVE,
            Escalation.next_at < cutoff,
            Escalation.overdue_flagged < Escalation.fired,
            Alarm.source_kind != WATCHDOG_SOURCE,
        )
    ).all()
    for esc, alarm in rows:
        assert esc.next_at is not None
        late_s = (now - esc.next_at).total_seconds()
        recipients = [
            Recipient.from_dict(r) for r in esc.recipients if r.get("role") in WATCHDOG_ROLES
        ]
        service.raise_alarm(
            uow=uow,
            organisation_id=alarm.organisation_id,
            owner_kind=alarm.owner_kind,
            owner_id=alarm.owner_id,
            source_kind=WATCHDOG_SOURCE,
            source_id=alarm.id,
            alarm_type=WATCHDOG_TYPE,
            severity=Severity.MAJOR,
            title=f"告警升级延误 Escalation overdue by {int(late_s)} s: {alarm.title}"[:300],
            details={
                "alarm_id": alarm.id,
                "escalation_id": esc.id,
                "policy": esc.policy_code,
                "step_due_at": esc.next_at.isoformat(),
                "late_by_s": round(late_s, 1),
            },
            policy=WATCHDOG_POLICY,
            recipients=recipients,
            now=now,
        )
        esc.overdue_flagged = esc.fired
        report.watchdog_alarms += 1
        log.warning("escalation %s of alarm %s overdue by %.1f s", esc.id, alarm.id, late_s)
    session.flush()


# --- escalations ---------------------------------------------------------------------------


def advance_escalations(*, session: Session, now: datetime, report: TickReport) -> None:
    """Fire steps whose wait is over, or whose messages went undelivered."""
    due_ids = set(
        session.scalars(
            select(Escalation.id).where(
                Escalation.status == EscalationStatus.ACTIVE, Escalation.next_at <= now
            )
        )
    )
    undelivered_ids = set(
        session.scalars(
            select(Escalation.id)
            .join(
                Notification,
                and_(
                    Notification.escalation_id == Escalation.id,
                    Notification.step_seq == Escalation.fired,
                ),
            )
            .where(
                Escalation.status == EscalationStatus.ACTIVE,
                Notification.status.in_(UNDELIVERED),
            )
        )
    )
    for esc_id in sorted(due_ids | undelivered_ids):
        # Lock and re-read: an acknowledgement (or another worker) may have got there first.
        esc = session.scalar(_locked(session, select(Escalation).where(Escalation.id == esc_id)))
        if esc is None or esc.status != EscalationStatus.ACTIVE:
            continue
        alarm = session.get(Alarm, esc.alarm_id)
        assert alarm is not None
        counts = _step_counts(session, esc)
        policy = machine.parse_policy(esc.policy, code=esc.policy_code)
        transition = machine.tick(
            policy,
            service.state_of(esc),
            now,
            delivered=counts["delivered"],
            undelivered=counts["undelivered"],
            outstanding=counts["outstanding"],
        )
        if transition.reason is None:
            continue
        service.apply_transition(
            session=session, alarm=alarm, esc=esc, transition=transition, now=now
        )
        if transition.fire is not None:
            report.steps_fired += 1


def _locked(session: Session, stmt: Select[Escalation]) -> Select[Escalation]:
    stmt = stmt.execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return stmt


def _step_counts(session: Session, esc: Escalation) -> dict[str, int]:
    rows = session.execute(
        select(Notification.status, func.count())
        .where(Notification.escalation_id == esc.id, Notification.step_seq == esc.fired)
        .group_by(Notification.status)
    ).all()
    counts = {"delivered": 0, "undelivered": 0, "outstanding": 0}
    for status, count in rows:
        if status == NotificationStatus.DELIVERED:
            counts["delivered"] += count
        elif status in UNDELIVERED:
            counts["undelivered"] += count
        else:
            counts["outstanding"] += count
    return counts


# --- receipts ------------------------------------------------------------------------------


def collect_receipts(
    *, session: Session, now: datetime, providers: ProviderRegistry, report: TickReport
) -> None:
    """Apply delivery receipts; a message with no receipt by its deadline is undelivered."""
    waiting = list(
        session.scalars(select(Notification).where(Notification.status == NotificationStatus.SENT))
    )
    by_channel: dict[str, list[Notification]] = {}
    for n in waiting:
        if n.provider_message_id:
            by_channel.setdefault(n.channel.value, []).append(n)
    for channel, rows in by_channel.items():
        try:
            provider = providers.for_channel(channel)
            receipts = provider.receipts(
                [n.provider_message_id for n in rows if n.provider_message_id],
                session=session,
                now=now,
            )
        except Exception as exc:  # a provider plugin must not stop the engine
            log.exception("receipts from %s failed", channel)
            report.errors.append(f"receipts {channel}: {exc}")
            continue
        index = {n.provider_message_id: n for n in rows}
        for receipt in receipts:
            got = index.get(receipt.provider_message_id)
            if got is not None and apply_receipt(got, receipt):
                if receipt.delivered:
                    report.delivered += 1
                else:
                    report.undelivered += 1
    for n in waiting:
        if (
            n.status == NotificationStatus.SENT
            and n.receipt_due_at is not None
            and n.receipt_due_at <= now
        ):
            n.status = NotificationStatus.UNDELIVERED
            n.failed_at = now
            n.last_error = "no delivery receipt in time"
            report.undelivered += 1
    session.flush()


def apply_receipt(n: Notification, receipt: Receipt) -> bool:
    """Apply one delivery receipt to a sent message; False if it is not waiting for one."""
    if n.status != NotificationStatus.SENT:
        return False
    if receipt.delivered:
        n.status = NotificationStatus.DELIVERED
        n.delivered_at = receipt.at
    else:
        n.status = NotificationStatus.UNDELIVERED
        n.failed_at = receipt.at
        n.last_error = receipt.error or "provider reported the message undelivered"
    return True


def receive_receipt(*, session: Session, channel: str, receipt: Receipt) -> Notification | None:
    """A receipt pushed by a gateway (the receipts endpoint): applied to the message it names."""
    n = session.scalar(
        select(Notification).where(
            Notification.channel == channel,
            Notification.provider_message_id == receipt.provider_message_id,
        )
    )
    if n is None:
        return None
    apply_receipt(n, receipt)
    session.flush()
    return n


# --- dispatcher ----------------------------------------------------------------------------


def claim_due(
    *, session: Session, now: datetime, config: DeliveryConfig, report: TickReport
) -> list[str]:
    """Claim due outbox rows: a new attempt row each, and a lease that covers the send.

    A row still `sending` whose lease ran out belongs to a dispatcher that died mid-send: its
    attempt is marked abandoned and the message is claimed again (same idempotency key).
    """
    stmt = (
        select(Notification)
        .where(
            Notification.status.in_((NotificationStatus.PENDING, NotificationStatus.SENDING)),
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(config.batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    claimed: list[str] = []
    for n in session.scalars(stmt):
        if n.status == NotificationStatus.SENDING:
            last = _attempt(session, n.id, n.attempts)
            if last is not None and last.status == "started":
                last.status = "abandoned"
                last.finished_at = now
                last.error = "the dispatcher stopped mid-send; retried with the same key"
        n.attempts += 1
        n.status = NotificationStatus.SENDING
        n.next_attempt_at = now + timedelta(seconds=config.lease_s)
        session.add(
            NotificationAttempt(
                notification_id=n.id,
                attempt_no=n.attempts,
                attempt_key=f"{n.idempotency_key}#{n.attempts}",
                provider=n.provider or "?",
                status="started",
                started_at=now,
            )
        )
        claimed.append(n.id)
    report.claimed += len(claimed)
    session.flush()
    return claimed


def _attempt(session: Session, notification_id: str, attempt_no: int) -> NotificationAttempt | None:
    return session.scalar(
        select(NotificationAttempt).where(
            NotificationAttempt.notification_id == notification_id,
            NotificationAttempt.attempt_no == attempt_no,
        )
    )


def _receipt_timeout(session: Session, n: Notification, config: DeliveryConfig) -> int:
    if n.escalation_id:
        esc = session.get(Escalation, n.escalation_id)
        if esc is not None:
            value = esc.policy.get("receipt_timeout_s")
            if isinstance(value, int):
                return value
    return config.default_receipt_timeout_s


def send_claimed(
    *,
    session: Session,
    notification_id: str,
    now: datetime,
    providers: ProviderRegistry,
    config: DeliveryConfig,
    rng: random.Random | None = None,
    report: TickReport | None = None,
) -> Notification | None:
    """Hand one claimed notification to its provider and record the outcome."""
    report = report or TickReport()
    n = session.get(Notification, notification_id)
    if n is None or n.status != NotificationStatus.SENDING:
        return n
    attempt = _attempt(session, n.id, n.attempts)
    message = OutboundMessage(
        idempotency_key=n.idempotency_key,
        attempt_key=f"{n.idempotency_key}#{n.attempts}",
        channel=n.channel.value,
        address=n.address,
        recipient_name=n.recipient_name,
        subject=n.subject,
        body=n.body,
    )
    try:
        provider = providers.for_channel(n.channel.value)
    except LookupError as exc:
        result = SendResult(accepted=False, error=str(exc), permanent=True)
        provider_name = "?"
    else:
        provider_name = provider.name
        try:
            result = provider.send(message, session=session, now=now)
        except Exception as exc:  # a provider plugin must not stop the engine
            log.exception("provider %s raised", provider_name)
            result = SendResult(accepted=False, error=f"{type(exc).__name__}: {exc}"[:500])
    n.provider = provider_name
    if attempt is not None:
        attempt.provider = provider_name
        attempt.finished_at = now
        attempt.status = "accepted" if result.accepted else "error"
        attempt.error = result.error
        attempt.provider_message_id = result.provider_message_id
    if result.accepted:
        n.provider_message_id = result.provider_message_id
        n.sent_at = now
        n.last_error = None
        n.next_attempt_at = None
        report.sent += 1
        if result.delivered:
            n.status = NotificationStatus.DELIVERED
            n.delivered_at = now
            report.delivered += 1
        else:
            n.status = NotificationStatus.SENT
            timeout = _receipt_timeout(session, n, config)
            n.receipt_due_at = now + timedelta(seconds=timeout)
    else:
        n.last_error = result.error
        if result.permanent or n.attempts >= config.max_attempts:
            n.status = NotificationStatus.FAILED
            n.failed_at = now
            n.next_attempt_at = None
            report.failed += 1
        else:
            draw = (rng or _rng).random()
            delay = machine.retry_delay(
                n.attempts, base_s=config.backoff_base_s, cap_s=config.backoff_max_s, jitter=draw
            )
            n.status = NotificationStatus.PENDING
            n.next_attempt_at = now + timedelta(seconds=delay)
            report.retried += 1
    session.flush()
    return n


_rng = random.Random()  # noqa: S311 - jitter, not security
