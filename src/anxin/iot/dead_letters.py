"""The dead-letter store: messages no transport could process, kept bounded and replayable.

A consumer that meets a message it cannot process (not JSON, nested too deep, not UTF-8, too
large, no valid token, or a handler that raised on it) writes it here and then acknowledges
it, so one bad message never blocks the ones behind it and is never lost either. Keyword-only;
flush, never commit (the caller's unit of work decides).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.core.context import AppContext
from anxin.core.errors import InvalidInput
from anxin.iot import metrics
from anxin.iot.models import DeadLetter, Device

# The first 64 KiB of a body are kept: enough to read and replay any sane telemetry message,
# while a flood of 1 MB blobs costs 64 KiB a distinct body (repeats are one row).
MAX_BODY_BYTES = 65_536
PREVIEW_BYTES = 2048
EVENTS = "events"  # the transport name of the JetStream event consumers
# Envelopes over MQTT and NATS carry the device token: never shown back, even to an admin.
_TOKEN = re.compile(rb'("token"\s*:\s*)"(?:[^"\\]|\\.)*"')
_UNPRINTABLE = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]")


@dataclass(frozen=True)
class Draft:
    """A dead letter about to be written (built by a consumer, written in its unit of work)."""

    transport: str
    reason_code: str
    reason: str
    body: bytes
    claimed_device: str | None = None
    device_id: str | None = None
    organisation_id: str | None = None
    content_type: str | None = None


def record(
    *, session: Session, drafts: Sequence[Draft], now: datetime, max_body: int = MAX_BODY_BYTES
) -> list[int]:
    """Write the drafts; a body already waiting (same transport, claimed device and SHA-256,
    not replayed) is counted on its row instead. Returns the row ids, in order."""
    ids: list[int] = []
    for draft in drafts:
        digest = hashlib.sha256(draft.body).hexdigest()
        claimed = draft.claimed_device[:200] if draft.claimed_device else None
        reason = draft.reason[:500]
        row = session.scalar(
            select(DeadLetter)
            .where(
                DeadLetter.sha256 == digest,
                DeadLetter.transport == draft.transport,
                DeadLetter.claimed_device.is_(None)
                if claimed is None
                else DeadLetter.claimed_device == claimed,
                DeadLetter.replayed_at.is_(None),
            )
            .limit(1)
        )
        if row is None:
            row = DeadLetter(
                transport=draft.transport,
                reason_code=draft.reason_code,
                reason=reason,
                claimed_device=claimed,
                device_id=draft.device_id,
                organisation_id=draft.organisation_id,
                content_type=draft.content_type[:100] if draft.content_type else None,
                body=draft.body[:max_body],
                size=len(draft.body),
                sha256=digest,
                first_at=now,
                last_at=now,
                occurrences=1,
            )
            session.add(row)
        else:
            row.occurrences += 1
            row.last_at = now
            row.reason_code, row.reason = draft.reason_code, reason
        session.flush()
        ids.append(row.id)
        metrics.DEAD_LETTERS.labels(draft.transport, draft.reason_code).inc()
    return ids


def truncated(row: DeadLetter) -> bool:
    return len(row.body) < row.size


def preview(body: bytes, limit: int = PREVIEW_BYTES) -> str:
    """The start of a body as readable text, with any device token masked."""
    masked = _TOKEN.sub(rb'\1"***"', body[:limit])
    text = masked.decode("utf-8", errors="replace")
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def list_dead_letters(
    *,
    session: Session,
    organisation_id: str | None,
    limit: int = 50,
    before: int | None = None,
    pending_only: bool = False,
) -> tuple[list[DeadLetter], int | None]:
    """Newest first; `organisation_id=None` lists every row (the operator's CLI). Returns the
    page and the id to pass as `before` for the next page (None when there is none)."""
    if not 1 <= limit <= 1000:
        raise InvalidInput.field("limit", "must be between 1 and 1000")
    stmt = select(DeadLetter)
    if organisation_id is not None:
        stmt = stmt.where(DeadLetter.organisation_id == organisation_id)
    if before is not None:
        stmt = stmt.where(DeadLetter.id < before)
    if pending_only:
        stmt = stmt.where(DeadLetter.replayed_at.is_(None))
    rows = list(session.scalars(stmt.order_by(DeadLetter.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def event_sink(context: AppContext) -> Callable[[str, str, bytes], None]:
    """The store as the JetStream event consumers' dead-letter sink (`core.nats_bus`)."""

    def write(code: str, reason: str, body: bytes) -> None:
        with context.unit(actor="bus:dead-letters") as uow:
            session = uow.session
            device = _event_device(session, body)
            draft = Draft(
                transport=EVENTS,
                reason_code=code,
                reason=reason,
                body=body,
                device_id=device.id if device else None,
                organisation_id=device.organisation_id if device else None,
            )
            record(session=session, drafts=[draft], now=uow.now())

    return write


def _event_device(session: Session, body: bytes) -> Device | None:
    """The device an event is about, if it names one that exists (it scopes the admin list)."""
    try:
        payload = json.loads(body)["payload"]
        device_id = payload["device_id"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return session.get(Device, device_id) if isinstance(device_id, str) else None
