"""The engine loop with a FrozenClock: escalation timing, undelivered messages, the watchdog,
retries with back-off, and restart survival of unsent notifications and of escalations."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anxin.alerts import flows, service
from anxin.alerts.models import (
    Alarm,
    LocalMessage,
    Notification,
    NotificationAttempt,
    NotificationStatus,
)
from anxin.alerts.providers import (
    LocalProvider,
    OutboundMessage,
    ProviderRegistry,
    Receipt,
    SendResult,
)
from anxin.app import create_app
from anxin.core.clock import FrozenClock
from anxin.people import service as people
from anxin.people.models import User

from .conftest import CHANNELS, load_alarm, local_registry, outbox, quiet_unit, sent_to, tick


def ack(context, clock, alarm_id, username="butler"):
    with quiet_unit(context) as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        service.acknowledge(
            uow=uow,
            principal=people.principal_of(user),
            alarm_id=alarm_id,
            note="handled",
            now=clock.now(),
        )


def test_first_step_goes_out_at_once(raise_fall, context, db, clock, providers):
    alarm_id = raise_fall()
    report = tick(context, clock, providers)
    assert report.claimed == 6 and report.sent == 6
    rows = outbox(db, alarm_id)
    console = [n for n in rows if n.channel.value == "console"]
    sms = [n for n in rows if n.channel.value == "sms"]
    assert all(n.status == NotificationStatus.DELIVERED for n in console)
    assert all(n.status == NotificationStatus.SENT and n.attempts == 1 for n in sms)
    tick(context, clock, providers, advance_s=2)  # the simulated receipts arrive
    assert all(n.status == NotificationStatus.DELIVERED for n in outbox(db, alarm_id))
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LocalMessage)) == 6


def test_unacknowledged_fall_calls_the_emergency_contact_then_the_team_lead(
    raise_fall, context, db, clock, providers
):
    alarm_id = raise_fall()
    tick(context, clock, providers)
    tick(context, clock, providers, advance_s=119)
    assert sent_to(outbox(db, alarm_id), "voice") == []
    tick(context, clock, providers, advance_s=1)  # 120 s: nobody acknowledged
    rows = outbox(db, alarm_id)
    assert sent_to(rows, "voice") == ["emergency_contact"]
    voice = next(n for n in rows if n.channel.value == "voice")
    assert voice.address == "+86 138 0000 1003" and voice.step_seq == 2
    assert voice.status == NotificationStatus.SENT
    tick(context, clock, providers, advance_s=119)
    assert "team_lead" not in sent_to(outbox(db, alarm_id), "voice")
    tick(context, clock, providers, advance_s=1)
    rows = outbox(db, alarm_id)
    assert sent_to(rows, "voice") == ["emergency_contact", "team_lead"]
    assert "team_lead" in sent_to(rows, "sms") and "team_lead" in sent_to(rows, "console")


def test_acknowledgement_stops_the_escalation(raise_fall, context, db, clock, providers):
    alarm_id = raise_fall()
    tick(context, clock, providers)
    tick(context, clock, providers, advance_s=30)
    ack(context, clock, alarm_id)
    for _ in range(5):
        tick(context, clock, providers, advance_s=120)
    rows = outbox(db, alarm_id)
    assert sent_to(rows, "voice") == []
    assert len(rows) == 6


def test_a_failed_sms_escalates_before_the_wait_is_over(raise_fall, context, db, clock):
    """Undelivered, not only unacknowledged: the receipt says failed → next step at once."""
    sms_fails = LocalProvider(receipt_delay_s=2, failure_rate=1.0)
    ok = LocalProvider(receipt_delay_s=2)
    providers = ProviderRegistry(by_channel={c: ok for c in CHANNELS} | {"sms": sms_fails})
    alarm_id = raise_fall()
    tick(context, clock, providers)
    assert sent_to(outbox(db, alarm_id), "voice") == []
    tick(context, clock, providers, advance_s=2)  # receipts: undelivered
    rows = outbox(db, alarm_id)
    assert {n.status for n in rows if n.channel.value == "sms"} == {NotificationStatus.UNDELIVERED}
    assert sent_to(rows, "voice") == ["emergency_contact"]  # 2 s in, not 120
    with db.session_scope() as session:
        steps = [
            e.data["reason"]
            for e in service.history(session=session, alarm=load_alarm(db, alarm_id))
            if e.action == "escalation_step"
        ]
    assert steps == ["start", "undelivered"]


class Silent:
    """Accepts every message and never sends a receipt."""

    name = "silent"

    def send(self, message: OutboundMessage, *, session: Session, now: datetime) -> SendResult:
        return SendResult(accepted=True, provider_message_id="s-" + message.idempotency_key)

    def receipts(self, ids, *, session: Session, now: datetime) -> list[Receipt]:
        return []


def test_no_receipt_in_time_is_undelivered_and_escalates(raise_fall, context, db, clock):
    providers = ProviderRegistry(
        by_channel={c: LocalProvider(receipt_delay_s=1) for c in CHANNELS} | {"sms": Silent()}
    )
    alarm_id = raise_fall()
    tick(context, clock, providers)
    tick(context, clock, providers, advance_s=59)
    assert sent_to(outbox(db, alarm_id), "voice") == []
    tick(context, clock, providers, advance_s=1)  # homecare_fall: receipt_timeout_s = 60
    rows = outbox(db, alarm_id)
    sms = [n for n in rows if n.channel.value == "sms"]
    assert {n.status for n in sms} == {NotificationStatus.UNDELIVERED}
    assert sms[0].last_error == "no delivery receipt in time"
    assert sent_to(rows, "voice") == ["emergency_contact"]


class Flaky:
    """Fails transiently `failures` times per message, then accepts; counts every call."""

    name = "flaky"

    def __init__(self, failures: int, *, permanent: bool = False) -> None:
        self.failures = failures
        self.permanent = permanent
        self.calls: list[str] = []

    def send(self, message: OutboundMessage, *, session: Session, now: datetime) -> SendResult:
        self.calls.append(message.attempt_key)
        tries = sum(1 for k in self.calls if k.startswith(message.idempotency_key + "#"))
        if tries <= self.failures:
            return SendResult(accepted=False, error="HTTP 503", permanent=self.permanent)
        return SendResult(
            accepted=True, provider_message_id="f-" + message.idempotency_key, delivered=True
        )

    def receipts(self, ids, *, session: Session, now: datetime) -> list[Receipt]:
        return []


def test_retries_back_off_exponentially_then_succeed(raise_fall, context, db, clock):
    flaky = Flaky(failures=3)
    providers = ProviderRegistry(
        by_channel={c: LocalProvider() for c in CHANNELS} | {"voice": flaky}
    )
    config = flows.DeliveryConfig(max_attempts=5, backoff_base_s=2, backoff_max_s=300)
    alarm_id = raise_fall(policy="test_voice_only")
    with db.session_scope() as session:
        # "default" fallback has no voice: hand-write one voice message into the outbox.
        first = session.scalars(
            select(Notification).where(Notification.alarm_id == alarm_id)
        ).first()
        assert first is not None
        voice = Notification(
            organisation_id=first.organisation_id,
            alarm_id=alarm_id,
            purpose="alert",
            channel="voice",
            recipient_role="emergency_contact",
            recipient_name="Li Wei",
            address="+86 1",
            subject="s",
            body="b",
            idempotency_key="ntf-voice-1",
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=clock.now(),
            created_at=clock.now(),
        )
        session.add(voice)
    rng = random.Random(7)
    waits = []
    for _ in range(3):
        with quiet_unit(context, actor="test:tick") as uow:
            session = uow.session
            flows.run_due(uow=uow, now=clock.now(), providers=providers, config=config, rng=rng)
            row = session.scalar(
                select(Notification).where(Notification.idempotency_key == "ntf-voice-1")
            )
            assert row is not None and row.status == NotificationStatus.PENDING
            assert row.next_attempt_at is not None
            waits.append((row.next_attempt_at - clock.now()).total_seconds())
            # Nothing before the back-off is over.
            assert (
                flows.run_due(uow=uow, now=clock.now(), providers=providers, config=config).claimed
                == 0
            )
        clock.set(clock.now() + (row.next_attempt_at - clock.now()))
    assert 1 <= waits[0] < 2 and 2 <= waits[1] < 4 and 4 <= waits[2] < 8
    tick(context, clock, providers, config=config)
    with db.session_scope() as session:
        row = session.scalar(
            select(Notification).where(Notification.idempotency_key == "ntf-voice-1")
        )
        assert row is not None and row.status == NotificationStatus.DELIVERED and row.attempts == 4
        attempts = session.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id == row.id)
            .order_by(NotificationAttempt.attempt_no)
        ).all()
        assert [a.status for a in attempts] == ["error", "error", "error", "accepted"]
        assert [a.attempt_key for a in attempts] == [f"ntf-voice-1#{i}" for i in range(1, 5)]
    assert len(flaky.calls) == 4


def test_out_of_attempts_fails_and_escalates(raise_fall, context, db, clock):
    flaky = Flaky(failures=99)
    providers = ProviderRegistry(by_channel={c: LocalProvider() for c in CHANNELS} | {"sms": flaky})
    config = flows.DeliveryConfig(max_attempts=3, backoff_base_s=1, backoff_max_s=4)
    alarm_id = raise_fall()
    for _ in range(4):
        tick(context, clock, providers, advance_s=4, config=config)
    rows = outbox(db, alarm_id)
    sms = [n for n in rows if n.channel.value == "sms" and n.step_seq == 1]
    assert {n.status for n in sms} == {NotificationStatus.FAILED} and {n.attempts for n in sms} == {
        3
    }
    assert sent_to(rows, "voice") == ["emergency_contact"]  # well before 120 s


def test_a_permanent_refusal_is_not_retried(raise_fall, context, db, clock):
    flaky = Flaky(failures=99, permanent=True)
    providers = ProviderRegistry(by_channel={c: LocalProvider() for c in CHANNELS} | {"sms": flaky})
    alarm_id = raise_fall()
    tick(context, clock, providers)
    sms = [n for n in outbox(db, alarm_id) if n.channel.value == "sms"]
    assert {(n.status, n.attempts) for n in sms} == {(NotificationStatus.FAILED, 1)}


def test_the_watchdog_raises_an_alarm_when_a_step_is_overdue(
    raise_fall, context, db, clock, providers
):
    alarm_id = raise_fall()
    tick(context, clock, providers)
    # The engine is down for five minutes: the 120 s step is 180 s late.
    report = tick(context, clock, providers, advance_s=300)
    assert report.watchdog_alarms == 1
    with db.session_scope() as session:
        dog = session.scalar(select(Alarm).where(Alarm.source_kind == "alerts"))
        assert dog is not None
        assert dog.alarm_type == "escalation_overdue" and dog.source_id == alarm_id
        assert dog.owner_kind == "household" and dog.details["late_by_s"] == 180
        assert dog.severity.value == "major"
    rows = outbox(db)
    dog_rows = [n for n in rows if n.alarm_id == dog.id]
    assert sorted({n.recipient_role for n in dog_rows}) == ["butler", "team_lead"]
    # The late step still fires, once.
    assert sent_to(outbox(db, alarm_id), "voice") == ["emergency_contact"]
    assert tick(context, clock, providers, advance_s=1).watchdog_alarms == 0
    with db.session_scope() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Alarm).where(Alarm.source_kind == "alerts")
            )
            == 1
        )


def test_nothing_is_lost_if_the_process_dies_before_the_send(raise_fall, settings, db, clock):
    alarm_id = raise_fall()  # committed: alarm + outbox rows, nothing sent yet
    db.dispose()  # the process dies
    fresh_clock = FrozenClock(clock.now())
    app = create_app(settings, clock=fresh_clock)
    restarted = app.state.context
    new_db = restarted.db
    try:
        report = tick(restarted, fresh_clock, local_registry())
        assert report.sent == 6
        with new_db.session_scope() as session:
            keys = set(session.scalars(select(LocalMessage.idempotency_key)))
        assert keys == {n.idempotency_key for n in outbox(new_db, alarm_id)}
    finally:
        new_db.dispose()


def test_a_dispatcher_that_dies_mid_send_is_recovered_without_duplicates(
    raise_fall, settings, db, clock
):
    alarm_id = raise_fall()
    providers = local_registry()
    config = flows.DeliveryConfig(lease_s=60)
    with db.session_scope() as session:  # the claim commits ...
        claimed = flows.claim_due(
            session=session, now=clock.now(), config=config, report=flows.TickReport()
        )
    assert len(claimed) == 6
    with db.session_scope() as session:  # ... one message is handed over and recorded ...
        flows.send_claimed(
            session=session,
            notification_id=claimed[0],
            now=clock.now(),
            providers=providers,
            config=config,
        )
    try:  # ... and the process dies while handing over the second
        with db.session_scope() as session:
            provider = providers.for_channel("sms")
            n = session.get(
                __import__("anxin.alerts.models", fromlist=["Notification"]).Notification,
                claimed[1],
            )
            provider.send(
                OutboundMessage(
                    n.idempotency_key,
                    "x",
                    n.channel.value,
                    n.address,
                    n.recipient_name,
                    n.subject,
                    n.body,
                ),
                session=session,
                now=clock.now(),
            )
            raise SystemExit("killed")
    except SystemExit:
        pass
    db.dispose()
    fresh_clock = FrozenClock(clock.now())
    app = create_app(settings, clock=fresh_clock)
    restarted = app.state.context
    new_db = restarted.db
    try:
        assert tick(restarted, fresh_clock, providers, advance_s=30).claimed == 0  # the lease holds
        report = tick(restarted, fresh_clock, providers, advance_s=31, config=config)
        assert report.claimed == 5 and report.sent == 5
        rows = outbox(new_db, alarm_id)
        assert all(
            n.status in (NotificationStatus.SENT, NotificationStatus.DELIVERED) for n in rows
        )
        with new_db.session_scope() as session:
            per_key = session.execute(
                select(LocalMessage.idempotency_key, func.count()).group_by(
                    LocalMessage.idempotency_key
                )
            ).all()
            assert len(per_key) == 6 and {c for _, c in per_key} == {1}
            attempts = session.scalars(
                select(NotificationAttempt)
                .where(NotificationAttempt.notification_id == claimed[1])
                .order_by(NotificationAttempt.attempt_no)
            ).all()
            assert [a.status for a in attempts] == ["abandoned", "accepted"]
    finally:
        new_db.dispose()


def test_an_escalation_survives_a_restart(raise_fall, context, settings, db, clock):
    alarm_id = raise_fall()
    tick(context, clock, local_registry())
    db.dispose()
    fresh_clock = FrozenClock(clock.now())
    app = create_app(settings, clock=fresh_clock)
    restarted = app.state.context
    new_db = restarted.db
    try:
        tick(restarted, fresh_clock, local_registry(), advance_s=121)
        assert sent_to(outbox(new_db, alarm_id), "voice") == ["emergency_contact"]
    finally:
        new_db.dispose()
