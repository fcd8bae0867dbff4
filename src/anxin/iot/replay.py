"""Replaying a dead letter after a fix: the same pipeline as its transport, once.

The readings it holds are claimed on (device, message id) like any others, so a replay that
races a device's own retry, or a second replay, stores nothing twice. A replay that fails
again leaves the row waiting, with the new reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from anxin.core.context import AppContext
from anxin.core.errors import Conflict, InvalidInput, NotFound
from anxin.iot import dead_letters, metrics, service
from anxin.iot.models import DeadLetter, Device
from anxin.iot.pipeline import BatchIngestor, RawMessage, describe


@dataclass(frozen=True)
class Replay:
    id: int
    replayed: bool
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    note: str = ""


def replay(*, context: AppContext, dead_letter_id: int, organisation_id: str | None) -> Replay:
    """Run dead letter `dead_letter_id` through its transport's pipeline again.

    `organisation_id` scopes the lookup (None: any row, for the operator's CLI). NotFound if
    the row is not there or not visible; Conflict if it was replayed already or its body was
    kept only in part.
    """
    with context.db.session_scope() as session:
        row = session.get(DeadLetter, dead_letter_id)
        if row is None or (organisation_id is not None and row.organisation_id != organisation_id):
            raise NotFound(f"no dead letter {dead_letter_id}")
        if row.replayed_at is not None:
            raise Conflict(f"dead letter {row.id} was replayed at {row.replayed_at.isoformat()}")
        if dead_letters.truncated(row):
            raise Conflict(
                f"dead letter {row.id} kept {len(row.body)} of its {row.size} bytes; "
                "it cannot be replayed"
            )
        letter = _Letter(row.id, row.transport, row.claimed_device, row.content_type, row.body)
    if letter.transport == "http":
        outcome = _replay_http(context, letter)
    elif letter.transport == dead_letters.EVENTS:
        outcome = _replay_event(context, letter)
    else:
        outcome = _replay_consumer(context, letter)
    _settle(context, letter.id, outcome)
    return outcome


@dataclass(frozen=True)
class _Letter:
    id: int
    transport: str
    claimed_device: str | None
    content_type: str | None
    body: bytes


def _replay_consumer(context: AppContext, letter: _Letter) -> Replay:
    settings = context.settings
    ingestor = BatchIngestor(
        context=context,
        transport=letter.transport,
        max_payload_bytes=settings.ingest_max_payload_bytes or settings.max_payload_bytes,
        max_items=settings.max_batch_items,
        limits=service.limits_from(settings),
    )
    result = ingestor.process(
        [RawMessage(letter.claimed_device, letter.body)], write_dead_letters=False
    )
    if result.dead:
        return Replay(letter.id, False, note=result.dead[0].reason)
    return Replay(
        letter.id,
        True,
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=result.rejected,
        note=f"accepted {result.accepted}, duplicates {result.duplicates}, "
        f"rejected {result.rejected}",
    )


def _replay_http(context: AppContext, letter: _Letter) -> Replay:
    try:
        with context.unit(actor="replay:http") as uow:
            device = (
                uow.session.get(Device, letter.claimed_device) if letter.claimed_device else None
            )
            if device is None:
                return Replay(letter.id, False, note="the device no longer exists")
            outcome = service.ingest(
                uow=uow,
                device=device,
                body=letter.body,
                content_type=letter.content_type or "application/json",
                now=uow.now(),
                max_items=context.settings.max_batch_items,
                limits=service.limits_from(context.settings),
            )
    except InvalidInput as exc:
        return Replay(letter.id, False, note=exc.message)
    except Exception as exc:  # the handler still fails: the row waits for the next fix
        return Replay(letter.id, False, note=describe(exc))
    return Replay(
        letter.id,
        True,
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        rejected=len(outcome.rejections),
        note=f"accepted {outcome.accepted}, duplicates {outcome.duplicates}, "
        f"rejected {len(outcome.rejections)}",
    )


def _replay_event(context: AppContext, letter: _Letter) -> Replay:
    from anxin.core.nats_bus import JetStreamBus, decode_event

    bus = context.bus
    if not isinstance(bus, JetStreamBus):
        return Replay(letter.id, False, note="events replay needs ANXIN_BUS_URL=nats://...")
    try:
        ran = bus.handle(decode_event(letter.body), context.unit)
    except Exception as exc:  # undecodable still, or the handler still fails
        return Replay(letter.id, False, note=describe(exc))
    return Replay(letter.id, True, note=f"{ran} handler(s) ran")


def _settle(context: AppContext, letter_id: int, outcome: Replay) -> None:
    with context.unit(actor="replay") as uow:
        now = uow.now()
        row = uow.session.get(DeadLetter, letter_id)
        if row is None:  # pragma: no cover - deleted by retention meanwhile
            return
        if outcome.replayed:
            row.replayed_at = now
            row.replay_note = outcome.note[:500]
            metrics.DEAD_LETTERS_REPLAYED.labels(row.transport).inc()
        else:
            row.replay_note = f"replay at {now.isoformat()} failed: {outcome.note}"[:500]
